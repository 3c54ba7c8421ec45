// events_raw: a DuckDB table function over the recording's Arrow batches. Each call fills one
// DuckDB vector (≤ 2048 rows) per projected column: fixed-width Arrow columns with one memcpy
// each (copy_data_to_vector); header-derived and name columns through small typed-array loops
// that run only when a query projects them. With `rows := [seq, ...]` it emits just those
// events, so a command that has picked its rows builds their text columns and nothing else.
//
// Why a scan and not a materialized table: appending to a DuckDB table measured ~1M events/s
// on the 2-core reference VM (its first touch of fresh memory costs ~3 s/GB, and an
// uncompressed events table is ~110 B/event), while this scan feeds queries at tens of
// millions of rows/s from the buffers the reader already holds, with no second copy.
import duckdb from '@duckdb/node-bindings';
import type { Data, RecordBatch } from 'apache-arrow';
import type { Recording } from '@skbtrail/format';
import { RAW_COLUMNS } from './columns.js';
import { DecodedSlice, type HeaderSource, SLICE_ROWS } from './decode.js';
import type { Codes, KeyColumns, NamedColumn, NamedKey } from './names.js';

export const EVENTS_SCAN = 'skbtrail_events';

type Fixed = Uint8Array | Uint16Array | Uint32Array | Int32Array | BigUint64Array;

/** One batch's columns, ready to copy from. */
export interface BatchColumns {
  length: number;
  /** Arrow values by field name, starting at the batch's first row */
  fields: Map<string, Fixed>;
  headers: HeaderSource;
  keys: KeyColumns;
}

interface ScanState {
  /** RAW_COLUMNS indices DuckDB asked for, in output order */
  columns: number[];
  decode: boolean;
  /** full scan: next batch and row; seq counts the rows before them */
  batch: number;
  row: number;
  seq: number;
  /** rows mode: the event numbers asked for, ascending, and the next one to emit */
  rows: number[] | null;
  next: number;
}

function values(data: Data): Fixed {
  const v = data.values as Fixed;
  return data.offset === 0 ? v : (v.subarray(data.offset) as Fixed);
}

function batchColumns(batch: RecordBatch): BatchColumns {
  const fields = new Map<string, Fixed>();
  let headers: Data | undefined;
  batch.schema.fields.forEach((f, i) => {
    const data = batch.data.children[i];
    if (f.name === 'headers') headers = data;
    else fields.set(f.name, values(data));
  });
  const field = <T extends Fixed>(name: string): T => {
    const v = fields.get(name);
    if (!v) throw new Error(`events batch has no ${name} column`);
    return v as T;
  };
  if (!headers) throw new Error('events batch has no headers column');
  const location = field<BigUint64Array>('location');
  return {
    length: batch.numRows,
    fields,
    headers: {
      bytes: headers.values as Uint8Array,
      offsets: (headers.valueOffsets as Int32Array).subarray(headers.offset),
      protocol: field('protocol'),
      hasMac: field('has_mac'),
      netOff: field('net_off'),
    },
    keys: {
      comm: field('comm'),
      func: field('func'),
      netns: field('netns'),
      ifindex: field('ifindex'),
      reason: field('reason'),
      locationWords: new Uint32Array(location.buffer, location.byteOffset, location.length * 2),
    },
  };
}

export function prepareBatches(recording: Recording): BatchColumns[] {
  return recording.batches.map(batchColumns);
}

/** One memcpy of `count` rows of `width` bytes, from row `first` of src, to row `target` of the vector. */
function copyTo(vector: duckdb.Vector, target: number, src: ArrayBufferView, first: number, count: number, width: number): void {
  duckdb.copy_data_to_vector(vector, target * width, src.buffer as ArrayBuffer, src.byteOffset + first * width, count * width);
}

/** The rows := [...] parameter: distinct event numbers, ascending; null for a full scan. */
function rowsParameter(info: duckdb.TableFunctionBindInfo): number[] | null {
  const value = duckdb.bind_get_named_parameter(info, 'rows');
  if (value === null || duckdb.is_null_value(value)) return null;
  const rows = new Set<number>();
  for (let i = 0; i < duckdb.get_list_size(value); i++) rows.add(Number(duckdb.get_uint64(duckdb.get_list_child(value, i))));
  return [...rows].sort((a, b) => a - b);
}

/** Codes buffer matching an ENUM's physical type. */
function codesFor(type: duckdb.LogicalType): Codes {
  switch (duckdb.enum_internal_type(type)) {
    case duckdb.Type.UTINYINT:
      return new Uint8Array(SLICE_ROWS);
    case duckdb.Type.USMALLINT:
      return new Uint16Array(SLICE_ROWS);
    default:
      return new Uint32Array(SLICE_ROWS);
  }
}

/** Registers the events_raw table function for these batches on the connection's database. */
export function registerEventsScan(connection: duckdb.Connection, batches: BatchColumns[], named: Record<NamedKey, NamedColumn>): void {
  const batchStarts: number[] = [];
  let total = 0;
  for (const b of batches) {
    batchStarts.push(total);
    total += b.length;
  }
  // saddr_text and daddr_text share one member list: build each ENUM type once.
  const enums = new Map<string[], duckdb.LogicalType>();
  const enumOf = (members: string[]): duckdb.LogicalType => {
    let type = enums.get(members);
    if (!type) enums.set(members, (type = duckdb.create_enum_type(members)));
    return type;
  };
  const logicalTypes = RAW_COLUMNS.map((c) =>
    c.source.kind === 'named' ? enumOf(named[c.source.key].members) : duckdb.create_logical_type(c.type),
  );
  const codes = RAW_COLUMNS.map((c, i) => (c.source.kind === 'named' ? codesFor(logicalTypes[i]) : null));
  const slice = new DecodedSlice();
  const seqWords = new Uint32Array(SLICE_ROWS * 2);

  /** Column `index` of rows [start, start + n) of a batch (event numbers from seq) → vector rows from target. */
  function fill(vector: duckdb.Vector, index: number, batch: BatchColumns, start: number, n: number, target: number, seq: number): void {
    const column = RAW_COLUMNS[index];
    const source = column.source;
    switch (source.kind) {
      case 'arrow':
        copyTo(vector, target, batch.fields.get(source.field) as Fixed, start, n, column.width);
        return;
      case 'decoded':
        copyTo(vector, target, slice[source.key], 0, n, column.width);
        return;
      case 'named': {
        const out = codes[index] as Codes;
        named[source.key].fill({ keys: batch.keys, start, n, slice }, out);
        copyTo(vector, target, out, 0, n, out.BYTES_PER_ELEMENT);
        return;
      }
      case 'seq':
        for (let i = 0; i < n; i++) {
          seqWords[2 * i] = (seq + i) >>> 0;
          seqWords[2 * i + 1] = Math.floor((seq + i) / 0x100000000);
        }
        copyTo(vector, target, seqWords, 0, n, 8);
        return;
      case 'headers': {
        const { bytes, offsets } = batch.headers;
        for (let i = 0; i < n; i++) {
          duckdb.vector_assign_string_element_len(vector, target + i, bytes.subarray(offsets[start + i], offsets[start + i + 1]));
        }
        return;
      }
    }
  }

  /** Every projected column of one run of consecutive rows. */
  function fillRun(output: duckdb.DataChunk, state: ScanState, batch: BatchColumns, start: number, n: number, target: number, seq: number): void {
    if (state.decode) slice.decode(batch.headers, start, n);
    for (let k = 0; k < state.columns.length; k++) {
      const c = state.columns[k];
      // DuckDB may ask for its row-id pseudo column, which no view reads: leave it unfilled.
      if (c < RAW_COLUMNS.length) fill(duckdb.data_chunk_get_vector(output, k), c, batch, start, n, target, seq);
    }
  }

  /** Batch index holding event number seq (batchStarts is ascending). */
  function batchOf(seq: number): number {
    let lo = 0;
    let hi = batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (batchStarts[mid] <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function scanNext(output: duckdb.DataChunk, state: ScanState): number {
    while (state.batch < batches.length && state.row >= batches[state.batch].length) {
      state.batch++;
      state.row = 0;
    }
    if (state.batch >= batches.length) return 0;
    const batch = batches[state.batch];
    const n = Math.min(SLICE_ROWS, batch.length - state.row);
    fillRun(output, state, batch, state.row, n, 0, state.seq);
    state.row += n;
    state.seq += n;
    return n;
  }

  function rowsNext(output: duckdb.DataChunk, state: ScanState, rows: number[]): number {
    let target = 0;
    while (target < SLICE_ROWS && state.next < rows.length) {
      const seq = rows[state.next];
      if (seq >= total) {
        state.next = rows.length;
        break;
      }
      const b = batchOf(seq);
      const start = seq - batchStarts[b];
      let n = 1;
      while (target + n < SLICE_ROWS && start + n < batches[b].length && rows[state.next + n] === seq + n) n++;
      fillRun(output, state, batches[b], start, n, target, seq);
      target += n;
      state.next += n;
    }
    return target;
  }

  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, EVENTS_SCAN);
  duckdb.table_function_supports_projection_pushdown(fn, true);
  duckdb.table_function_add_named_parameter(fn, 'rows', duckdb.create_list_type(duckdb.create_logical_type(duckdb.Type.UBIGINT)));
  duckdb.table_function_set_bind(fn, (info) => {
    RAW_COLUMNS.forEach((c, i) => duckdb.bind_add_result_column(info, c.name, logicalTypes[i]));
    const rows = rowsParameter(info);
    duckdb.bind_set_bind_data(info, { rows });
    duckdb.bind_set_cardinality(info, rows ? rows.length : total, true);
  });
  duckdb.table_function_set_init(fn, (info) => {
    const columns: number[] = [];
    for (let i = 0; i < duckdb.init_get_column_count(info); i++) columns.push(duckdb.init_get_column_index(info, i));
    const decode = columns.some((c) => {
      const source = RAW_COLUMNS[c]?.source;
      return source?.kind === 'decoded' || (source?.kind === 'named' && named[source.key].decoded === true);
    });
    const { rows } = duckdb.init_get_bind_data(info) as { rows: number[] | null };
    const state: ScanState = { columns, decode, batch: 0, row: 0, seq: 0, rows, next: 0 };
    duckdb.init_set_init_data(info, state);
    // Chunks come from the one JS thread either way; a second DuckDB thread works on one chunk
    // (filters, aggregates) while the next is filled. Rows then come in no fixed order: ORDER BY.
    duckdb.init_set_max_threads(info, 2);
  });
  duckdb.table_function_set_function(fn, (info, output) => {
    const state = duckdb.function_get_init_data(info) as ScanState;
    const n = state.rows ? rowsNext(output, state, state.rows) : scanNext(output, state);
    duckdb.data_chunk_set_size(output, n);
  });
  duckdb.register_table_function(connection, fn);
}
