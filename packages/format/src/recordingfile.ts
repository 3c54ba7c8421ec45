// A recording opened for reading on demand. The IPC framing is walked with positioned reads
// (message metadata only); each events batch keeps its body's file offset and buffer regions,
// and a column is read only when asked for, into a buffer the caller reuses. A 10-million-event
// recording is ~1.3 GB, two thirds of it header bytes: a query that needs three fixed-width
// columns reads ~200 MB, into memory that is already mapped (on the reference VM, faulting in
// fresh memory costs ~3 s/GB, while reading the page cache into a warm buffer runs at ~10 GB/s).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { COMM_DICTIONARY_ID, EVENT_COLUMNS, type EventColumnName, META_KEY, RETVAL_COLUMN } from './constants.js';
import { FormatError } from './errors.js';
import {
  CODEC,
  COMPRESSION_METHOD_BUFFER,
  type IpcField,
  type IpcMessage,
  type IpcRecordBatch,
  type IpcSchema,
  type IpcType,
  TYPE,
  decodeMessage,
} from './flatmessage.js';
import { decodeLz4Frame, decodeLz4FrameToNew, lz4FrameDecodedBound } from './lz4.js';
import { checkEventsSchema, noStreamError, parseJson, tablesByName, truncationWarning, unsupportedCompression } from './readshared.js';
import type { EndMeta, KallsymsTable, StartMeta } from './types.js';

/**
 * Events columns read as plain arrays; comm and func give their dictionary indices. retval is
 * optional (fexit recordings): a file without it reads as zeros.
 */
export type FixedColumnName = Exclude<EventColumnName, 'headers'> | typeof RETVAL_COLUMN;
export type ColumnArray = BigUint64Array | BigInt64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array;

type ArrayCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): ColumnArray; BYTES_PER_ELEMENT: number };

const COLUMN_ARRAYS: Record<FixedColumnName, ArrayCtor> = {
  ts: BigUint64Array,
  cpu: Uint16Array,
  pid: Uint32Array,
  comm: Int32Array,
  skb: BigUint64Array,
  func: Uint16Array,
  netns: Uint32Array,
  ifindex: Uint32Array,
  mark: Uint32Array,
  len: Uint32Array,
  mtu: Uint32Array,
  protocol: Uint16Array,
  pkt_type: Uint8Array,
  reason: Uint32Array,
  location: BigUint64Array,
  stack_id: Int32Array,
  has_mac: Uint8Array,
  net_off: Uint16Array,
  trans_off: Uint16Array,
  retval: BigInt64Array,
};

/** The captured header bytes of one batch: Arrow Binary offsets (rows + 1) and values. */
export interface HeaderBytes {
  offsets: Int32Array;
  bytes: Uint8Array;
}

export interface EventBatch {
  readonly rows: number;
  /** events in the batches before this one */
  readonly firstRow: number;
}

/**
 * Growable scratch memory, one buffer per key, handed out again and again: a caller that
 * reads batch after batch touches fresh memory once. A view returned for a key is valid
 * until the next read with the same key.
 */
export class ReadBuffers {
  private readonly buffers = new Map<string, ArrayBuffer>();

  get(key: string, bytes: number): ArrayBuffer {
    let buffer = this.buffers.get(key);
    if (buffer === undefined || buffer.byteLength < bytes) {
      buffer = new ArrayBuffer(Math.max(8, Math.ceil(bytes * 1.25), buffer ? buffer.byteLength : 0));
      this.buffers.set(key, buffer);
    }
    return buffer;
  }
}

/** A recording whose events stay in the file until a column is asked for. */
export interface RecordingFile {
  path: string;
  version: string;
  meta: StartMeta;
  end: EndMeta | null;
  complete: boolean;
  warnings: string[];
  schema: IpcSchema;
  /** file size, bytes */
  size: number;
  /** events in the complete batches */
  events: number;
  batches: readonly EventBatch[];
  /** the comm dictionary (the last one the file wrote: names are only appended) */
  comms: readonly string[];
  kallsyms: KallsymsTable | null;
  stacks: Map<number, bigint[]> | null;
  /** one column of one batch, in memory from `buffers` (key: the column name) */
  readColumn(batch: number, column: FixedColumnName, buffers: ReadBuffers): ColumnArray;
  /** the header bytes of one batch, in memory from `buffers` (keys: headers.offsets, headers.bytes) */
  readHeaders(batch: number, buffers: ReadBuffers): HeaderBytes;
  close(): void;
}

// --- the file ------------------------------------------------------------------------------

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new FormatError('NOT_FOUND', `${path}: no such file`, { cause: err });
    throw new FormatError('UNREADABLE', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Positioned reads that either fill the target or say why not. */
class FileReader {
  readonly size: number;

  constructor(
    readonly path: string,
    readonly fd: number,
  ) {
    this.size = fstatSync(fd).size;
  }

  /** Bytes [at, at + target.byteLength) of the file into target; fewer only at the end of the file. */
  readInto(target: Uint8Array, at: number): number {
    let done = 0;
    try {
      while (done < target.byteLength) {
        const n = readSync(this.fd, target, done, target.byteLength - done, at + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw new FormatError('UNREADABLE', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    return done;
  }

  /** Exactly length bytes at `at` (a fresh buffer) — for metadata and small tables. */
  read(at: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    if (this.readInto(bytes, at) !== length) throw this.shrank();
    return bytes;
  }

  shrank(): FormatError {
    return new FormatError('UNREADABLE', `${this.path} got shorter while it was being read`);
  }
}

// --- the framing walk ----------------------------------------------------------------------

const CONTINUATION = -1;
const MAX_METADATA_BYTES = 1 << 28;
const READ_AHEAD = 64 * 1024;

interface StreamSpan {
  schema: IpcSchema;
  start: number;
  end: number;
  ended: boolean;
  /** the stream's complete record batch messages (kept for the small tables) */
  batches: { batch: IpcRecordBatch; body: number; bodyLength: number }[];
}

interface Walk {
  streams: StreamSpan[];
  stoppedAt: number;
  stop: 'end-of-file' | 'partial' | 'garbage';
}

/**
 * The streams of the file, as scanIpcStreams (framing.ts) finds them in memory, but reading
 * only message metadata. onFirstSchema sees the first stream's schema, then onMessage every
 * complete message of that stream; later streams keep their record batches' places.
 */
function walkFile(file: FileReader, onMessage: (message: IpcMessage, body: number) => void, onFirstSchema: (schema: IpcSchema) => void): Walk {
  const streams: StreamSpan[] = [];
  let current: StreamSpan | null = null;
  let at = 0;
  const size = file.size;
  const ahead = new Uint8Array(READ_AHEAD);
  const view = new DataView(ahead.buffer);
  const stopped = (stop: Walk['stop']): Walk => ({ streams, stoppedAt: at, stop });

  while (at < size) {
    if (at + 8 > size) return stopped('partial');
    const got = file.readInto(ahead, at);
    if (got < 8) throw file.shrank();
    if (view.getInt32(0, true) !== CONTINUATION) return stopped('garbage');
    const metadataLength = view.getInt32(4, true);
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
    if (bodyStart > size) return stopped('partial');
    const metadata = 8 + metadataLength <= got ? ahead.subarray(8, 8 + metadataLength) : file.read(at + 8, metadataLength);
    const message = decodeMessage(metadata);
    if (message === null) return stopped('garbage');
    const next = bodyStart + message.bodyLength;
    if (current === null) {
      if (!message.schema) return stopped('garbage');
      if (next > size) return stopped('partial');
      current = { schema: message.schema, start: at, end: next, ended: false, batches: [] };
      streams.push(current);
      if (streams.length === 1) onFirstSchema(message.schema);
    } else {
      if (message.schema) return stopped('garbage');
      if (next > size) return stopped('partial');
      current.end = next;
      if (streams.length === 1) onMessage(message, bodyStart);
      else if (message.recordBatch) current.batches.push({ batch: message.recordBatch, body: bodyStart, bodyLength: message.bodyLength });
    }
    at = next;
  }
  return stopped('end-of-file');
}

// --- where each column's buffers are -------------------------------------------------------

/** Nodes and buffers a field occupies in an IPC record batch (Arrow columnar format, v5). */
function layoutOf(field: IpcField): { nodes: number; buffers: number } {
  const sum = (base: { nodes: number; buffers: number }) =>
    field.children.map(layoutOf).reduce((acc, c) => ({ nodes: acc.nodes + c.nodes, buffers: acc.buffers + c.buffers }), base);
  if (field.dictionaryId !== null) return { nodes: 1, buffers: 2 };
  const type: IpcType = field.type;
  switch (type.id) {
    case TYPE.Null:
      return { nodes: 1, buffers: 0 };
    case TYPE.Utf8:
    case TYPE.Binary:
    case TYPE.LargeUtf8:
    case TYPE.LargeBinary:
      return { nodes: 1, buffers: 3 };
    case TYPE.List:
    case TYPE.LargeList:
    case TYPE.Map:
      return sum({ nodes: 1, buffers: 2 });
    case TYPE.FixedSizeList:
    case TYPE.Struct:
      return sum({ nodes: 1, buffers: 1 });
    case TYPE.Union:
      return sum({ nodes: 1, buffers: type.mode === 1 ? 2 : 1 });
    default:
      return { nodes: 1, buffers: 2 };
  }
}

interface ColumnPlace {
  node: number;
  /** index of the field's first buffer (its validity bitmap) */
  first: number;
}

/** Where each top-level field's node and buffers are, by name. */
function fieldPlaces(schema: IpcSchema): Map<string, ColumnPlace> {
  const places = new Map<string, ColumnPlace>();
  let node = 0;
  let buffer = 0;
  for (const field of schema.fields) {
    places.set(field.name, { node, first: buffer });
    const layout = layoutOf(field);
    node += layout.nodes;
    buffer += layout.buffers;
  }
  return places;
}

// --- events batches --------------------------------------------------------------------------

interface BatchPlace extends EventBatch {
  /** file offset of the message body */
  body: number;
  /** offset, length of each buffer of the batch, relative to the body */
  regions: Float64Array;
  /** LZ4_FRAME body compression: each region is a length prefix and a frame */
  compressed: boolean;
}

function damaged(path: string, what: string, table = 'events'): FormatError {
  return new FormatError('CORRUPT', `${path}: ${table} table is damaged: ${what}`);
}

/** Bytes before each compressed buffer: its uncompressed length, int64 little-endian. */
const LENGTH_PREFIX = 8;
/** The prefix's value for a buffer stored uncompressed (compressing it did not pay). */
const STORED = -1;
/** The ReadBuffers key of the compressed bytes (no column's name has a space). */
const COMPRESSED_KEY = 'lz4 frames';

/** A compressed buffer's length prefix (an int64 read as a double: exact up to 2^53). */
function lengthPrefix(bytes: Uint8Array): number {
  const low = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  const high = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  return high * 0x100000000 + low;
}

/**
 * The buffer regions of a batch, each checked to lie inside its body (and, compressed, to
 * hold at least its length prefix). Only LZ4_FRAME compression is read.
 */
function regionsOf(path: string, batch: IpcRecordBatch, bodyLength: number, table: string): Float64Array {
  const { compression } = batch;
  if (compression !== null && compression.codec !== CODEC.LZ4_FRAME) throw unsupportedCompression(path, table, compression.codec);
  if (compression !== null && compression.method !== COMPRESSION_METHOD_BUFFER) {
    throw damaged(path, `unknown body compression method ${compression.method}`, table);
  }
  const least = compression === null ? 0 : LENGTH_PREFIX;
  const regions = new Float64Array(batch.buffers.length * 2);
  batch.buffers.forEach((b, i) => {
    if (!(b.offset >= 0 && b.length >= 0 && b.offset + b.length <= bodyLength)) throw damaged(path, `buffer ${i} lies outside its batch`, table);
    if (b.length > 0 && b.length < least) throw damaged(path, `compressed buffer ${i} is shorter than its length prefix`, table);
    regions[2 * i] = b.offset;
    regions[2 * i + 1] = b.length;
  });
  return regions;
}

/**
 * An events batch's place, checked against what reading its columns relies on (a compressed
 * column's length is checked when it is read: only its length prefix knows it).
 */
function batchPlace(path: string, batch: IpcRecordBatch, body: number, bodyLength: number, places: Map<string, ColumnPlace>, firstRow: number): BatchPlace {
  const rows = batch.length;
  if (!Number.isSafeInteger(rows) || rows < 0) throw damaged(path, `a batch claims ${rows} rows`);
  const regions = regionsOf(path, batch, bodyLength, 'events');
  const columns: (EventColumnName | typeof RETVAL_COLUMN)[] = [...EVENT_COLUMNS, ...(places.has(RETVAL_COLUMN) ? [RETVAL_COLUMN] : [])];
  for (const name of columns) {
    const place = places.get(name) as ColumnPlace;
    const node = batch.nodes[place.node];
    if (!node || node.length !== rows) throw damaged(path, `column ${name} has a different length than its batch`);
    if (node.nullCount !== 0) throw damaged(path, `column ${name} has nulls`);
    const values = place.first + 1;
    const need = name === 'headers' ? (rows + 1) * 4 : rows * COLUMN_ARRAYS[name].BYTES_PER_ELEMENT;
    if (values + (name === 'headers' ? 1 : 0) >= batch.buffers.length || (batch.compression === null && regions[2 * values + 1] < need)) {
      throw damaged(path, `column ${name} is shorter than its batch`);
    }
  }
  return { rows, firstRow, body, regions, compressed: batch.compression !== null };
}

/**
 * Buffer `index` of a batch whose body starts at `body`, decompressed when the batch is (a
 * fresh buffer at offset 0: typed arrays can view it). For the small tables and dictionaries.
 */
function bufferBytes(file: FileReader, body: number, batch: IpcRecordBatch, index: number, what: () => FormatError): Uint8Array {
  const region = batch.buffers[index];
  if (!region) throw what();
  const bytes = file.read(body + region.offset, region.length);
  if (batch.compression === null || bytes.byteLength === 0) return bytes;
  const length = lengthPrefix(bytes);
  if (length === STORED) return bytes.slice(LENGTH_PREFIX);
  try {
    const decoded = decodeLz4FrameToNew(bytes.subarray(LENGTH_PREFIX));
    if (decoded.byteLength === length) return decoded;
  } catch {
    // said below, as the table's damage
  }
  throw what();
}

/** The strings of a Utf8 column given its node and validity, offsets and data buffers. */
function utf8Column(file: FileReader, body: number, batch: IpcRecordBatch, place: ColumnPlace, rows: number, what: () => FormatError): (string | null)[] {
  const node = batch.nodes[place.node];
  if (!node || node.length !== rows) throw what();
  const offsets = offsetsOf(bufferBytes(file, body, batch, place.first + 1, what), rows, what);
  const data = bufferBytes(file, body, batch, place.first + 2, what);
  const validity = node.nullCount > 0 ? bufferBytes(file, body, batch, place.first, what) : null;
  const valid = validity !== null && validity.byteLength > 0 ? validity : null;
  const decoder = new TextDecoder();
  const out: (string | null)[] = [];
  for (let i = 0; i < rows; i++) {
    if (valid && (valid[i >> 3] & (1 << (i & 7))) === 0) {
      out.push(null);
      continue;
    }
    if (!(offsets[i] >= 0 && offsets[i] <= offsets[i + 1] && offsets[i + 1] <= data.byteLength)) throw what();
    out.push(decoder.decode(data.subarray(offsets[i], offsets[i + 1])));
  }
  return out;
}

/** rows + 1 Arrow offsets viewed over a buffer from bufferBytes. */
function offsetsOf(bytes: Uint8Array, rows: number, what: () => FormatError): Int32Array {
  if (bytes.byteLength < (rows + 1) * 4) throw what();
  return new Int32Array(bytes.buffer, bytes.byteOffset, rows + 1);
}

/** A fixed-width column's values (a fresh copy). */
function fixedColumn<T extends ColumnArray>(
  file: FileReader,
  body: number,
  batch: IpcRecordBatch,
  place: ColumnPlace,
  rows: number,
  ctor: ArrayCtor,
  what: () => FormatError,
): T {
  const node = batch.nodes[place.node];
  if (!node || node.length !== rows || node.nullCount !== 0) throw what();
  const bytes = bufferBytes(file, body, batch, place.first + 1, what);
  if (bytes.byteLength < rows * ctor.BYTES_PER_ELEMENT) throw what();
  return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, rows) as T;
}

// --- the small tables ------------------------------------------------------------------------

function kallsymsOf(file: FileReader, span: StreamSpan): KallsymsTable {
  const places = fieldPlaces(span.schema);
  const what = () => damaged(file.path, 'unexpected layout', 'kallsyms');
  const table: KallsymsTable = { addr: new BigUint64Array(0), name: [], module: [] };
  const addrs: bigint[] = [];
  for (const { batch, body, bodyLength } of span.batches) {
    regionsOf(file.path, batch, bodyLength, 'kallsyms');
    const rows = batch.length;
    const addr = places.get('addr');
    const name = places.get('name');
    const module = places.get('module');
    if (!addr || !name || !module) throw what();
    addrs.push(...fixedColumn<BigUint64Array>(file, body, batch, addr, rows, BigUint64Array, what));
    table.name.push(...(utf8Column(file, body, batch, name, rows, what) as string[]));
    table.module.push(...utf8Column(file, body, batch, module, rows, what));
  }
  table.addr = BigUint64Array.from(addrs);
  return table;
}

function stacksOf(file: FileReader, span: StreamSpan): Map<number, bigint[]> {
  const places = fieldPlaces(span.schema);
  const what = () => damaged(file.path, 'unexpected layout', 'stacks');
  const stacks = new Map<number, bigint[]>();
  for (const { batch, body, bodyLength } of span.batches) {
    regionsOf(file.path, batch, bodyLength, 'stacks');
    const rows = batch.length;
    const id = places.get('stack_id');
    const frames = places.get('frames');
    if (!id || !frames) throw what();
    const ids = fixedColumn<Int32Array>(file, body, batch, id, rows, Int32Array, what);
    // frames: List<Uint64> = the list's validity and offsets, then its child's validity and values.
    const offsets = offsetsOf(bufferBytes(file, body, batch, frames.first + 1, what), rows, what);
    const count = offsets[rows];
    const values = fixedColumn<BigUint64Array>(file, body, batch, { node: frames.node + 1, first: frames.first + 2 }, count, BigUint64Array, what);
    for (let i = 0; i < rows; i++) {
      if (!(offsets[i] >= 0 && offsets[i] <= offsets[i + 1] && offsets[i + 1] <= count)) throw what();
      stacks.set(ids[i], [...values.subarray(offsets[i], offsets[i + 1])]);
    }
  }
  return stacks;
}

// --- opening ---------------------------------------------------------------------------------

/**
 * Opens a recording for on-demand reads: validates it, indexes its events batches (no
 * column is read yet), reads its metadata, dictionaries and symbol tables. A truncated file
 * yields its complete batches and the same warning openRecording gives.
 */
export function openRecordingFile(path: string): RecordingFile {
  const fd = openFile(path);
  try {
    return indexRecording(new FileReader(path, fd));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function indexRecording(file: FileReader): RecordingFile {
  const { path } = file;
  const batches: BatchPlace[] = [];
  let comms: string[] = [];
  // A dictionary counts once a batch that uses it is complete (a cut may fall between the two).
  let nextComms: string[] = [];
  let places = new Map<string, ColumnPlace>();
  let events = 0;
  let checked: { version: string; meta: StartMeta } | null = null;
  const walk = walkFile(
    file,
    (message, body) => {
      if (message.recordBatch) {
        const place = batchPlace(path, message.recordBatch, body, message.bodyLength, places, events);
        if (place.rows > 0) {
          batches.push(place);
          events += place.rows;
          comms = nextComms;
        }
      } else if (message.dictionaryBatch && message.dictionaryBatch.id === COMM_DICTIONARY_ID) {
        const { data, isDelta } = message.dictionaryBatch;
        regionsOf(path, data, message.bodyLength, 'events');
        const names = utf8Column(file, body, data, { node: 0, first: 0 }, data.length, () => damaged(path, 'a comm dictionary is malformed')) as string[];
        nextComms = isDelta ? [...nextComms, ...names] : names;
      }
    },
    (schema) => {
      // The first stream's schema is checked before any of its batches is read.
      checked = checkEventsSchema(path, schema);
      places = fieldPlaces(schema);
    },
  );
  const [eventsSpan, ...tableSpans] = walk.streams;
  if (!eventsSpan) throw noStreamError(path, file.size, file.read(0, Math.min(8, file.size)), walk.stop);
  const { version, meta } = checked ?? checkEventsSchema(path, eventsSpan.schema);

  const spans = tablesByName(tableSpans);
  const kallsymsSpan = spans.get('kallsyms');
  const stacksSpan = spans.get('stacks');
  const endSpan = spans.get('end');
  const kallsyms = kallsymsSpan ? kallsymsOf(file, kallsymsSpan) : null;
  const stacks = stacksSpan ? stacksOf(file, stacksSpan) : null;
  const end = endSpan ? parseJson<EndMeta>(path, endSpan.schema.metadata.get(META_KEY.end), META_KEY.end) : null;
  const complete = end !== null && kallsyms !== null && stacks !== null && eventsSpan.ended;

  const unread = file.size - walk.stoppedAt;
  const warnings: string[] = [];
  if (!complete) {
    const missing = { end: end === null, kallsyms: kallsyms === null, stacks: stacks === null };
    warnings.push(truncationWarning({ batches: batches.length, rows: events }, eventsSpan.ended, { bytes: unread, partial: walk.stop === 'partial' }, missing));
  } else if (unread > 0) {
    warnings.push(`ignored ${unread} bytes after the end of the recording`);
  }

  const values = (name: EventColumnName | typeof RETVAL_COLUMN): number => (places.get(name) as ColumnPlace).first + 1;
  const readRegion = (batch: BatchPlace, buffer: number, bytes: number, buffers: ReadBuffers, key: string): ArrayBuffer => {
    const target = buffers.get(key, bytes);
    if (file.readInto(new Uint8Array(target, 0, bytes), batch.body + batch.regions[2 * buffer]) !== bytes) throw file.shrank();
    return target;
  };
  const frameDamage = (batch: BatchPlace, column: string, what: string, cause?: unknown): FormatError =>
    new FormatError('CORRUPT', `${path}: events table is damaged: column ${column} of batch ${batches.indexOf(batch)}: ${what}`, { cause });
  /**
   * Buffer `buffer` of a compressed batch, decoded into buffers' `key` through a reused
   * scratch buffer; returns its length, checked to be at least `least` bytes.
   */
  const decodeRegion = (batch: BatchPlace, buffer: number, least: number, buffers: ReadBuffers, key: string, column: string): number => {
    const length = batch.regions[2 * buffer + 1];
    let decoded = 0;
    if (length > 0) {
      const frame = new Uint8Array(buffers.get(COMPRESSED_KEY, length), 0, length);
      if (file.readInto(frame, batch.body + batch.regions[2 * buffer]) !== length) throw file.shrank();
      const declared = lengthPrefix(frame);
      if (declared === STORED) {
        decoded = length - LENGTH_PREFIX;
        new Uint8Array(buffers.get(key, decoded), 0, decoded).set(frame.subarray(LENGTH_PREFIX));
      } else {
        const body = frame.subarray(LENGTH_PREFIX);
        try {
          // a damaged prefix must not size the target: the frame's headers bound it
          if (!(declared >= 0 && declared <= lz4FrameDecodedBound(body))) throw new Error(`its length prefix claims ${declared} bytes, more than its frame holds`);
          decoded = decodeLz4Frame(body, new Uint8Array(buffers.get(key, declared), 0, declared));
        } catch (err) {
          throw frameDamage(batch, column, (err as Error).message, err);
        }
        if (decoded !== declared) throw frameDamage(batch, column, `it decodes to ${decoded} bytes, its length prefix says ${declared}`);
      }
    }
    if (decoded < least) throw damaged(path, `column ${column} is shorter than its batch`);
    return decoded;
  };
  let closed = false;
  return {
    path,
    version,
    meta,
    end,
    complete,
    warnings,
    schema: eventsSpan.schema,
    size: file.size,
    events,
    batches,
    comms,
    kallsyms,
    stacks,
    readColumn(index, column, buffers) {
      const batch = batches[index];
      const ctor = COLUMN_ARRAYS[column];
      const bytes = batch.rows * ctor.BYTES_PER_ELEMENT;
      // only retval can be absent (batchPlace checked the rest)
      if (!places.has(column)) return new BigInt64Array(buffers.get(column, bytes), 0, batch.rows).fill(0n);
      if (batch.compressed) {
        decodeRegion(batch, values(column), bytes, buffers, column, column);
        return new ctor(buffers.get(column, bytes), 0, batch.rows);
      }
      return new ctor(readRegion(batch, values(column), bytes, buffers, column), 0, batch.rows);
    },
    readHeaders(index, buffers) {
      const batch = batches[index];
      const at = values('headers');
      const offsetBytes = (batch.rows + 1) * 4;
      if (batch.compressed) decodeRegion(batch, at, offsetBytes, buffers, 'headers.offsets', 'headers');
      const offsetsBuffer = batch.compressed ? buffers.get('headers.offsets', offsetBytes) : readRegion(batch, at, offsetBytes, buffers, 'headers.offsets');
      const offsets = new Int32Array(offsetsBuffer, 0, batch.rows + 1);
      const dataLength = batch.compressed ? decodeRegion(batch, at + 1, 0, buffers, 'headers.bytes', 'headers') : batch.regions[2 * (at + 1) + 1];
      if (!(offsets[0] >= 0 && offsets[0] <= offsets[batch.rows] && offsets[batch.rows] <= dataLength)) {
        throw damaged(path, 'header offsets point outside their bytes');
      }
      const length = offsets[batch.rows];
      const bytesBuffer = batch.compressed ? buffers.get('headers.bytes', length) : readRegion(batch, at + 1, length, buffers, 'headers.bytes');
      return { offsets, bytes: new Uint8Array(bytesBuffer, 0, length) };
    },
    close() {
      if (!closed) closeSync(file.fd);
      closed = true;
    },
  };
}
