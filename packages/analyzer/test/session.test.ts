// The library under the CLI: a recording behind DuckDB, scanned in place.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../src/session.js';
import { eventBatches, writeScenario } from './scenario.js';

let dir: string;
let session: Session;
const rows = async (sql: string) => (await session.connection.runAndReadAll(sql)).getRowObjectsJson();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-session-'));
  writeScenario(join(dir, 'r.skbtrail'));
  session = await openSession(join(dir, 'r.skbtrail'));
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('events_raw', () => {
  it('numbers the events of all batches in recording order', async () => {
    const events = eventBatches().flat();
    expect(session.events).toBe(events.length);
    const got = await rows('SELECT seq, ts FROM events_raw ORDER BY seq');
    expect(got.map((r) => Number(r.seq))).toEqual(events.map((_, i) => i));
    expect(got.map((r) => BigInt(r.ts as string))).toEqual(events.map((e) => e.ts));
  });

  it('carries the captured header bytes', async () => {
    const events = eventBatches().flat();
    const got = await rows('SELECT seq, hex(headers) AS h FROM events_raw ORDER BY seq');
    expect(got.map((r) => r.h)).toEqual(events.map((e) => Buffer.from(e.headers).toString('hex').toUpperCase()));
  });

  it('returns just the events asked for by number, across batches, like the full scan', async () => {
    const picked = [13, 2, 9, 3, 99];
    const columns = 'seq, comm, func, netns_name, ifname, saddr_text, dport, location_sym, hex(headers) AS h';
    const some = await rows(`SELECT ${columns} FROM skbtrail_events(rows := [${picked.join(', ')}]) ORDER BY seq`);
    const all = await rows(`SELECT ${columns} FROM events_raw WHERE seq IN (${picked.join(', ')}) ORDER BY seq`);
    expect(some).toEqual(all);
    expect(some.map((r) => r.seq)).toEqual(['2', '3', '9', '13']);
  });
});

describe('events', () => {
  it('has the same rows as events_raw, with names and text', async () => {
    const [counts] = await rows('SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM events_raw) AS raw');
    expect(counts).toEqual({ events: '14', raw: '14' });
    expect(await rows("SELECT DISTINCT func FROM events WHERE reason IS NOT NULL ORDER BY func")).toEqual([{ func: 'kfree_skb' }]);
  });

  it('orders ENUM text columns alphabetically', async () => {
    const got = await rows('SELECT DISTINCT func FROM events ORDER BY func');
    const names = got.map((r) => r.func as string);
    expect(names).toEqual([...names].sort());
  });
});
