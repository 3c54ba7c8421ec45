export { FormatError, type FormatErrorCode } from './errors.js';
export { EVENT_COLUMNS, FORMAT_VERSION, type EventColumnName } from './schema.js';
export type {
  EndMeta,
  EventColumns,
  IfaceInfo,
  KallsymsTable,
  NetnsInfo,
  ProbeInfo,
  Recording,
  RecordingTables,
  StacksTable,
  StartMeta,
} from './types.js';
export { RecordingWriter, writeRecording, type WriterOptions } from './writer.js';
export type { Lz4FrameEncoder } from './codec.js';
export { openRecording } from './reader.js';
export {
  openRecordingFile,
  ReadBuffers,
  type ColumnArray,
  type EventBatch,
  type FixedColumnName,
  type HeaderBytes,
  type RecordingFile,
} from './recordingfile.js';
