// Exact percentiles of large groups, fast. DuckDB's quantile_disc sorts every value of a group
// (~4M values/s on the reference VM: 2.5 s for 10M), so instead: one pass counts the values of
// each group into fine log-scale buckets (16 per power of two), which says for each percentile
// which bucket holds it and at what rank; a second pass fetches only the values of those
// buckets, and sorting those few gives the exact value — the same one quantile_disc returns
// (the nearest rank: the value at 0-based rank ceil(n * q) - 1 in ascending order).
import { asSql, queryRows } from './commands/common.js';
import type { Session } from './session.js';
import type { Value } from './values.js';

export const PERCENTILES = [0.5, 0.9, 0.99] as const;
/** buckets per power of two */
const STEPS = 16;

/** The bucket of a nanosecond value, as SQL. */
export function bucketSql(ns: string): string {
  return `CAST(floor(log2(greatest(${ns}, 1)) * ${STEPS}) AS SMALLINT)`;
}

/** The same bucket in JS (the scan computes events_raw.gap_bucket with it: DuckDB's log2 is slow). */
export function gapBucketOf(ns: number): number {
  return ns <= 1 ? 0 : Math.floor(Math.log2(ns) * STEPS);
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
  // A bucket whose values are all equal needs no second look (common: timings of a clock tick).
  const equal = new Map(rows.map((r) => [Number(r.id), r.lo === r.hi ? Number(r.lo) : null]));
  const pairs: [number, number][] = [];
  for (const [id, targets] of wanted) {
    const value = equal.get(id);
    for (const t of targets) {
      if (value !== null && value !== undefined) stats[t.group].percentiles[t.percentile] = value;
      else pairs.push([id, t.rank]);
    }
  }
  if (pairs.length > 0) {
    const join = [...quoted.map((g) => `t.${g} IS NOT DISTINCT FROM q.${g}`), 't.b = q.b'].join(' AND ');
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
    const coarse = Math.floor((b * per) / STEPS);
    merged.set(coarse, (merged.get(coarse) ?? 0) + c);
  }
  const keys = [...merged.keys()].sort((a, b) => a - b);
  const out: [number, number, number][] = [];
  if (keys.length === 0) return out;
  for (let k = keys[0]; k <= keys[keys.length - 1]; k++) {
    out.push([Math.round(2 ** (k / per)), Math.round(2 ** ((k + 1) / per)), merged.get(k) ?? 0]);
  }
  return out;
}
