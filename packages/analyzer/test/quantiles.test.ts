// latency's percentiles come from a two-pass bucket search (quantiles.ts), not from sorting every
// value: they must be exactly what DuckDB's quantile_disc gives, whatever the buckets look like.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gapBucketOf, groupStats } from '../src/quantiles.js';
import { openSession, type Session } from '../src/session.js';
import { writeScenario } from './scenario.js';

let dir: string;
let session: Session;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-quantiles-'));
  writeScenario(join(dir, 'r.skbtrail'));
  session = await openSession(join(dir, 'r.skbtrail'));
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Values per group g: spread wide (g 0), few distinct (g 1), all equal (g 2), a long tail (g 3). */
const VALUES = `(SELECT i % 4 AS g,
  CASE i % 4
    WHEN 0 THEN CAST(hash(i) % 100000000 AS BIGINT)
    WHEN 1 THEN 500 + CAST(hash(i) % 7 AS BIGINT)
    WHEN 2 THEN 150
    ELSE CAST(1000 * pow(1.01, hash(i) % 1500) AS BIGINT)
  END AS v
FROM range(200003) t(i))`;

describe('exact percentiles', () => {
  for (const [name, bucket] of [
    ['coarse buckets', 'CAST(v // 1000000 AS SMALLINT)'],
    ['fine buckets', 'CAST(v // 97 AS INTEGER)'],
  ] as const) {
    it(`equal quantile_disc's, with ${name}`, async () => {
      const stats = await groupStats(session, { from: VALUES, groups: [{ name: 'g', sql: 'g' }], value: 'v', bucket });
      const duck = (
        await session.connection.runAndReadAll(
          `SELECT g, count(*) AS n, min(v) AS lo, quantile_disc(v, [0.5, 0.9, 0.99]) AS q, max(v) AS hi FROM ${VALUES} GROUP BY g ORDER BY g`,
        )
      ).getRowObjectsJson();
      expect(stats.map((s) => [s.key[0], s.count, s.min, ...s.percentiles, s.max])).toEqual(
        duck.map((d) => [d.g, Number(d.n), Number(d.lo), ...(d.q as string[]).map(Number), Number(d.hi)]),
      );
    });
  }

  it('bucket values in sixteenths of each power of two, in order', () => {
    expect([1, 2, 3, 15, 16, 17, 31, 32].map(gapBucketOf)).toEqual([0, 16, 24, 62, 64, 65, 79, 80]);
    let last = -1;
    for (let v = 1; v < 1e10; v = Math.ceil(v * 1.01 + 1)) {
      const b = gapBucketOf(v);
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
    }
  });
});
