// skbtrail_spans(from_probe := 'net_dev_queue', to_probe := 'netif_receive_skb'): per packet, the time from
// its first `from` event to the first `to` event after it — what `skbtrail latency --from --to`
// measures. One streaming pass in recording order (the packet tracker's), keeping two words of
// state per live packet; in SQL it would take a GROUP BY over every packet (measured 5x slower).
import type duckdbTypes from '@duckdb/node-bindings';
import { duckdb } from './cjs.js';
import { BatchLoader, type LoadedBatch } from './dataset.js';
import { SLICE_ROWS } from './decode.js';
import type { PacketContext } from './packets.js';
import { gapBucketOf } from './quantiles.js';
import { PacketTracker } from './tracker.js';
import { grown } from './grown.js';

export const SPANS_SCAN = 'skbtrail_spans';

const NONE = 0;
const STARTED = 1;
const DONE = 2;

class SpanRows {
  n = 0;
  recording = new Uint16Array(SLICE_ROWS);
  packet = new Uint32Array(SLICE_ROWS);
  fromSeq = new Uint32Array(SLICE_ROWS * 2);
  toSeq = new Uint32Array(SLICE_ROWS * 2);
  ns = new Uint32Array(SLICE_ROWS * 2);
  bucket = new Int16Array(SLICE_ROWS);

  reserve(): number {
    const i = this.n++;
    if (i >= this.packet.length) {
      const n = i + 1;
      this.recording = grown(this.recording, n);
      this.packet = grown(this.packet, n);
      this.fromSeq = grown(this.fromSeq, n * 2);
      this.toSeq = grown(this.toSeq, n * 2);
      this.ns = grown(this.ns, n * 2);
      this.bucket = grown(this.bucket, n);
    }
    return i;
  }
}

/** Words of a non-negative integer below 2^53, little-endian. */
function putWords(words: Uint32Array, i: number, value: number): void {
  words[2 * i] = value >>> 0;
  words[2 * i + 1] = Math.floor(value / 0x100000000);
}

class SpanPass {
  private readonly loader: BatchLoader;
  private batch = 0;
  private recording = -1;
  private tracker: PacketTracker | null = null;
  private from = -1;
  private to = -1;
  private state = new Uint8Array(1024);
  private startTs = new Float64Array(1024);
  private startSeq = new Float64Array(1024);
  done = false;

  constructor(
    private readonly ctx: PacketContext,
    private readonly fromName: string,
    private readonly toName: string,
  ) {
    this.loader = new BatchLoader(ctx.dataset, { fields: new Set(['skb', 'func', 'ts']), headers: false });
  }

  advance(rows: SpanRows): void {
    const batches = this.ctx.dataset.batches;
    if (this.batch >= batches.length) {
      this.done = true;
      return;
    }
    const info = batches[this.batch];
    if (info.recording !== this.recording) {
      const probes = this.ctx.dataset.recordings[info.recording].meta.probes;
      this.recording = info.recording;
      this.tracker = new PacketTracker(this.ctx.frees[info.recording], this.ctx.releases[info.recording]);
      this.from = probes.find((p) => p.name === this.fromName)?.id ?? -1;
      this.to = probes.find((p) => p.name === this.toName)?.id ?? -1;
      this.state.fill(NONE);
    }
    if (this.from >= 0 && this.to >= 0) this.track(this.loader.load(this.batch), rows);
    this.batch++;
  }

  private grow(slots: number): void {
    const n = Math.max(slots, this.state.length * 2);
    const [state, startTs, startSeq] = [this.state, this.startTs, this.startSeq];
    this.state = new Uint8Array(n);
    this.state.set(state);
    this.startTs = new Float64Array(n);
    this.startTs.set(startTs);
    this.startSeq = new Float64Array(n);
    this.startSeq.set(startSeq);
  }

  private track(batch: LoadedBatch, rows: SpanRows): void {
    const t = this.tracker as PacketTracker;
    const skb = batch.words('skb');
    const ts = batch.words('ts');
    const func = batch.field<Uint16Array>('func');
    const seq0 = batch.info.seq;
    const from = this.from;
    const to = this.to;
    const n = batch.rows;
    for (let i = 0; i < n; i++) {
      const f = func[i];
      const s = t.step(skb[2 * i], skb[2 * i + 1], f, ts[2 * i], ts[2 * i + 1]);
      if (s >= this.state.length) this.grow(t.slots);
      const state = this.state;
      if (t.started) state[s] = NONE;
      if (f !== from && f !== to) continue;
      const st = state[s];
      if (st === STARTED && f === to) {
        const now = ts[2 * i + 1] * 0x100000000 + ts[2 * i];
        const r = rows.reserve();
        const ns = now - this.startTs[s];
        rows.recording[r] = this.recording;
        rows.packet[r] = t.packet[s];
        putWords(rows.fromSeq, r, this.startSeq[s]);
        putWords(rows.toSeq, r, seq0 + i);
        // BIGINT words: negative only if clocks of two CPUs disagreed, which the tracker's order rules out.
        putWords(rows.ns, r, Math.max(0, ns));
        rows.bucket[r] = gapBucketOf(ns);
        state[s] = DONE;
      } else if (st === NONE && f === from) {
        state[s] = STARTED;
        this.startTs[s] = ts[2 * i + 1] * 0x100000000 + ts[2 * i];
        this.startSeq[s] = seq0 + i;
      }
    }
  }
}

export function registerSpansScan(connection: duckdbTypes.Connection, ctx: PacketContext): void {
  const recordingType = duckdb.create_enum_type(ctx.named.recording.members);
  const recordingCode = Uint32Array.from(ctx.dataset.labels, (l) => ctx.named.recording.members.indexOf(l));
  const recordingCodes =
    duckdb.enum_internal_type(recordingType) === duckdb.Type.UTINYINT ? new Uint8Array(SLICE_ROWS) : new Uint16Array(SLICE_ROWS);
  const columns: [string, duckdbTypes.LogicalType, (rows: SpanRows, v: duckdbTypes.Vector, at: number, n: number) => void][] = [
    [
      'recording',
      recordingType,
      (rows, v, at, n) => {
        for (let i = 0; i < n; i++) recordingCodes[i] = recordingCode[rows.recording[at + i]];
        copy(v, recordingCodes, 0, n, recordingCodes.BYTES_PER_ELEMENT);
      },
    ],
    ['packet', duckdb.create_logical_type(duckdb.Type.UINTEGER), (rows, v, at, n) => copy(v, rows.packet, at, n, 4)],
    ['from_seq', duckdb.create_logical_type(duckdb.Type.UBIGINT), (rows, v, at, n) => copy(v, rows.fromSeq, at, n, 8)],
    ['to_seq', duckdb.create_logical_type(duckdb.Type.UBIGINT), (rows, v, at, n) => copy(v, rows.toSeq, at, n, 8)],
    ['ns', duckdb.create_logical_type(duckdb.Type.BIGINT), (rows, v, at, n) => copy(v, rows.ns, at, n, 8)],
    ['bucket', duckdb.create_logical_type(duckdb.Type.SMALLINT), (rows, v, at, n) => copy(v, rows.bucket, at, n, 2)],
  ];
  const varchar = duckdb.create_logical_type(duckdb.Type.VARCHAR);

  interface State {
    pass: SpanPass;
    rows: SpanRows;
    at: number;
    projected: number[];
  }

  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, SPANS_SCAN);
  duckdb.table_function_supports_projection_pushdown(fn, true);
  duckdb.table_function_add_named_parameter(fn, 'from_probe', varchar);
  duckdb.table_function_add_named_parameter(fn, 'to_probe', varchar);
  duckdb.table_function_set_bind(fn, (info) => {
    for (const [name, type] of columns) duckdb.bind_add_result_column(info, name, type);
    const text = (name: string): string => {
      const value = duckdb.bind_get_named_parameter(info, name);
      return value === null || duckdb.is_null_value(value) ? '' : duckdb.get_varchar(value);
    };
    duckdb.bind_set_bind_data(info, { from: text('from_probe'), to: text('to_probe') });
  });
  duckdb.table_function_set_init(fn, (info) => {
    const { from, to } = duckdb.init_get_bind_data(info) as { from: string; to: string };
    const projected: number[] = [];
    for (let i = 0; i < duckdb.init_get_column_count(info); i++) projected.push(duckdb.init_get_column_index(info, i));
    const state: State = { pass: new SpanPass(ctx, from, to), rows: new SpanRows(), at: 0, projected };
    duckdb.init_set_init_data(info, state);
    duckdb.init_set_max_threads(info, 2);
  });
  duckdb.table_function_set_function(fn, (info, output) => {
    const state = duckdb.function_get_init_data(info) as State;
    while (state.at >= state.rows.n && !state.pass.done) {
      state.rows.n = 0;
      state.at = 0;
      state.pass.advance(state.rows);
    }
    const n = Math.min(SLICE_ROWS, state.rows.n - state.at);
    state.projected.forEach((c, k) => {
      if (c < columns.length) columns[c][2](state.rows, duckdb.data_chunk_get_vector(output, k), state.at, n);
    });
    state.at += n;
    duckdb.data_chunk_set_size(output, n);
  });
  duckdb.register_table_function(connection, fn);
}

function copy(vector: duckdbTypes.Vector, src: ArrayBufferView, first: number, count: number, width: number): void {
  duckdb.copy_data_to_vector(vector, 0, src.buffer as ArrayBuffer, src.byteOffset + first * width, count * width);
}
