// packets and paths: one row per packet (a lifetime of an skb address, tracker.ts) and one per
// distinct trajectory, from one streaming pass over the recordings' events in recording order.
// The pass keeps state only for the packets alive at the moment (one slot per address) and
// emits a packet's row when it is freed, or at the end of its recording; its hops walk down a
// trie of trajectories (PathTrie), so a packet's path is a node id and grouping packets by path
// is a GROUP BY on an integer.
import type duckdbTypes from '@duckdb/node-bindings';
import { duckdb } from './cjs.js';
import type { FixedColumnName, RecordingFile } from '@skbtrail/format/file';
import { BatchLoader, type Dataset } from './dataset.js';
import { SLICE_ROWS } from './decode.js';
import type { DropRule } from './droprule.js';
import { type NamedColumn, type NamedKey, ifacesOf, netnsOf, probeTable } from './names.js';
import { codesFor } from './scan.js';
import { CloneSpotter, PacketTracker, type PathTrie } from './tracker.js';
import { grown } from './grown.js';

export const PACKETS_SCAN = 'skbtrail_packets';
export const PATHS_SCAN = 'skbtrail_paths';
export const PATH_HOPS_SCAN = 'skbtrail_path_hops';

export interface PacketContext {
  dataset: Dataset;
  named: Record<NamedKey, NamedColumn>;
  dropRules: DropRule[];
  frees: Uint8Array[];
  /** per recording: func ids that still belong to a packet being freed */
  releases: Uint8Array[];
  clones: Uint8Array[];
  /** per recording; shared by every pass of the session so path ids stay the same */
  tries: PathTrie[];
}

const PASS_FIELDS: FixedColumnName[] = ['skb', 'func', 'ts', 'cpu', 'netns', 'ifindex', 'reason'];
const NO_PARENT = 0xffffffff;
export const FATES = ['consumed', 'dropped', 'open'];
const [CONSUMED, DROPPED, OPEN] = [0, 1, 2];

/** Packet rows waiting to be handed to DuckDB; 64-bit values as word pairs. */
class PacketRows {
  n = 0;
  recording = new Uint16Array(SLICE_ROWS);
  packet = new Uint32Array(SLICE_ROWS);
  skb = new Uint32Array(SLICE_ROWS * 2);
  parent = new Uint32Array(SLICE_ROWS);
  events = new Uint32Array(SLICE_ROWS);
  firstSeq = new Uint32Array(SLICE_ROWS * 2);
  lastSeq = new Uint32Array(SLICE_ROWS * 2);
  firstTs = new Uint32Array(SLICE_ROWS * 2);
  lastTs = new Uint32Array(SLICE_ROWS * 2);
  path = new Uint32Array(SLICE_ROWS);
  fate = new Uint8Array(SLICE_ROWS);
  reason = new Uint32Array(SLICE_ROWS);
  lastFunc = new Uint16Array(SLICE_ROWS);

  reserve(): number {
    const i = this.n++;
    if (i >= this.packet.length) {
      const n = i + 1;
      this.recording = grown(this.recording, n);
      this.packet = grown(this.packet, n);
      this.skb = grown(this.skb, n * 2);
      this.parent = grown(this.parent, n);
      this.events = grown(this.events, n);
      this.firstSeq = grown(this.firstSeq, n * 2);
      this.lastSeq = grown(this.lastSeq, n * 2);
      this.firstTs = grown(this.firstTs, n * 2);
      this.lastTs = grown(this.lastTs, n * 2);
      this.path = grown(this.path, n);
      this.fate = grown(this.fate, n);
      this.reason = grown(this.reason, n);
      this.lastFunc = grown(this.lastFunc, n);
    }
    return i;
  }
}

/** What the pass knows of each live packet, by tracker slot. */
class SlotState {
  skb = new Uint32Array(0);
  parent = new Uint32Array(0);
  events = new Uint32Array(0);
  firstSeq = new Uint32Array(0);
  firstTs = new Uint32Array(0);
  lastSeq = new Uint32Array(0);
  node = new Uint32Array(0);
  dropped = new Uint8Array(0);
  reason = new Uint32Array(0);

  ensure(slots: number): void {
    if (this.events.length >= slots) return;
    const n = Math.max(slots, this.events.length * 2, 1024);
    this.skb = grown(this.skb, n * 2);
    this.parent = grown(this.parent, n);
    this.events = grown(this.events, n);
    this.firstSeq = grown(this.firstSeq, n * 2);
    this.firstTs = grown(this.firstTs, n * 2);
    this.lastSeq = grown(this.lastSeq, n * 2);
    this.node = grown(this.node, n);
    this.dropped = grown(this.dropped, n);
    this.reason = grown(this.reason, n);
  }
}

/** One pass over the dataset's events that produces packet rows a batch at a time. */
export class PacketPass {
  private readonly loader: BatchLoader;
  private batch = 0;
  private recording = -1;
  private tracker: PacketTracker | null = null;
  /** null when the recording has no cloning probe to link packets by */
  private spotter: CloneSpotter | null = null;
  private slots = new SlotState();
  done = false;

  constructor(private readonly ctx: PacketContext) {
    this.loader = new BatchLoader(ctx.dataset, { fields: new Set(PASS_FIELDS), headers: false });
  }

  /** Adds the packets that end in the next batch (or at the end of a recording) to rows. */
  advance(rows: PacketRows): void {
    const batches = this.ctx.dataset.batches;
    if (this.batch >= batches.length) {
      this.finishRecording(rows);
      this.done = true;
      return;
    }
    const info = batches[this.batch];
    if (info.recording !== this.recording) {
      this.finishRecording(rows);
      this.startRecording(info.recording);
    }
    this.track(this.loader.load(this.batch), rows);
    this.batch++;
  }

  private startRecording(recording: number): void {
    this.recording = recording;
    this.tracker = new PacketTracker(this.ctx.frees[recording], this.ctx.releases[recording]);
    const clones = this.ctx.clones[recording];
    this.spotter = clones.some((c) => c === 1) ? new CloneSpotter(clones) : null;
    this.slots = new SlotState();
  }

  /** How the packet in slot s ended: freed (dropped or consumed) or not (open). */
  private fate(s: number): number {
    const t = this.tracker as PacketTracker;
    return t.closing[s] === 0 ? OPEN : this.slots.dropped[s] === 1 ? DROPPED : CONSUMED;
  }

  /** The packets each address held last, when the recording ends. */
  private finishRecording(rows: PacketRows): void {
    const t = this.tracker;
    if (t === null) return;
    for (let s = 0; s < t.slots; s++) if (t.open[s] === 1) this.emit(s, this.fate(s), rows);
    this.ctx.tries[this.recording].complete = true;
    this.tracker = null;
  }

  private track(batch: ReturnType<BatchLoader['load']>, rows: PacketRows): void {
    const t = this.tracker as PacketTracker;
    const spotter = this.spotter;
    const trie = this.ctx.tries[this.recording];
    const rule = this.ctx.dropRules[this.recording];
    const st = this.slots;
    const skb = batch.words('skb');
    const ts = batch.words('ts');
    const func = batch.field<Uint16Array>('func');
    const cpu = batch.field<Uint16Array>('cpu');
    const netns = batch.field<Uint32Array>('netns');
    const ifindex = batch.field<Uint32Array>('ifindex');
    const reason = batch.field<Uint32Array>('reason');
    const seq0 = batch.info.seq;
    for (let i = 0; i < batch.rows; i++) {
      const lo = skb[2 * i];
      const hi = skb[2 * i + 1];
      const f = func[i];
      const s = t.slotOf(lo, hi);
      if (s >= st.events.length) st.ensure(t.slots);
      // A packet's row is complete when its address moves on to the next packet.
      if (t.restarts(s, f)) this.emit(s, this.fate(s), rows);
      t.advance(s, f, ts[2 * i], ts[2 * i + 1]);
      const parent = spotter === null ? -1 : spotter.see(cpu[i], f, t.packet[s], t.started, ts[2 * i], ts[2 * i + 1]);
      const seq = seq0 + i;
      st.lastSeq[2 * s] = seq >>> 0;
      st.lastSeq[2 * s + 1] = Math.floor(seq / 0x100000000);
      if (t.started) {
        st.skb[2 * s] = lo;
        st.skb[2 * s + 1] = hi;
        st.parent[s] = parent < 0 ? NO_PARENT : parent;
        st.events[s] = 0;
        st.firstSeq[2 * s] = seq >>> 0;
        st.firstSeq[2 * s + 1] = Math.floor(seq / 0x100000000);
        st.firstTs[2 * s] = ts[2 * i];
        st.firstTs[2 * s + 1] = ts[2 * i + 1];
        st.node[s] = 0;
        st.dropped[s] = 0;
        st.reason[s] = 0;
      }
      st.events[s]++;
      const r = reason[i];
      const drop = r !== 0 && rule.isDrop(r, f);
      if (drop) {
        st.dropped[s] = 1;
        st.reason[s] = r;
      }
      st.node[s] = trie.child(st.node[s], trie.hopKey(f, netns[i], ifindex[i], drop ? r : 0));
    }
  }

  /** The row of the packet slot s holds (before its address moves on). */
  private emit(s: number, fate: number, rows: PacketRows): void {
    const t = this.tracker as PacketTracker;
    const st = this.slots;
    const trie = this.ctx.tries[this.recording];
    const i = rows.reserve();
    rows.recording[i] = this.recording;
    rows.packet[i] = t.packet[s];
    rows.skb[2 * i] = st.skb[2 * s];
    rows.skb[2 * i + 1] = st.skb[2 * s + 1];
    rows.parent[i] = st.parent[s];
    rows.events[i] = st.events[s];
    rows.firstSeq[2 * i] = st.firstSeq[2 * s];
    rows.firstSeq[2 * i + 1] = st.firstSeq[2 * s + 1];
    rows.lastSeq[2 * i] = st.lastSeq[2 * s];
    rows.lastSeq[2 * i + 1] = st.lastSeq[2 * s + 1];
    rows.firstTs[2 * i] = st.firstTs[2 * s];
    rows.firstTs[2 * i + 1] = st.firstTs[2 * s + 1];
    rows.lastTs[2 * i] = t.lastTsLo[s];
    rows.lastTs[2 * i + 1] = t.lastTsHi[s];
    rows.path[i] = st.node[s];
    trie.terminal[st.node[s]] = 1;
    rows.fate[i] = fate;
    rows.reason[i] = st.dropped[s] === 1 ? st.reason[s] : 0;
    rows.lastFunc[i] = t.lastFunc[s];
  }
}

/** Runs a whole pass, so every trie holds every path (what the paths tables read). */
export function completeTries(ctx: PacketContext): void {
  if (ctx.tries.every((t) => t.complete)) return;
  const pass = new PacketPass(ctx);
  const rows = new PacketRows();
  while (!pass.done) {
    rows.n = 0;
    pass.advance(rows);
  }
}

// --- the table functions --------------------------------------------------------------------

interface OutColumn {
  name: string;
  type: duckdbTypes.LogicalType;
}

function logical(type: duckdbTypes.Type): duckdbTypes.LogicalType {
  return duckdb.create_logical_type(type);
}

function copyTo(vector: duckdbTypes.Vector, target: number, src: ArrayBufferView, first: number, count: number, width: number): void {
  duckdb.copy_data_to_vector(vector, target * width, src.buffer as ArrayBuffer, src.byteOffset + first * width, count * width);
}

/** ENUM code tables that turn per-recording values into the events view's names. */
function codeTables(ctx: PacketContext) {
  const code = (members: string[]) => {
    const m = new Map(members.map((name, i) => [name, i]));
    return (name: string | null | undefined) => (name == null ? 0 : (m.get(name) ?? 0));
  };
  const funcCode = code(ctx.named.func.members);
  const reasonCode = code(ctx.named.reason_name.members);
  const recordingCode = code(ctx.named.recording.members);
  return {
    func: ctx.dataset.recordings.map((r) => Uint32Array.from(probeTable(r, 'name'), funcCode)),
    reason: ctx.dataset.recordings.map((r) => new Map(r.meta.dropReasons.map((d) => [d.value, reasonCode(d.name)]))),
    recording: Uint32Array.from(ctx.dataset.labels, recordingCode),
  };
}

/** skbtrail_packets(): the packet rows of a fresh pass. */
export function registerPacketsScan(connection: duckdbTypes.Connection, ctx: PacketContext): void {
  const enums = {
    recording: duckdb.create_enum_type(ctx.named.recording.members),
    func: duckdb.create_enum_type(ctx.named.func.members),
    reason: duckdb.create_enum_type(ctx.named.reason_name.members),
    fate: duckdb.create_enum_type(FATES),
  };
  const columns: OutColumn[] = [
    { name: 'recording', type: enums.recording },
    { name: 'packet', type: logical(duckdb.Type.UINTEGER) },
    { name: 'skb', type: logical(duckdb.Type.UBIGINT) },
    { name: 'parent', type: logical(duckdb.Type.UINTEGER) },
    { name: 'events', type: logical(duckdb.Type.UINTEGER) },
    { name: 'first_seq', type: logical(duckdb.Type.UBIGINT) },
    { name: 'last_seq', type: logical(duckdb.Type.UBIGINT) },
    { name: 'first_ts', type: logical(duckdb.Type.UBIGINT) },
    { name: 'last_ts', type: logical(duckdb.Type.UBIGINT) },
    { name: 'path', type: logical(duckdb.Type.UINTEGER) },
    { name: 'fate', type: enums.fate },
    { name: 'reason_code', type: logical(duckdb.Type.UINTEGER) },
    { name: 'reason_name', type: enums.reason },
    { name: 'last_func', type: enums.func },
  ];
  const tables = codeTables(ctx);
  const scratch = {
    recording: codesFor(enums.recording),
    func: codesFor(enums.func),
    reason: codesFor(enums.reason),
  };

  interface State {
    pass: PacketPass;
    rows: PacketRows;
    /** next pending row to hand out */
    at: number;
    columns: number[];
  }

  function fillColumn(vector: duckdbTypes.Vector, column: number, rows: PacketRows, at: number, n: number): void {
    switch (columns[column].name) {
      case 'recording': {
        for (let i = 0; i < n; i++) scratch.recording[i] = tables.recording[rows.recording[at + i]];
        return copyTo(vector, 0, scratch.recording, 0, n, scratch.recording.BYTES_PER_ELEMENT);
      }
      case 'packet':
        return copyTo(vector, 0, rows.packet, at, n, 4);
      case 'skb':
        return copyTo(vector, 0, rows.skb, at, n, 8);
      case 'parent':
        return copyTo(vector, 0, rows.parent, at, n, 4);
      case 'events':
        return copyTo(vector, 0, rows.events, at, n, 4);
      case 'first_seq':
        return copyTo(vector, 0, rows.firstSeq, at, n, 8);
      case 'last_seq':
        return copyTo(vector, 0, rows.lastSeq, at, n, 8);
      case 'first_ts':
        return copyTo(vector, 0, rows.firstTs, at, n, 8);
      case 'last_ts':
        return copyTo(vector, 0, rows.lastTs, at, n, 8);
      case 'path':
        return copyTo(vector, 0, rows.path, at, n, 4);
      case 'fate':
        return copyTo(vector, 0, rows.fate, at, n, 1);
      case 'reason_code':
        return copyTo(vector, 0, rows.reason, at, n, 4);
      case 'reason_name': {
        for (let i = 0; i < n; i++) scratch.reason[i] = tables.reason[rows.recording[at + i]].get(rows.reason[at + i]) ?? 0;
        return copyTo(vector, 0, scratch.reason, 0, n, scratch.reason.BYTES_PER_ELEMENT);
      }
      case 'last_func': {
        for (let i = 0; i < n; i++) scratch.func[i] = tables.func[rows.recording[at + i]][rows.lastFunc[at + i]] ?? 0;
        return copyTo(vector, 0, scratch.func, 0, n, scratch.func.BYTES_PER_ELEMENT);
      }
    }
  }

  const fn = duckdb.create_table_function();
  duckdb.table_function_set_name(fn, PACKETS_SCAN);
  duckdb.table_function_supports_projection_pushdown(fn, true);
  duckdb.table_function_set_bind(fn, (info) => {
    for (const c of columns) duckdb.bind_add_result_column(info, c.name, c.type);
    duckdb.bind_set_cardinality(info, Math.max(1, Math.round(ctx.dataset.total / 4)), false);
  });
  duckdb.table_function_set_init(fn, (info) => {
    const projected: number[] = [];
    for (let i = 0; i < duckdb.init_get_column_count(info); i++) projected.push(duckdb.init_get_column_index(info, i));
    const state: State = { pass: new PacketPass(ctx), rows: new PacketRows(), at: 0, columns: projected };
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
    for (let k = 0; k < state.columns.length; k++) {
      const c = state.columns[k];
      if (c < columns.length) fillColumn(duckdb.data_chunk_get_vector(output, k), c, state.rows, state.at, n);
    }
    state.at += n;
    duckdb.data_chunk_set_size(output, n);
  });
  duckdb.register_table_function(connection, fn);
}

// --- paths ------------------------------------------------------------------------------------

interface HopText {
  func: string;
  netns: number;
  netnsName: string | null;
  ifindex: number;
  ifname: string | null;
  reason: string | null;
}

/** Names a recording's hop keys: probe, namespace, interface, drop reason. */
function hopTexts(rec: RecordingFile, trie: PathTrie): HopText[] {
  const funcs = probeTable(rec, 'name');
  const netnsNames = new Map(netnsOf(rec).map((n) => [n.inode, n.name]));
  const ifnames = new Map(ifacesOf(rec).map((i) => [`${i.netns}/${i.ifindex}`, i.name]));
  const reasons = new Map(rec.meta.dropReasons.map((r) => [r.value, r.name]));
  const texts: HopText[] = [];
  for (let k = 0; k < trie.hopKeys; k++) {
    const netns = trie.hopNetns[k];
    const ifindex = trie.hopIfindex[k];
    const reason = trie.hopReason[k];
    texts.push({
      func: funcs[trie.hopFunc[k]] ?? String(trie.hopFunc[k]),
      netns,
      netnsName: netnsNames.get(netns) ?? null,
      ifindex,
      ifname: ifindex === 0 ? null : (ifnames.get(`${netns}/${ifindex}`) ?? null),
      reason: reason === 0 ? null : (reasons.get(reason) ?? String(reason)),
    });
  }
  return texts;
}

/** Where a hop happened, as the trajectory text shows it: netns[/ifname]. */
export function placeText(h: { netns: number; netnsName: string | null; ifindex: number; ifname: string | null }): string {
  const ns = h.netnsName ?? (h.netns === 0 ? '?' : String(h.netns));
  return h.ifindex === 0 ? ns : `${ns}/${h.ifname ?? h.ifindex}`;
}

/** `a/veth-a: net_dev_queue net_dev_start_xmit > b/veth-b: netif_rx kfree_skb(NETFILTER_DROP)` */
export function trajectoryText(hops: HopText[]): string {
  const parts: string[] = [];
  let place: string | null = null;
  for (const h of hops) {
    const here = placeText(h);
    const name = h.reason ? `${h.func}(${h.reason})` : h.func;
    if (here === place) parts[parts.length - 1] += ` ${name}`;
    else parts.push(`${here}: ${name}`);
    place = here;
  }
  return parts.join(' > ');
}

/** skbtrail_paths() and skbtrail_path_hops(): the distinct trajectories, from the tries. */
export function registerPathScans(connection: duckdbTypes.Connection, ctx: PacketContext): void {
  const recordingType = duckdb.create_enum_type(ctx.named.recording.members);
  const recordingCode = new Map(ctx.named.recording.members.map((m, i) => [m, i]));
  const varchar = logical(duckdb.Type.VARCHAR);
  const uint = logical(duckdb.Type.UINTEGER);

  /** Every row of one table, built when a scan starts (the tables are small). */
  type Cell = number | string | null;
  type Kind = 'recording' | 'uint' | 'text';
  const types: Record<Kind, duckdbTypes.LogicalType> = { recording: recordingType, uint, text: varchar };
  function register(name: string, columns: [string, Kind][], build: () => Cell[][]): void {
    const fn = duckdb.create_table_function();
    duckdb.table_function_set_name(fn, name);
    duckdb.table_function_set_bind(fn, (info) => {
      for (const [column, kind] of columns) duckdb.bind_add_result_column(info, column, types[kind]);
    });
    duckdb.table_function_set_init(fn, (info) => {
      completeTries(ctx);
      duckdb.init_set_init_data(info, { rows: build(), at: 0 });
    });
    duckdb.table_function_set_function(fn, (info, output) => {
      const state = duckdb.function_get_init_data(info) as { rows: Cell[][]; at: number };
      const n = Math.min(SLICE_ROWS, state.rows.length - state.at);
      columns.forEach(([, kind], c) => {
        const vector = duckdb.data_chunk_get_vector(output, c);
        const numbers = kind === 'recording' ? codesFor(recordingType) : kind === 'uint' ? new Uint32Array(SLICE_ROWS) : null;
        let validity: Uint8Array | null = null;
        for (let i = 0; i < n; i++) {
          const v = state.rows[state.at + i][c];
          if (v === null) {
            validity ??= new Uint8Array(SLICE_ROWS / 8).fill(0xff);
            validity[i >> 3] &= ~(1 << (i & 7));
          } else if (numbers) numbers[i] = v as number;
          else duckdb.vector_assign_string_element(vector, i, v as string);
        }
        if (numbers) copyTo(vector, 0, numbers, 0, n, numbers.BYTES_PER_ELEMENT);
        if (validity) {
          duckdb.vector_ensure_validity_writable(vector);
          duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer as ArrayBuffer, 0, validity.byteLength);
        }
      });
      state.at += n;
      duckdb.data_chunk_set_size(output, n);
    });
    duckdb.register_table_function(connection, fn);
  }

  const perPath = (visit: (recording: number, path: number, hops: HopText[]) => void): void => {
    ctx.tries.forEach((trie, r) => {
      const texts = hopTexts(ctx.dataset.recordings[r], trie);
      for (let node = 1; node < trie.nodes; node++) {
        if (trie.terminal[node] === 1) visit(r, node, trie.hops(node).map((k) => texts[k]));
      }
    });
  };
  const label = (r: number): number => recordingCode.get(ctx.dataset.labels[r]) ?? 0;

  register(PATHS_SCAN, [['recording', 'recording'], ['path', 'uint'], ['hops', 'uint'], ['trajectory', 'text']], () => {
    const rows: Cell[][] = [];
    perPath((r, path, hops) => rows.push([label(r), path, hops.length, trajectoryText(hops)]));
    return rows;
  });
  register(
    PATH_HOPS_SCAN,
    [
      ['recording', 'recording'],
      ['path', 'uint'],
      ['hop', 'uint'],
      ['func', 'text'],
      ['netns', 'uint'],
      ['netns_name', 'text'],
      ['ifindex', 'uint'],
      ['ifname', 'text'],
      ['reason', 'text'],
    ],
    () => {
      const rows: Cell[][] = [];
      perPath((r, path, hops) =>
        hops.forEach((h, hop) => rows.push([label(r), path, hop, h.func, h.netns, h.netnsName, h.ifindex, h.ifname, h.reason])),
      );
      return rows;
    },
  );
}

