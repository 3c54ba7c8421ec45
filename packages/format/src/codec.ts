// Arrow's IPC layer compresses and decompresses bodies through a process-wide registry of codecs.
// skbtrail registers LZ4_FRAME: decoding with the TypeScript decoder (lz4.ts), encoding with the
// encoder the writer's caller supplies (the recorder's comes from the native addon: this package
// stays free of native code).
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decodeLz4FrameToNew } from './lz4.js';

/** Compresses bytes into one LZ4 frame (LZ4 Frame Format), e.g. @skbtrail/native's lz4Frame. */
export type Lz4FrameEncoder = (data: Uint8Array) => Uint8Array;

/** Lets Arrow's readers decode LZ4_FRAME-compressed batches (keeps an encoder already registered). */
export function registerLz4Decoder(): void {
  const current = compressionRegistry.get(CompressionType.LZ4_FRAME);
  if (current?.decode !== decodeLz4FrameToNew) compressionRegistry.set(CompressionType.LZ4_FRAME, { encode: current?.encode, decode: decodeLz4FrameToNew });
}

/**
 * Lets Arrow's writers compress with `encode`. The registry is process-wide: the last encoder
 * registered serves every writer (any LZ4 frame encoder writes a valid file).
 */
export function registerLz4Encoder(encode: Lz4FrameEncoder): void {
  if (compressionRegistry.get(CompressionType.LZ4_FRAME)?.encode === encode) return;
  compressionRegistry.set(CompressionType.LZ4_FRAME, { encode, decode: decodeLz4FrameToNew });
}
