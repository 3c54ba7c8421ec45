// events_raw: a DuckDB table function over the recordings' event batches. Each call fills one
// DuckDB vector (≤ 2048 rows) per projected column: fixed-width file columns with one memcpy
// each (copy_data_to_vector); header-derived, name and packet columns through small typed-array
// loops that run only when a query projects them. A batch's columns are read from the file only
// when the scan reaches it, and only the ones projected, into buffers the scan reuses.
// With `rows := [n, ...]` it emits just those events (numbered across the session's
// recordings), so a command that has picked its rows builds their text columns and nothing
// else; with `pcap := id` just the events a compiled pcap-filter expression matches, and with
// `drops := true` just the drops (so the names of the other 98% are never looked up).
//
// Why a scan and not a materialized table: appending to a DuckDB table measured ~1M events/s
// on the 2-core reference VM, while this scan feeds queries at tens of millions of rows/s from
// the file, with no copy kept.
import type duckdbTypes from '@duckdb/node-bindings';
import { duckdb } from './cjs.js';
import { type ComputedKey, RAW_COLUMNS, type ScanNeeds, TRACKER_FIELDS, scanNeeds } from './columns.js';
import type { FixedColumnName } from '@skbtrail/format/file';
import { BatchLoader, type Dataset, type LoadedBatch, needs } from './dataset.js';
import { DecodedSlice, SLICE_ROWS } from './decode.js';
import type { DropRule } from './droprule.js';
import type { Codes, NamedColumn, NamedKey, TrackedColumns } from './names.js';
import type { PcapFilter } from './pcap.js';
import { gapBucketOf } from './quantiles.js';
import { PacketTracker } from './tracker.js';

export const EVENTS_SCAN = 'skbtrail_events';

const TRACKED_ARRAYS = { packet: 'packet', hop: 'hop', prev_ts: 'prevTs', gap_bucket: 'gapBucket' } as const;

export interface ScanContext {
  dataset: Dataset;
  named: Record<NamedKey, NamedColumn>;
  dropRules: DropRule[];
  /** per recording: func ids that free an skb */
  frees: Uint8Array[];
  /** per recording: func ids that still belong to a packet being freed */
  releases: Uint8Array[];
  /** compiled pcap filters by the id the pcap := parameter names */
  pcapFilters: Map<number, PcapFilter>;
}

/** Packet tracker values for whole batches, computed in recording order. */
class TrackingCursor {
  private tracker: PacketTracker | null = null;
  private recording = -1;
  /** last batch tracked */
  private done = -1;
  private out: TrackedColumns = { packet: new Uint32Array(0), hop: new Uint32Array(0), prevFunc: new Int32Array(0), prevTs: new Uint32Array(0), gapBucket: new Int16Array(0) };
  private readonly skipLoader: BatchLoader;

  constructor(
    private readonly ctx: ScanContext,
    /** compute gap_bucket too (only when a query reads it) */
    private readonly gaps: boolean,
  ) {
    const wanted = needs();
    for (const f of TRACKER_FIELDS) wanted.fields.add(f);
    this.skipLoader = new BatchLoader(ctx.dataset, wanted);
  }

  /** Tracked columns of `batch` (its rows index them); batches skipped since the last call are tracked too. */
  at(batch: LoadedBatch): TrackedColumns {
    if (batch.index === this.done) return this.out;
    if (batch.index < this.done) {
      this.tracker = null;
      this.recording = -1;
      this.done = -1;
    }
    for (let b = this.done + 1; b < batch.index; b++) this.track(this.skipLoader.load(b), null);
    this.ensure(batch.rows);
    this.track(batch, this.out);
    return this.out;
  }

  private ensure(rows: number): void {
    if (this.out.packet.length >= rows) return;
    this.out = { packet: new Uint32Array(rows), hop: new Uint32Array(rows), prevFunc: new Int32Array(rows), prevTs: new Uint32Array(rows * 2), gapBucket: new Int16Array(rows) };
  }

  private track(batch: LoadedBatch, out: TrackedColumns | null): void {
    const recording = batch.info.recording;
    if (this.tracker === null || recording !== this.recording) {
      this.tracker = new PacketTracker(this.ctx.frees[recording], this.ctx.releases[recording]);
      this.recording = recording;
    }
    const t = this.tracker;
    const skb = batch.words('skb');
    const ts = batch.words('ts');
    const func = batch.field<Uint16Array>('func');
    const n = batch.rows;
    if (out === null) {
      for (let i = 0; i < n; i++) t.step(skb[2 * i], skb[2 * i + 1], func[i], ts[2 * i], ts[2 * i + 1]);
    } else {
      const { packet, hop, prevFunc, prevTs, gapBucket } = out;
      for (let i = 0; i < n; i++) {
        const lo = ts[2 * i];
        const hi = ts[2 * i + 1];
        const s = t.step(skb[2 * i], skb[2 * i + 1], func[i], lo, hi);
        packet[i] = t.packet[s];
        hop[i] = t.hop[s];
        prevFunc[i] = t.prevFunc;
        if (t.started) {
          prevTs[2 * i] = 0;
          prevTs[2 * i + 1] = 0;
          gapBucket[i] = 0;
        } else {
          prevTs[2 * i] = t.prevTsLo;
          prevTs[2 * i + 1] = t.prevTsHi;
          if (this.gaps) gapBucket[i] = gapBucketOf((hi - t.prevTsHi) * 0x100000000 + (lo - t.prevTsLo));
        }
      }
    }
    this.done = batch.index;
  }
}

/** Rows a scan emits: out[i] = 1 for row start + i of the batch to be kept. */
interface RowFilter {
  fields: readonly string[];
  match(batch: LoadedBatch, start: number, n: number, out: Uint8Array): void;
}

function dropFilter(ctx: ScanContext): RowFilter {
  return {
    fields: ['reason', 'func'],
    match: (batch, start, n, out) => ctx.dropRules[batch.info.recording].fill(batch.field('reason'), batch.field('func'), start, n, out),
  };
}

/** Both filters (the first may be null). */
function bothFilters(a: RowFilter | null, b: RowFilter): RowFilter {
  if (a === null) return b;
  const more = new Uint8Array(SLICE_ROWS);
  return {
    fields: [...a.fields, ...b.fields],
    match(batch, start, n, out) {
      a.match(batch, start, n, out);
      b.match(batch, start, n, more);
      for (let i = 0; i < n; i++) out[i] &= more[i];
    },
  };
}

interface ScanState {
  /** RAW_COLUMNS indices DuckDB asked for, in output order */
  columns: number[];
  needs: ScanNeeds;
  loader: BatchLoader;
  tracking: TrackingCursor | null;
  filter: RowFilter | null;
  /** full scan: next batch and row */
  batch: number;
  row: number;
  /** rows mode: the event numbers asked for, ascending, and the next one to emit */
  rows: number[] | null;
  next: number;
}

/** One memcpy of `count` values of `width` bytes, from value `first` of src, to row `target` of the vector. */
function copyTo(vector: duckdbTypes.Vector, target: number, src: ArrayBufferView, first: number, count: number, width: number): void {
  duckdb.copy_data_to_vector(vector, target * width, src.buffer as ArrayBuffer, src.byteOffset + first * width, count * width);
}

/** The rows := [...] parameter: distinct event numbers, ascending; null for a full scan. */
function rowsParameter(info: duckdbTypes.TableFunctionBindInfo): number[] | null {
  const value = duckdb.bind_get_named_parameter(info, 'rows');
  if (value === null || duckdb.is_null_value(value)) return null;
  const rows = new Set<number>();
  for (let i = 0; i < duckdb.get_list_size(value); i++) rows.add(Number(duckdb.get_uint64(duckdb.get_list_child(value, i))));
  return [...rows].sort((a, b) => a - b);
}

function pcapParameter(info: duckdbTypes.TableFunctionBindInfo): number | null {
  const value = duckdb.bind_get_named_parameter(info, 'pcap');
  return value === null || duckdb.is_null_value(value) ? null : duckdb.get_uint32(value);
}

function dropsParameter(info: duckdbTypes.TableFunctionBindInfo): boolean {
  const value = duckdb.bind_get_named_parameter(info, 'drops');
  return value !== null && !duckdb.is_null_value(value) && duckdb.get_bool(value);
}

/** Codes buffer (a slice's worth) matching an ENUM's physical type. */
export function codesFor(type: duckdbTypes.LogicalType): Codes {
  switch (duckdb.enum_internal_type(type)) {
    case duckdb.Type.UTINYINT:
      return new Uint8Array(SLICE_ROWS);
    case duckdb.Type.USMALLINT:
      return new Uint16Array(SLICE_ROWS);
    default:
      return new Uint32Array(SLICE_ROWS);
  }
}

/** Registers the events_raw table function for the session's recordings. */
export function registerEventsScan(connection: duckdbTypes.Connection, ctx: ScanContext): void {
  const { dataset, named } = ctx;
  const batches = dataset.batches;
  // saddr_text and daddr_text, func and prev_func share member lists: build each ENUM type once.
  const enums = new Map<string[], duckdbTypes.LogicalType>();
  const enumOf = (members: string[]): duckdbTypes.LogicalType => {
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
  const small = { dropped: new Uint8Array(SLICE_ROWS), recording_id: new Uint16Array(SLICE_ROWS) } satisfies Record<ComputedKey, ArrayBufferView>;
  const noTracking: TrackedColumns = { packet: new Uint32Array(0), hop: new Uint32Array(0), prevFunc: new Int32Array(0), prevTs: new Uint32Array(0), gapBucket: new Int16Array(0) };

  // Scattered rows (a filter's matches, rows := [...]) are gathered into these, one per value
  // width, so a column is still one memcpy per chunk rather than one per row.
  const gathered = { 1: new Uint8Array(SLICE_ROWS), 2: new Uint16Array(SLICE_ROWS), 4: new Uint32Array(SLICE_ROWS), 8: new Uint32Array(SLICE_ROWS * 2) };

  /** Values pick[0..n) of src (width bytes each), contiguous. */
  function gather(src: ArrayBufferView, width: number, pick: Int32Array, n: number): ArrayBufferView {
    if (width === 8) {
      const words = new Uint32Array(src.buffer, src.byteOffset, (src.byteLength >> 2) & ~1);
      const out = gathered[8];
      for (let i = 0; i < n; i++) {
        out[2 * i] = words[2 * pick[i]];
        out[2 * i + 1] = words[2 * pick[i] + 1];
      }
      return out;
    }
    const values = src as Uint8Array | Uint16Array | Uint32Array;
    const out = gathered[width as 1 | 2 | 4];
    for (let i = 0; i < n; i++) out[i] = values[pick[i]];
    return out;
  }

  /**
   * Column `index` of rows [start, start + n) of a batch, or of its rows pick[0..n) → vector rows
   * from target (the decoded slice already holds those rows).
   */
  function fill(vector: duckdbTypes.Vector, index: number, batch: LoadedBatch, tracked: TrackedColumns, start: number, n: number, pick: Int32Array | null, target: number): void {
    const column = RAW_COLUMNS[index];
    const source = column.source;
    switch (source.kind) {
      case 'arrow': {
        const src = batch.field(source.field);
        if (pick === null) copyTo(vector, target, src, start, n, column.width);
        else copyTo(vector, target, gather(src, column.width, pick, n), 0, n, column.width);
        return;
      }
      case 'decoded':
        copyTo(vector, target, slice[source.key], 0, n, column.width);
        return;
      case 'named': {
        const out = codes[index] as Codes;
        named[source.key].fill({ batch, start, n, pick, slice, tracked }, out);
        copyTo(vector, target, out, 0, n, out.BYTES_PER_ELEMENT);
        return;
      }
      case 'tracked': {
        const src = tracked[TRACKED_ARRAYS[source.key]];
        if (pick === null) copyTo(vector, target, src, start, n, column.width);
        else copyTo(vector, target, gather(src, column.width, pick, n), 0, n, column.width);
        return;
      }
      case 'computed':
        if (source.key === 'dropped') {
          ctx.dropRules[batch.info.recording].fill(batch.field('reason'), batch.field('func'), start, n, small.dropped, pick);
        } else {
          small.recording_id.fill(batch.info.recording, 0, n);
        }
        copyTo(vector, target, small[source.key], 0, n, column.width);
        return;
      case 'seq': {
        for (let i = 0; i < n; i++) {
          const seq = batch.info.seq + (pick === null ? start + i : pick[i]);
          seqWords[2 * i] = seq >>> 0;
          seqWords[2 * i + 1] = Math.floor(seq / 0x100000000);
        }
        copyTo(vector, target, seqWords, 0, n, 8);
        return;
      }
      case 'headers': {
        const { bytes, offsets } = batch.headers;
        for (let i = 0; i < n; i++) {
          const row = pick === null ? start + i : pick[i];
          duckdb.vector_assign_string_element_len(vector, target + i, bytes.subarray(offsets[row], offsets[row + 1]));
        }
        return;
      }
    }
  }

  /** Every projected column of rows [start, start + n) of a batch, or of its rows pick[0..n). */
  function fillRows(output: duckdbTypes.DataChunk, state: ScanState, batch: LoadedBatch, start: number, n: number, pick: Int32Array | null, target: number): void {
    if (state.needs.decode) slice.decode(batch.headers, start, n, false, pick);
    const tracked = state.tracking ? state.tracking.at(batch) : noTracking;
    for (let k = 0; k < state.columns.length; k++) {
      const c = state.columns[k];
      // DuckDB may ask for its row-id pseudo column, which no view reads: leave it unfilled.
      if (c < RAW_COLUMNS.length) fill(duckdb.data_chunk_get_vector(output, k), c, batch, tracked, start, n, pick, target);
    }
  }

  const picked = new Int32Array(SLICE_ROWS);

  const match = new Uint8Array(SLICE_ROWS);

  /** The next rows of a full scan: a slice of the current batch, or the pcap filter's matches in it. */
  function scanNext(output: duckdbTypes.DataChunk, state: ScanState): number {
    let target = 0;
    while (target < SLICE_ROWS) {
      while (state.batch < batches.length && state.row >= batches[state.batch].rows) {
        state.batch++;
        state.row = 0;
      }
      if (state.batch >= batches.length) break;
      const batch = state.loader.load(state.batch);
      const n = Math.min(SLICE_ROWS - target, batch.rows - state.row);
      const start = state.row;
      state.row += n;
      if (state.filter === null) {
        fillRows(output, state, batch, start, n, null, target);
        return n;
      }
      state.filter.match(batch, start, n, match);
      let count = 0;
      for (let i = 0; i < n; i++) if (match[i] !== 0) picked[count++] = start + i;
      if (count === n) fillRows(output, state, batch, start, n, null, target);
      else if (count > 0) fillRows(output, state, batch, 0, count, picked, target);
      // Sparse matches (drops: ~2%) fill a chunk from several slices: fewer, fuller chunks.
      target += count;
    }
    return target;
  }

  /** Batch index holding dataset row `row` (batch firsts are ascending). */
  function batchOf(row: number): number {
    let lo = 0;
    let hi = batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (batches[mid].first <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function rowsNext(output: duckdbTypes.DataChunk, state: ScanState, rows: number[]): number {
    let target = 0;
    while (target < SLICE_ROWS && state.next < rows.length) {
      const row = rows[state.next];
      if (row >= dataset.total) {
        state.next = rows.length;
        break;
      }
      // The asked-for rows of one batch, gathered.
      const b = batchOf(row);
      const batch = state.loader.load(b);
      const first = batches[b].first;
      let count = 0;
      while (target + count < SLICE_ROWS && state.next < rows.length && rows[state.next] < first + batch.rows) {
        picked[count++] = rows[state.next++] - first;
      }
      fillRows(output, state, batch, 0, count, picked, target);
      target += count;
    }
    return target;
  }

  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, EVENTS_SCAN);
  duckdb.table_function_supports_projection_pushdown(fn, true);
  duckdb.table_function_add_named_parameter(fn, 'rows', duckdb.create_list_type(duckdb.create_logical_type(duckdb.Type.UBIGINT)));
  duckdb.table_function_add_named_parameter(fn, 'pcap', duckdb.create_logical_type(duckdb.Type.UINTEGER));
  duckdb.table_function_add_named_parameter(fn, 'drops', duckdb.create_logical_type(duckdb.Type.BOOLEAN));
  duckdb.table_function_set_bind(fn, (info) => {
    RAW_COLUMNS.forEach((c, i) => duckdb.bind_add_result_column(info, c.name, logicalTypes[i]));
    const rows = rowsParameter(info);
    const pcap = pcapParameter(info);
    const drops = dropsParameter(info);
    duckdb.bind_set_bind_data(info, { rows, pcap, drops });
    duckdb.bind_set_cardinality(info, rows ? rows.length : dataset.total, pcap === null && !drops);
  });
  duckdb.table_function_set_init(fn, (info) => {
    const columns: number[] = [];
    for (let i = 0; i < duckdb.init_get_column_count(info); i++) columns.push(duckdb.init_get_column_index(info, i));
    const { rows, pcap, drops } = duckdb.init_get_bind_data(info) as { rows: number[] | null; pcap: number | null; drops: boolean };
    const pcapFilter = pcap === null ? null : (ctx.pcapFilters.get(pcap) ?? null);
    const filter = drops ? bothFilters(pcapFilter, dropFilter(ctx)) : pcapFilter;
    const wanted = scanNeeds(columns, named);
    if (pcapFilter) wanted.headers = true;
    if (filter) for (const f of filter.fields) wanted.fields.add(f as FixedColumnName);
    const state: ScanState = {
      columns,
      needs: wanted,
      loader: new BatchLoader(dataset, wanted),
      tracking: wanted.track ? new TrackingCursor(ctx, columns.some((c) => RAW_COLUMNS[c]?.name === 'gap_bucket')) : null,
      filter,
      batch: 0,
      row: 0,
      rows,
      next: 0,
    };
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
