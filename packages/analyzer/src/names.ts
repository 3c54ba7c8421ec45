// Names for per-event keys (comm, probe, netns, interface, drop reason, location, addresses,
// recording) as DuckDB ENUM columns of the scan: the scan writes small integer codes, looked up
// per slice in typed arrays and maps, so the events view needs no joins and filters like
// func = 'kfree_skb' compare integers. Members are sorted, so ORDER BY on an ENUM is ORDER BY
// its text; code 0 is '' (unknown). With several recordings, one ENUM type holds the names of
// all of them and each recording has its own key -> code table.
import type { FixedColumnName, RecordingFile } from '@skbtrail/format/file';
import type { AddressBook } from './addresses.js';
import type { Dataset, LoadedBatch } from './dataset.js';
import type { DecodedSlice } from './decode.js';
import type { Symbolizer } from './symbols.js';

export type Codes = Uint8Array | Uint16Array | Uint32Array;
type Source = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** Per-event values the packet tracker computed for a batch (tracker.ts, scan.ts). */
export interface TrackedColumns {
  packet: Uint32Array;
  hop: Uint32Array;
  /** func id of the packet's previous event, -1 at its first */
  prevFunc: Int32Array;
  /** ts of the packet's previous event, as 32-bit word pairs */
  prevTs: Uint32Array;
  /** gapBucket(ts - prevTs): where latency's percentiles start looking */
  gapBucket: Int16Array;
}

/**
 * Rows [start, start + n) of a batch, or with pick its rows pick[0..n); slice holds their
 * decoded headers (in that order), tracked the batch's packet columns (by row).
 */
export interface SliceContext {
  batch: LoadedBatch;
  start: number;
  n: number;
  pick: Int32Array | null;
  slice: DecodedSlice;
  tracked: TrackedColumns;
}

export interface NamedColumn {
  members: string[];
  /** what filling it reads */
  fields: FixedColumnName[];
  decoded?: boolean;
  tracked?: boolean;
  /** writes the codes of the context's rows into out[0, n) */
  fill(ctx: SliceContext, out: Codes): void;
}

export type NamedKey =
  | 'comm'
  | 'func'
  | 'kind'
  | 'netns_name'
  | 'ifname'
  | 'reason_name'
  | 'location_sym'
  | 'saddr_text'
  | 'daddr_text'
  | 'prev_func'
  | 'recording';

export class Members {
  readonly list: string[];
  private readonly codes = new Map<string, number>();

  constructor(names: Iterable<string | null>) {
    const set = new Set<string>(['']);
    for (const name of names) if (name !== null) set.add(name);
    this.list = [...set].sort();
    this.list.forEach((m, i) => this.codes.set(m, i));
  }

  code(name: string | null | undefined): number {
    return name == null ? 0 : (this.codes.get(name) ?? 0);
  }
}

/** Codes by a dense index (dictionary index, probe id), one table per recording. */
function byIndex(names: (string | null)[][], field: FixedColumnName): NamedColumn {
  const members = new Members(names.flat());
  const tables = names.map((list) => Uint32Array.from(list, (n) => members.code(n)));
  return {
    members: members.list,
    fields: [field],
    fill({ batch, start, n, pick }, out) {
      const table = tables[batch.info.recording];
      const src = batch.field<Source>(field);
      if (pick === null) for (let i = 0; i < n; i++) out[i] = table[src[start + i]] ?? 0;
      else for (let i = 0; i < n; i++) out[i] = table[src[pick[i]]] ?? 0;
    },
  };
}

/** Codes by a 32-bit value (netns inode, drop reason), remembering the last one: runs are common. */
function byValue(entries: [number, string | null][][], field: FixedColumnName): NamedColumn {
  const members = new Members(entries.flat().map((e) => e[1]));
  const tables = entries.map((list) => new Map(list.map(([v, name]) => [v, members.code(name)])));
  return {
    members: members.list,
    fields: [field],
    fill({ batch, start, n, pick }, out) {
      const codes = tables[batch.info.recording];
      const src = batch.field<Uint32Array>(field);
      let last = -1;
      let lastCode = 0;
      for (let i = 0; i < n; i++) {
        const v = src[pick === null ? start + i : pick[i]];
        if (v !== last) {
          last = v;
          lastCode = codes.get(v) ?? 0;
        }
        out[i] = lastCode;
      }
    },
  };
}

type PairKey = (batch: LoadedBatch) => [Uint32Array, Uint32Array, number];

/**
 * Codes by a pair of 32-bit values: netns + ifindex, or an address's low + high word. key gives
 * [first, second, stride]: row r's pair is (first[r * stride], second[r * stride + stride - 1]).
 */
function byPair(entries: [number, number, string][][], fields: FixedColumnName[], key: PairKey): NamedColumn {
  const members = new Members(entries.flat().map((e) => e[2]));
  const tables = entries.map((list) => {
    const codes = new Map<number, Map<number, number>>();
    for (const [a, b, name] of list) {
      let inner = codes.get(a);
      if (!inner) codes.set(a, (inner = new Map()));
      inner.set(b, members.code(name));
    }
    return codes;
  });
  return {
    members: members.list,
    fields,
    fill({ batch, start, n, pick }, out) {
      const codes = tables[batch.info.recording];
      const [first, second, stride] = key(batch);
      let lastA = -1;
      let lastB = -1;
      let lastCode = 0;
      for (let i = 0; i < n; i++) {
        const row = pick === null ? start + i : pick[i];
        const a = first[row * stride];
        const b = second[row * stride + (stride - 1)];
        if (a !== lastA || b !== lastB) {
          lastA = a;
          lastB = b;
          lastCode = codes.get(a)?.get(b) ?? 0;
        }
        out[i] = lastCode;
      }
    },
  };
}

/** Later entries (the stop-time rescan) supersede earlier ones with the same key; entries gone by then stay. */
export function merged<T>(start: T[], end: T[] | undefined, key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of start) byKey.set(key(item), item);
  for (const item of end ?? []) byKey.set(key(item), item);
  return [...byKey.values()];
}

/** Probe names (or kinds) by probe id. */
export function probeTable(rec: RecordingFile, what: 'name' | 'kind'): (string | null)[] {
  const table: (string | null)[] = [];
  for (const p of rec.meta.probes) table[p.id] = p[what];
  return Array.from(table, (v) => v ?? null);
}

export function netnsOf(rec: RecordingFile) {
  return merged(rec.meta.netns, rec.end?.netns, (n) => String(n.inode));
}

export function ifacesOf(rec: RecordingFile) {
  return merged(rec.meta.ifaces, rec.end?.ifaces, (i) => `${i.netns}/${i.ifindex}`);
}

/** Every nonzero location of a recording, as [low word, high word] pairs (one pass over the column). */
function distinctLocations(dataset: Dataset, recording: number, read: (batch: number) => Uint32Array): [number, number][] {
  const seen = new Map<number, Set<number>>();
  dataset.recordings[recording].batches.forEach((_, b) => {
    const w = read(b);
    let lastLo = 0;
    let lastHi = 0;
    for (let i = 0; i < w.length; i += 2) {
      const lo = w[i];
      const hi = w[i + 1];
      if ((lo === 0 && hi === 0) || (lo === lastLo && hi === lastHi)) continue;
      lastLo = lo;
      lastHi = hi;
      let los = seen.get(hi);
      if (!los) seen.set(hi, (los = new Set()));
      los.add(lo);
    }
  });
  const pairs: [number, number][] = [];
  for (const [hi, los] of seen) for (const lo of los) pairs.push([lo, hi]);
  return pairs;
}

export interface NameSources {
  dataset: Dataset;
  symbolizers: Symbolizer[];
  /** null: the session was opened without collecting addresses (their ENUMs then only hold '') */
  addresses: AddressBook | null;
  /** reads a batch's location column as word pairs */
  locations: (recording: number, batch: number) => Uint32Array;
}

export function namedColumns({ dataset, symbolizers, addresses, locations }: NameSources): Record<NamedKey, NamedColumn> {
  const recs = dataset.recordings;
  const probes = recs.map((r) => probeTable(r, 'name'));
  const locationEntries = recs.map((_, r) =>
    distinctLocations(dataset, r, (b) => locations(r, b)).map(([lo, hi]): [number, number, string] => [
      lo,
      hi,
      symbolizers[r].text((BigInt(hi) << 32n) | BigInt(lo)),
    ]),
  );
  const func = byIndex(probes, 'func');
  const recordingMembers = new Members(dataset.labels);
  const recordingCodes = dataset.labels.map((l) => recordingMembers.code(l));
  const address = (which: 'saddr' | 'daddr'): NamedColumn => ({
    members: addresses?.members ?? [''],
    fields: [],
    decoded: addresses !== null,
    fill: ({ slice, n }, out) => (addresses ? addresses.codes(slice.family, slice[which], n, out) : out.fill(0, 0, n)),
  });
  const funcCode = new Map(func.members.map((m, i) => [m, i]));
  const funcTables = probes.map((list) => Uint32Array.from(list, (name) => (name === null ? 0 : (funcCode.get(name) ?? 0))));
  return {
    comm: byIndex(recs.map((r) => [...r.comms]), 'comm'),
    func,
    kind: byIndex(recs.map((r) => probeTable(r, 'kind')), 'func'),
    netns_name: byValue(recs.map((r) => netnsOf(r).map((n): [number, string | null] => [n.inode, n.name])), 'netns'),
    ifname: byPair(
      recs.map((r) => ifacesOf(r).map((i): [number, number, string] => [i.netns, i.ifindex, i.name])),
      ['netns', 'ifindex'],
      (b) => [b.field<Uint32Array>('netns'), b.field<Uint32Array>('ifindex'), 1],
    ),
    reason_name: byValue(recs.map((r) => r.meta.dropReasons.map((d): [number, string] => [d.value, d.name])), 'reason'),
    location_sym: byPair(locationEntries, ['location'], (b) => {
      const w = b.words('location');
      return [w, w, 2];
    }),
    saddr_text: address('saddr'),
    daddr_text: address('daddr'),
    prev_func: {
      members: func.members,
      fields: [],
      tracked: true,
      fill({ batch, start, n, pick, tracked }, out) {
        const table = funcTables[batch.info.recording];
        for (let i = 0; i < n; i++) {
          const f = tracked.prevFunc[pick === null ? start + i : pick[i]];
          out[i] = f < 0 ? 0 : (table[f] ?? 0);
        }
      },
    },
    recording: {
      members: recordingMembers.list,
      fields: [],
      fill: ({ batch, n }, out) => out.fill(recordingCodes[batch.info.recording], 0, n),
    },
  };
}
