import { AsyncByteQueue, CompressionType, RecordBatch, RecordBatchStreamWriter, Schema } from 'apache-arrow';

/**
 * The IPC writer's sink. AsyncByteQueue.toUint8Array(true) returns everything written so far
 * and never drains, so this sink keeps its own chunk list and hands it out once per take().
 */
class ChunkCollector extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }

  /** The chunks written since the last take(): message headers, padding and views of column buffers. */
  take(): Uint8Array[] {
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }
}

/**
 * apache-arrow 21's writer puts each compressed buffer's compressed length where the IPC format
 * wants its uncompressed length (fixed upstream in arrow-js #470): its own reader ignores the
 * prefix, Arrow C++ (pyarrow, polars) and skbtrail's on-demand reader check it. This writer
 * puts the uncompressed length back; a test checks every prefix of a written file.
 */
class CompressingStreamWriter extends RecordBatchStreamWriter {
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]): ReturnType<RecordBatchStreamWriter['_compressBodyBuffers']> {
    const out = super._compressBodyBuffers(buffers);
    buffers.forEach((buffer, i) => {
      const prefix = out.buffers[2 * i]; // per input buffer: its length prefix (none when empty), then its bytes
      if (prefix.byteLength !== 8) return;
      const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
      if (view.getBigInt64(0, true) !== -1n) view.setBigInt64(0, BigInt(buffer.byteLength), true); // -1: stored uncompressed
    });
    return out;
  }
}

/**
 * An Arrow IPC stream encoded piece by piece: each call returns exactly the new bytes, as chunks.
 * lz4: batches and dictionaries are LZ4_FRAME body-compressed (an encoder must be registered, codec.ts).
 */
export class IpcStreamEncoder {
  private readonly sink = new ChunkCollector();
  private readonly writer: RecordBatchStreamWriter;

  constructor(
    private readonly schema: Schema,
    lz4 = false,
  ) {
    this.writer = lz4 ? new CompressingStreamWriter({ compressionType: CompressionType.LZ4_FRAME }) : new RecordBatchStreamWriter();
  }

  /** The schema message that opens the stream. */
  start(): Uint8Array[] {
    this.writer.reset(this.sink, this.schema);
    return this.sink.take();
  }

  /** The batch's message, preceded by a dictionary message for each dictionary that changed. */
  write(batch: RecordBatch): Uint8Array[] {
    this.writer.write(batch);
    return this.sink.take();
  }

  /** The end-of-stream marker. */
  end(): Uint8Array[] {
    this.writer.close();
    return this.sink.take();
  }
}

/** A whole stream: schema, batches, end-of-stream marker. */
export function encodeStream(schema: Schema, batches: RecordBatch[]): Uint8Array[] {
  const encoder = new IpcStreamEncoder(schema);
  return [...encoder.start(), ...batches.flatMap((b) => encoder.write(b)), ...encoder.end()];
}
