import { AsyncByteQueue, RecordBatch, RecordBatchStreamWriter, Schema } from 'apache-arrow';

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

/** An Arrow IPC stream encoded piece by piece: each call returns exactly the new bytes, as chunks. */
export class IpcStreamEncoder {
  private readonly sink = new ChunkCollector();
  private readonly writer = new RecordBatchStreamWriter();

  constructor(private readonly schema: Schema) {}

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
