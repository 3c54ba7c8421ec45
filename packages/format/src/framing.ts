// Walks the Arrow IPC stream framing of a file that holds several streams back to back:
// each message is 0xFFFFFFFF, int32 metadata length, flatbuffer Message (metadata), body
// of Message.bodyLength bytes; a zero metadata length is a stream's end-of-stream marker.
// The walk stops at the first incomplete or unrecognizable message, which is how a
// truncated recording is cut back to its last complete message.
import { CompressionType, Message, MessageHeader, Schema } from 'apache-arrow';

export interface IpcStreamSpan {
  schema: Schema;
  /** offset of the stream's schema message */
  start: number;
  /** offset just past its last complete message (the end-of-stream marker when ended) */
  end: number;
  /** the end-of-stream marker was seen */
  ended: boolean;
  /** a compression codec other than LZ4_FRAME that one of its batches uses (skbtrail reads none) */
  foreignCodec: CompressionType | null;
}

export interface IpcScan {
  streams: IpcStreamSpan[];
  /** offset of the first byte not read: the file size when every byte was read */
  stoppedAt: number;
  /** partial: the file ends inside a message; garbage: bytes that are no IPC message */
  stop: 'end-of-file' | 'partial' | 'garbage';
}

const CONTINUATION = -1;
/** larger metadata lengths mean the bytes are not IPC framing */
const MAX_METADATA_BYTES = 1 << 28;

function decodeMessage(metadata: Uint8Array): Message | null {
  try {
    const message = Message.decode(metadata);
    if (!Number.isSafeInteger(message.bodyLength) || message.bodyLength < 0) return null;
    return message;
  } catch {
    return null;
  }
}

function decodeSchema(message: Message): Schema | null {
  if (message.headerType !== MessageHeader.Schema) return null;
  try {
    return message.header() as Schema;
  } catch {
    return null;
  }
}

/** The body compression codec of a (dictionary) batch message; null when uncompressed. */
function codecOf(message: Message): CompressionType | null {
  try {
    if (message.isRecordBatch()) return message.header().compression?.type ?? null;
    if (message.isDictionaryBatch()) return message.header().data.compression?.type ?? null;
  } catch {
    // a malformed header: the Arrow reader says so when it reads the batch
  }
  return null;
}

export function scanIpcStreams(bytes: Uint8Array): IpcScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const streams: IpcStreamSpan[] = [];
  let current: IpcStreamSpan | null = null;
  let at = 0;
  const stopped = (stop: IpcScan['stop']): IpcScan => ({ streams, stoppedAt: at, stop });

  while (at < bytes.byteLength) {
    if (at + 8 > bytes.byteLength) return stopped('partial');
    if (view.getInt32(at, true) !== CONTINUATION) return stopped('garbage');
    const metadataLength = view.getInt32(at + 4, true);
    if (metadataLength === 0) {
      if (current === null) return stopped('garbage');
      at += 8;
      current.end = at;
      current.ended = true;
      current = null;
      continue;
    }
    if (metadataLength < 0 || metadataLength > MAX_METADATA_BYTES) return stopped('garbage');
    const bodyStart = at + 8 + metadataLength;
    if (bodyStart > bytes.byteLength) return stopped('partial');
    const message = decodeMessage(bytes.subarray(at + 8, bodyStart));
    if (message === null) return stopped('garbage');
    const next = bodyStart + message.bodyLength;
    if (current === null) {
      const schema = decodeSchema(message);
      if (schema === null) return stopped('garbage');
      if (next > bytes.byteLength) return stopped('partial');
      current = { schema, start: at, end: next, ended: false, foreignCodec: null };
      streams.push(current);
    } else {
      if (message.headerType === MessageHeader.Schema) return stopped('garbage');
      if (next > bytes.byteLength) return stopped('partial');
      current.end = next;
      const codec = codecOf(message);
      if (codec !== null && codec !== CompressionType.LZ4_FRAME) current.foreignCodec ??= codec;
    }
    at = next;
  }
  return stopped('end-of-file');
}
