// Arrow RecordBatches built zero-copy over the typed arrays (makeData), never row by row.
import { Data, Field, List, RecordBatch, Schema, Struct, Uint64, Utf8, Vector, makeData } from 'apache-arrow';
import type { EventColumns, FixedColumnKey, KallsymsTable, StacksTable } from './types.js';

const utf8Encoder = new TextEncoder();

/** Utf8 data over strings; null entries are nulls. */
export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const encoded = values.map((v) => (v === null ? new Uint8Array(0) : utf8Encoder.encode(v)));
  const valueOffsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, i) => (valueOffsets[i + 1] = valueOffsets[i] + bytes.length));
  const data = new Uint8Array(valueOffsets[values.length]);
  encoded.forEach((bytes, i) => data.set(bytes, valueOffsets[i]));
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => (v === null ? nullCount++ : (nullBitmap[i >> 3] |= 1 << (i & 7))));
  return makeData({
    type: new Utf8(),
    length: values.length,
    nullCount,
    nullBitmap: nullCount > 0 ? nullBitmap : undefined,
    valueOffsets,
    data,
  });
}

export function utf8Vector(values: readonly (string | null)[]): Vector<Utf8> {
  return new Vector([utf8Data(values)]);
}

function structBatch(schema: Schema, length: number, children: Data[]): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

/** comm and func are dictionary indices; their dictionaries travel as Vectors beside them. */
export function eventsBatch(schema: Schema, cols: EventColumns, comm: Vector<Utf8>, func: Vector<Utf8>): RecordBatch {
  const length = cols.length;
  const children = schema.fields.map((field: Field): Data => {
    const type = field.type;
    switch (field.name) {
      case 'comm':
        return makeData({ type, length, nullCount: 0, data: cols.comm, dictionary: comm });
      case 'func':
        return makeData({ type, length, nullCount: 0, data: cols.probe, dictionary: func });
      case 'headers':
        return makeData({ type, length, nullCount: 0, valueOffsets: cols.headerOffsets, data: cols.headers });
      case 'retval': // recordings with fexit probes; a batch without the column gets zeros
        return makeData({ type, length, nullCount: 0, data: cols.retval ?? new BigInt64Array(length) });
      case 'skb_data': // --output-skb; a batch without the bytes gets empty values
        return makeData({ type, length, nullCount: 0, valueOffsets: cols.skbDataOffsets ?? new Int32Array(length + 1), data: cols.skbData ?? new Uint8Array(0) });
      default:
        return makeData({ type, length, nullCount: 0, data: cols[field.name as FixedColumnKey] });
    }
  });
  return structBatch(schema, length, children);
}

export function kallsymsBatch(schema: Schema, table: KallsymsTable): RecordBatch {
  const length = table.addr.length;
  const addr = makeData({ type: new Uint64(), length, nullCount: 0, data: table.addr });
  return structBatch(schema, length, [addr, utf8Data(table.name), utf8Data(table.module)]);
}

export function stacksBatch(schema: Schema, table: StacksTable): RecordBatch {
  const length = table.id.length;
  const valueOffsets = new Int32Array(length + 1);
  table.frames.forEach((frames, i) => (valueOffsets[i + 1] = valueOffsets[i] + frames.length));
  const values = new BigUint64Array(valueOffsets[length]);
  table.frames.forEach((frames, i) => values.set(frames, valueOffsets[i]));
  const framesType = schema.fields[1].type as List<Uint64>;
  const child = makeData({ type: new Uint64(), length: values.length, nullCount: 0, data: values });
  const frames = makeData({ type: framesType, length, nullCount: 0, valueOffsets, child });
  const id = makeData({ type: schema.fields[0].type, length, nullCount: 0, data: table.id });
  return structBatch(schema, length, [id, frames]);
}
