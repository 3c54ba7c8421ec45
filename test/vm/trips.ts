// Reads a recording's events with the analyzer CLI (`skbtrail query`, on the host) and cuts each
// skb's event stream into packet trips: a trip ends where the kernel frees the skb (the kfree_skb
// or consume_skb tracepoint), since the same skb address is reused by later packets. Function
// returns (fexit) are left out: they come after the free of the skb they carried.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TraceEvent {
  ts: bigint;
  skb: string;
  func: string;
  kind: string;
  netns_name: string | null;
  reason: string | null;
  location: string | null;
  icmp_type: number | null;
  len: number;
}

/** `skbtrail query FILE SQL --format json`, rows as objects; throws with the CLI's stderr. */
export function query(file: string, sql: string): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/skbtrail.js'), 'query', file, sql, '--format', 'json'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`skbtrail query failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

/** Every event, in time order. */
export function events(file: string): TraceEvent[] {
  return query(file, 'SELECT ts, skb, func, kind, netns_name, reason, location, icmp_type, len FROM events ORDER BY ts').map((row) => ({
    ...(row as unknown as TraceEvent),
    ts: BigInt(String(row.ts)),
    skb: String(row.skb),
  }));
}

const isFree = (e: TraceEvent) => e.kind === 'tracepoint' && (e.func === 'kfree_skb' || e.func === 'consume_skb');

/** The trip `at` belongs to: its skb's events from just after the previous free up to the next free, inclusive. */
export function tripOf(all: TraceEvent[], at: TraceEvent): TraceEvent[] {
  const same = all.filter((e) => e.skb === at.skb && (e.kind !== 'fexit' || e === at));
  const i = same.indexOf(at);
  let start = i;
  while (start > 0 && !isFree(same[start - 1])) start--;
  let end = i;
  while (end < same.length - 1 && !isFree(same[end])) end++;
  return same.slice(start, end + 1);
}

/** What happens to the skb right after it is freed (within 1 ms: the freeing itself, not a later packet), returns aside. */
export function afterFree(all: TraceEvent[], free: TraceEvent): TraceEvent[] {
  return all.filter((e) => e.skb === free.skb && e.kind !== 'fexit' && e.ts > free.ts && e.ts <= free.ts + 1_000_000n);
}
