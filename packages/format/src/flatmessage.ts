// Arrow IPC message metadata (the flatbuffers of Message.fbs and Schema.fbs), decoded by hand
// for the on-demand reader: it needs a message's kind, body length, a record batch's nodes and
// buffers, a dictionary batch's id, and a schema's fields and metadata — nothing else. Loading
// the apache-arrow package for this costs an analysis command ~250 ms on the reference VM (its
// ~160 modules); this file costs ~1 ms.

export const MESSAGE_SCHEMA = 1;
export const MESSAGE_DICTIONARY_BATCH = 2;
export const MESSAGE_RECORD_BATCH = 3;

/** Arrow's Type union (Schema.fbs), the members the reader tells apart. */
export const TYPE = {
  Null: 1,
  Int: 2,
  Binary: 4,
  Utf8: 5,
  List: 12,
  Struct: 13,
  Union: 14,
  FixedSizeList: 16,
  Map: 17,
  LargeBinary: 19,
  LargeUtf8: 20,
  LargeList: 21,
  RunEndEncoded: 22,
  BinaryView: 23,
  Utf8View: 24,
  ListView: 25,
  LargeListView: 26,
} as const;

export interface IpcType {
  /** the Type union member */
  id: number;
  /** Union: 1 dense, 0 sparse */
  mode?: number;
  /** as apache-arrow prints it: Uint64, Binary, Dictionary<Int32, Utf8>, ... */
  toString(): string;
}

export interface IpcField {
  name: string;
  nullable: boolean;
  type: IpcType;
  /** dictionary-encoded: the dictionary's id (the field's buffers are its indices') */
  dictionaryId: number | null;
  children: IpcField[];
}

export interface IpcSchema {
  fields: IpcField[];
  metadata: Map<string, string>;
}

/** Arrow's CompressionType and BodyCompressionMethod (Message.fbs). */
export const CODEC = { LZ4_FRAME: 0, ZSTD: 1 } as const;
export const COMPRESSION_METHOD_BUFFER = 0;

/** A batch's body compression: each buffer is an int64 uncompressed length (-1: stored as is), then its bytes. */
export interface IpcBodyCompression {
  codec: number;
  method: number;
}

export interface IpcRecordBatch {
  length: number;
  nodes: { length: number; nullCount: number }[];
  buffers: { offset: number; length: number }[];
  /** null: the buffers are stored uncompressed */
  compression: IpcBodyCompression | null;
}

export interface IpcDictionaryBatch {
  id: number;
  isDelta: boolean;
  data: IpcRecordBatch;
}

export interface IpcMessage {
  headerType: number;
  bodyLength: number;
  schema?: IpcSchema;
  recordBatch?: IpcRecordBatch;
  dictionaryBatch?: IpcDictionaryBatch;
}

const utf8 = new TextDecoder();

/** Flatbuffer tables over one buffer: positions are byte offsets into it. */
class Flat {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(at: number, size: number): void {
    if (!(at >= 0 && at + size <= this.bytes.byteLength)) throw new RangeError('flatbuffer offset out of range');
  }

  u8(at: number): number {
    this.check(at, 1);
    return this.view.getUint8(at);
  }

  i16(at: number): number {
    this.check(at, 2);
    return this.view.getInt16(at, true);
  }

  i32(at: number): number {
    this.check(at, 4);
    return this.view.getInt32(at, true);
  }

  u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, true);
  }

  i64(at: number): number {
    this.check(at, 8);
    return Number(this.view.getBigInt64(at, true));
  }

  root(): number {
    return this.u32(0);
  }

  /** Position of field `slot`'s value in the table at `table`, or 0 when absent. */
  field(table: number, slot: number): number {
    const vtable = table - this.i32(table);
    const size = this.u32(vtable) & 0xffff;
    const entry = 4 + slot * 2;
    if (entry >= size) return 0;
    const offset = this.view.getUint16(vtable + entry, true);
    return offset === 0 ? 0 : table + offset;
  }

  /** The table, vector or string an offset field points to. */
  deref(at: number): number {
    return at + this.u32(at);
  }

  table(table: number, slot: number): number {
    const at = this.field(table, slot);
    return at === 0 ? 0 : this.deref(at);
  }

  /** [first element position, count] of a vector field; [0, 0] when absent. */
  vector(table: number, slot: number): [number, number] {
    const at = this.table(table, slot);
    return at === 0 ? [0, 0] : [at + 4, this.u32(at)];
  }

  string(table: number, slot: number): string | null {
    const at = this.table(table, slot);
    if (at === 0) return null;
    const length = this.u32(at);
    this.check(at + 4, length);
    return utf8.decode(this.bytes.subarray(at + 4, at + 4 + length));
  }

  scalar(table: number, slot: number, read: (at: number) => number, fallback: number): number {
    const at = this.field(table, slot);
    return at === 0 ? fallback : read.call(this, at);
  }
}

function keyValues(f: Flat, table: number, slot: number): Map<string, string> {
  const map = new Map<string, string>();
  const [first, count] = f.vector(table, slot);
  for (let i = 0; i < count; i++) {
    const kv = f.deref(first + i * 4);
    const key = f.string(kv, 0);
    if (key !== null) map.set(key, f.string(kv, 1) ?? '');
  }
  return map;
}

function intName(f: Flat, table: number): string {
  const bits = f.scalar(table, 0, f.i32, 0);
  const signed = f.scalar(table, 1, f.u8, 0) !== 0;
  return `${signed ? 'Int' : 'Uint'}${bits}`;
}

const TYPE_NAMES: Record<number, string> = {
  [TYPE.Null]: 'Null',
  [TYPE.Binary]: 'Binary',
  [TYPE.Utf8]: 'Utf8',
  [TYPE.LargeBinary]: 'LargeBinary',
  [TYPE.LargeUtf8]: 'LargeUtf8',
};

function decodeField(f: Flat, table: number): IpcField {
  const name = f.string(table, 0) ?? '';
  const nullable = f.scalar(table, 1, f.u8, 0) !== 0;
  const typeId = f.scalar(table, 2, f.u8, 0);
  const typeTable = f.table(table, 3);
  const valueName = typeId === TYPE.Int && typeTable !== 0 ? intName(f, typeTable) : (TYPE_NAMES[typeId] ?? `Type${typeId}`);
  const mode = typeId === TYPE.Union && typeTable !== 0 ? f.scalar(typeTable, 0, f.i16, 0) : undefined;
  const children: IpcField[] = [];
  const [first, count] = f.vector(table, 5);
  for (let i = 0; i < count; i++) children.push(decodeField(f, f.deref(first + i * 4)));
  const dictionary = f.table(table, 4);
  let dictionaryId: number | null = null;
  let typeName = valueName;
  if (dictionary !== 0) {
    dictionaryId = f.scalar(dictionary, 0, f.i64, 0);
    const index = f.table(dictionary, 1);
    typeName = `Dictionary<${index === 0 ? 'Int32' : intName(f, index)}, ${valueName}>`;
  }
  return { name, nullable, type: { id: typeId, mode, toString: () => typeName }, dictionaryId, children };
}

function decodeSchema(f: Flat, table: number): IpcSchema {
  const fields: IpcField[] = [];
  const [first, count] = f.vector(table, 1);
  for (let i = 0; i < count; i++) fields.push(decodeField(f, f.deref(first + i * 4)));
  return { fields, metadata: keyValues(f, table, 2) };
}

function compressionOf(f: Flat, table: number): IpcBodyCompression | null {
  if (table === 0) return null;
  return { codec: f.scalar(table, 0, f.u8, CODEC.LZ4_FRAME), method: f.scalar(table, 1, f.u8, COMPRESSION_METHOD_BUFFER) };
}

function decodeRecordBatch(f: Flat, table: number): IpcRecordBatch {
  const structs = (slot: number): { a: number; b: number }[] => {
    const [first, count] = f.vector(table, slot);
    const out: { a: number; b: number }[] = [];
    for (let i = 0; i < count; i++) out.push({ a: f.i64(first + i * 16), b: f.i64(first + i * 16 + 8) });
    return out;
  };
  return {
    length: f.scalar(table, 0, f.i64, 0),
    nodes: structs(1).map(({ a, b }) => ({ length: a, nullCount: b })),
    buffers: structs(2).map(({ a, b }) => ({ offset: a, length: b })),
    compression: compressionOf(f, f.table(table, 3)),
  };
}

/** A Message flatbuffer (the metadata of one IPC message); null when the bytes are not one. */
export function decodeMessage(metadata: Uint8Array): IpcMessage | null {
  try {
    const f = new Flat(metadata);
    const message = f.root();
    const headerType = f.scalar(message, 1, f.u8, 0);
    const header = f.table(message, 2);
    const bodyLength = f.scalar(message, 3, f.i64, 0);
    if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) return null;
    const out: IpcMessage = { headerType, bodyLength };
    if (header === 0) return headerType === 0 ? out : null;
    if (headerType === MESSAGE_SCHEMA) out.schema = decodeSchema(f, header);
    else if (headerType === MESSAGE_RECORD_BATCH) out.recordBatch = decodeRecordBatch(f, header);
    else if (headerType === MESSAGE_DICTIONARY_BATCH) {
      const data = f.table(header, 1);
      out.dictionaryBatch = {
        id: f.scalar(header, 0, f.i64, 0),
        isDelta: f.scalar(header, 2, f.u8, 0) !== 0,
        data: data === 0 ? { length: 0, nodes: [], buffers: [], compression: null } : decodeRecordBatch(f, data),
      };
    }
    return out;
  } catch {
    return null;
  }
}
