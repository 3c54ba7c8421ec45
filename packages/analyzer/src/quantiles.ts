// Exact percentiles of large groups, fast. DuckDB's quantile_disc sorts every value of a group
// (~4M values/s on the reference VM: 2.5 s for 10M), so instead: one pass counts the values of
// each group into fine buckets (16 per power of two), which says for each percentile
// which bucket holds it and at what rank; a second pass fetches only the values of those
// buckets, and sorting those few gives the exact value — the same one quantile_disc returns
// (the nearest rank: the value at 0-based rank ceil(n * q) - 1 in ascending order).
import { asSql, queryRows } from './commands/common.js';
import type { Session } from './session.js';
import type { Value } from './values.js';

export const PERCENTILES = [0.5, 0.9, 0.99] as const;
/** buckets per power of two */
const STEPS = 16;
/** a bucket whose values span less than this is read as value counts in the second pass */
const NARROW = 1 << 16;

/**
 * The bucket of a nanosecond value: 16 per power of two, each a sixteenth of it wide
 * (exponent × 16 + the 4 bits after the leading one). Computed in JS, as events_raw.gap_bucket
 * and in spans: DuckDB's log2 costs ~50 ns a row, this ~2 ns.
 */
export function gapBucketOf(ns: number): number {
  if (!(ns >= 1)) return 0;
  if (ns < 0x100000000) {
    const e = 31 - Math.clz32(ns);
    return e * STEPS + (e >= 4 ? (ns >>> (e - 4)) & 15 : (ns << (4 - e)) & 15);
  }
  const e = Math.floor(Math.log2(ns));
  return e * STEPS + Math.min(15, Math.floor((ns / 2 ** e - 1) * STEPS));
}

/** The lowest value of a bucket of `per` per power of two (per divides 16). */
function bucketStart(b: number, per: number): number {
  const e = Math.floor(b / per);
  return Math.round(2 ** e * (1 + (b % per) / per));
}

export interface GroupStats {
  /** the group's values of the group columns, in order */
  key: Value[];
  count: number;
  min: number;
  max: number;
  /** one per PERCENTILES */
  percentiles: number[];
  /** values per fine bucket (for histograms): bucket -> count */
  buckets: Map<number, number>;
  /** the average of Measure.position, 0 without one */
  position: number;
}

interface Target {
  group: number;
  percentile: number;
  /** rank within its bucket */
  rank: number;
}

/** What to measure: rows of `from` (a relation), grouped by `groups`, the value and its bucket. */
export interface Measure {
  from: string;
  groups: { name: string; sql: string }[];
  value: string;
  bucket: string;
  /** averaged per group into GroupStats.position (for ordering groups) */
  position?: string;
}

/** The measure's rows as (groups..., b, v): what both passes read. */
function measured(m: Measure): string {
  const keys = m.groups.map((g) => `${g.sql} AS "${g.name}", `).join('');
  return `(SELECT ${keys}${m.bucket} AS b, ${m.value} AS v, ${m.position ?? '0'} AS p FROM ${m.from})`;
}

/** Count, min, exact percentiles and max of the measure's value, per group. */
export async function groupStats(session: Session, m: Measure): Promise<GroupStats[]> {
  const groups = m.groups.map((g) => g.name);
  const quoted = groups.map((g) => `"${g}"`);
  const keyList = quoted.join(', ');
  await asSql(() =>
    session.connection.run(`CREATE OR REPLACE TEMP TABLE quantile_buckets AS
SELECT ${keyList ? `${keyList}, ` : ''}b, count(*) AS c, min(v) AS lo, max(v) AS hi, sum(p) AS p FROM ${measured(m)} GROUP BY ALL`),
  );
  const rows = await queryRows(session, `SELECT rowid AS id, * FROM quantile_buckets ORDER BY ${keyList ? `${keyList}, ` : ''}b`);
  // Group the bucket rows (sorted by group, then bucket).
  const stats: GroupStats[] = [];
  const bucketIds: number[][] = [];
  const bucketCounts: number[][] = [];
  let last = '';
  for (const r of rows) {
    const key = groups.map((g) => r[g]);
    const id = JSON.stringify(key);
    if (stats.length === 0 || id !== last) {
      stats.push({ key, count: 0, min: Infinity, max: -Infinity, percentiles: [], buckets: new Map(), position: 0 });
      bucketIds.push([]);
      bucketCounts.push([]);
      last = id;
    }
    const s = stats[stats.length - 1];
    const c = Number(r.c);
    s.count += c;
    s.min = Math.min(s.min, Number(r.lo));
    s.max = Math.max(s.max, Number(r.hi));
    s.buckets.set(Number(r.b), c);
    s.position += Number(r.p);
    bucketIds[bucketIds.length - 1].push(Number(r.id));
    bucketCounts[bucketCounts.length - 1].push(c);
  }
  for (const s of stats) s.position /= s.count;
  // Which bucket holds each percentile's rank, and the rank inside it.
  const wanted = new Map<number, Target[]>();
  stats.forEach((s, g) => {
    PERCENTILES.forEach((q, p) => {
      const k = Math.max(0, Math.ceil(s.count * q) - 1);
      let below = 0;
      for (let i = 0; i < bucketCounts[g].length; i++) {
        if (k < below + bucketCounts[g][i]) {
          const id = bucketIds[g][i];
          if (!wanted.has(id)) wanted.set(id, []);
          (wanted.get(id) as Target[]).push({ group: g, percentile: p, rank: k - below });
          break;
        }
        below += bucketCounts[g][i];
      }
    });
  });
  // A bucket whose values are all equal needs no second look (common: timings of a clock tick);
  // one spanning few distinct values (below a millisecond, a bucket is < 64 µs wide) is read as
  // value counts; only the others have their values sorted.
  const range = new Map(rows.map((r) => [Number(r.id), [Number(r.lo), Number(r.hi)]]));
  const pairs: [number, number][] = [];
  const narrow: number[] = [];
  for (const [id, targets] of wanted) {
    const [lo, hi] = range.get(id) as number[];
    if (lo === hi) for (const t of targets) stats[t.group].percentiles[t.percentile] = lo;
    else if (hi - lo < NARROW) narrow.push(id);
    else for (const t of targets) pairs.push([id, t.rank]);
  }
  const join = [...quoted.map((g) => `t.${g} IS NOT DISTINCT FROM q.${g}`), 't.b = q.b'].join(' AND ');
  if (narrow.length > 0) {
    const counts = await queryRows(
      session,
      `SELECT q.id, t.v, count(*) AS c FROM ${measured(m)} t
JOIN (SELECT rowid AS id, * FROM quantile_buckets WHERE rowid IN (${narrow.join(', ')})) q ON ${join}
GROUP BY ALL ORDER BY q.id, t.v`,
    );
    for (const id of narrow) {
      const values = counts.filter((r) => Number(r.id) === id);
      for (const t of wanted.get(id) as Target[]) {
        let below = 0;
        for (const v of values) {
          below += Number(v.c);
          if (t.rank < below) {
            stats[t.group].percentiles[t.percentile] = Number(v.v);
            break;
          }
        }
      }
    }
  }
  if (pairs.length > 0) {
    const ids = [...new Set(pairs.map(([id]) => id))];
    const values = await queryRows(
      session,
      `SELECT id, rn, v FROM (
  SELECT q.id, t.v, row_number() OVER (PARTITION BY q.id ORDER BY t.v) - 1 AS rn
  FROM ${measured(m)} t JOIN (SELECT rowid AS id, * FROM quantile_buckets WHERE rowid IN (${ids.join(', ')})) q ON ${join}
) JOIN (VALUES ${pairs.map(([id, rank]) => `(${id}, ${rank})`).join(', ')}) w(wid, wrn) ON id = wid AND rn = wrn`,
    );
    const found = new Map(values.map((v) => [`${v.id}/${v.rn}`, Number(v.v)]));
    for (const [id, targets] of wanted) {
      for (const t of targets) if (stats[t.group].percentiles[t.percentile] === undefined) stats[t.group].percentiles[t.percentile] = found.get(`${id}/${t.rank}`) as number;
    }
  }
  return stats;
}

/** Fine buckets merged into `per` buckets per power of two: [lower bound ns, upper bound ns, count]. */
export function coarseBuckets(buckets: Map<number, number>, per = 4): [number, number, number][] {
  const merged = new Map<number, number>();
  for (const [b, c] of buckets) {
    const coarse = Math.floor(b / (STEPS / per));
    merged.set(coarse, (merged.get(coarse) ?? 0) + c);
  }
  const keys = [...merged.keys()].sort((a, b) => a - b);
  const out: [number, number, number][] = [];
  if (keys.length === 0) return out;
  for (let k = keys[0]; k <= keys[keys.length - 1]; k++) out.push([bucketStart(k, per), bucketStart(k + 1, per), merged.get(k) ?? 0]);
  return out;
}
