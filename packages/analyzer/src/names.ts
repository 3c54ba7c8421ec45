// Names for per-event keys (comm, probe, netns, interface, drop reason, location, addresses) as DuckDB
// ENUM columns of the scan: the scan writes small integer codes, looked up per slice in typed
// arrays and maps, so the events view needs no joins and filters like func = 'kfree_skb'
// compare integers. Members are sorted, so ORDER BY on an ENUM is ORDER BY its text; code 0
// is '' (unknown).
import type { Recording } from '@skbtrail/format';
import type { Vector } from 'apache-arrow';
import type { AddressBook } from './addresses.js';
import type { DecodedSlice } from './decode.js';
import type { Symbolizer } from './symbols.js';

export type Codes = Uint8Array | Uint16Array | Uint32Array;
type Source = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** The Arrow columns a lookup reads, for one batch (64-bit columns as 32-bit word pairs). */
export interface KeyColumns {
  comm: Int32Array;
  func: Uint16Array;
  netns: Uint32Array;
  ifindex: Uint32Array;
  reason: Uint32Array;
  locationWords: Uint32Array;
}

/** Rows [start, start + n) of a batch; slice holds their decoded headers when `decoded` is set. */
export interface SliceContext {
  keys: KeyColumns;
  start: number;
  n: number;
  slice: DecodedSlice;
}

export interface NamedColumn {
  members: string[];
  /** reads the decoded headers */
  decoded?: boolean;
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
  | 'daddr_text';

class Members {
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

/** Codes by a dense index (dictionary index, probe id). */
function byIndex(names: (string | null)[], key: (k: KeyColumns) => Source): NamedColumn {
  const members = new Members(names);
  const table = Uint32Array.from(names, (n) => members.code(n));
  return {
    members: members.list,
    fill({ keys, start, n }, out) {
      const src = key(keys);
      for (let i = 0; i < n; i++) out[i] = table[src[start + i]] ?? 0;
    },
  };
}

/** Codes by a 32-bit value (netns inode, drop reason), remembering the last one: runs are common. */
function byValue(entries: [number, string | null][], key: (k: KeyColumns) => Uint32Array): NamedColumn {
  const members = new Members(entries.map((e) => e[1]));
  const codes = new Map(entries.map(([v, name]) => [v, members.code(name)]));
  return {
    members: members.list,
    fill({ keys, start, n }, out) {
      const src = key(keys);
      let last = -1;
      let lastCode = 0;
      for (let i = 0; i < n; i++) {
        const v = src[start + i];
        if (v !== last) {
          last = v;
          lastCode = codes.get(v) ?? 0;
        }
        out[i] = lastCode;
      }
    },
  };
}

/**
 * Codes by a pair of 32-bit values: netns + ifindex, or an address's low + high word. key gives
 * [first, second, stride]: row r's pair is (first[r * stride], second[r * stride + stride - 1]).
 */
function byPair(entries: [number, number, string][], key: (k: KeyColumns) => [Uint32Array, Uint32Array, number]): NamedColumn {
  const members = new Members(entries.map((e) => e[2]));
  const codes = new Map<number, Map<number, number>>();
  for (const [a, b, name] of entries) {
    let inner = codes.get(a);
    if (!inner) codes.set(a, (inner = new Map()));
    inner.set(b, members.code(name));
  }
  return {
    members: members.list,
    fill({ keys, start, n }, out) {
      const [first, second, stride] = key(keys);
      let lastA = -1;
      let lastB = -1;
      let lastCode = 0;
      for (let i = 0; i < n; i++) {
        const a = first[(start + i) * stride];
        const b = second[(start + i) * stride + (stride - 1)];
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

/** The comm dictionary: every batch carries the full dictionary so far, so the longest is all of it. */
export function commNames(recording: Recording): string[] {
  let longest: Vector | null = null;
  for (const batch of recording.batches) {
    const dictionary = batch.data.children[batch.schema.fields.findIndex((f) => f.name === 'comm')]?.dictionary;
    if (dictionary && (!longest || dictionary.length > longest.length)) longest = dictionary;
  }
  return longest ? ([...longest] as string[]) : [];
}

/** Every nonzero location in the recording, as [low word, high word] pairs. */
function distinctLocations(batches: KeyColumns[]): [number, number][] {
  const seen = new Map<number, Set<number>>();
  for (const { locationWords: w } of batches) {
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
  }
  const pairs: [number, number][] = [];
  for (const [hi, los] of seen) for (const lo of los) pairs.push([lo, hi]);
  return pairs;
}

export function namedColumns(
  recording: Recording,
  comms: string[],
  keyColumns: KeyColumns[],
  symbolizer: Symbolizer,
  addresses: AddressBook,
): Record<NamedKey, NamedColumn> {
  const { meta, end } = recording;
  const probes: (string | null)[] = [];
  const kinds: (string | null)[] = [];
  for (const p of meta.probes) {
    probes[p.id] = p.name;
    kinds[p.id] = p.kind;
  }
  const netns = merged(meta.netns, end?.netns, (n) => String(n.inode));
  const ifaces = merged(meta.ifaces, end?.ifaces, (i) => `${i.netns}/${i.ifindex}`);
  const locations = distinctLocations(keyColumns).map(([lo, hi]): [number, number, string] => [
    lo,
    hi,
    symbolizer.text((BigInt(hi) << 32n) | BigInt(lo)),
  ]);
  return {
    comm: byIndex(comms, (k) => k.comm),
    func: byIndex(probes, (k) => k.func),
    kind: byIndex(kinds, (k) => k.func),
    netns_name: byValue(netns.map((n) => [n.inode, n.name]), (k) => k.netns),
    ifname: byPair(ifaces.map((i) => [i.netns, i.ifindex, i.name]), (k) => [k.netns, k.ifindex, 1]),
    reason_name: byValue(meta.dropReasons.map((r) => [r.value, r.name]), (k) => k.reason),
    location_sym: byPair(locations, (k) => [k.locationWords, k.locationWords, 2]),
    saddr_text: {
      members: addresses.members,
      decoded: true,
      fill: ({ slice, n }, out) => addresses.codes(slice.family, slice.saddr, n, out),
    },
    daddr_text: {
      members: addresses.members,
      decoded: true,
      fill: ({ slice, n }, out) => addresses.codes(slice.family, slice.daddr, n, out),
    },
  };
}
