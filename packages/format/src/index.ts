// @skbtrail/format: the on-demand reader (./file.js), plus the writer and the Arrow-based reader.
export * from './file.js';
export type { EventColumns, Recording, RecordingTables, StacksTable } from './types.js';
export { RecordingWriter, writeRecording, type WriterOptions } from './writer.js';
export type { Lz4FrameEncoder } from './codec.js';
export { openRecording } from './reader.js';
