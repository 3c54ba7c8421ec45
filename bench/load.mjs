#!/usr/bin/env node
// Load benchmark: Arrow read (format reader) and DuckDB load (analyzer) rates for a synthetic
// recording, then the time of each analysis, and peak RSS. JSON on stdout, a summary on stderr.
//   node bench/load.mjs [FILE] [--events N]     (FILE defaults to a cached synthetic recording)
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRecording } from '@skbtrail/format';
import { DROPS_SQL, loadRecording, pickSql, pickedSql } from '@skbtrail/analyzer';

const args = process.argv.slice(2);
const eventsAt = args.indexOf('--events');
const events = eventsAt >= 0 ? Number(args.splice(eventsAt, 2)[1]) : 10_000_000;
const file = args[0] ?? join(tmpdir(), `skbtrail-bench-${events}.skbtrail`);
if (!existsSync(file)) {
  execFileSync(process.execPath, [new URL('./synth.mjs', import.meta.url).pathname, file, String(events)], { stdio: 'inherit' });
}

const seconds = (t0) => (performance.now() - t0) / 1000;
let t0 = performance.now();
const recording = openRecording(file);
const read_s = seconds(t0);
const rows = recording.batches.reduce((n, b) => n + b.numRows, 0);
t0 = performance.now();
const session = await loadRecording(recording, statSync(file).size);
const load_s = seconds(t0);

// A TCP flow of bench/synth.mjs (flow 1).
const FIVE_TUPLE = `SELECT count(*) AS events, count(DISTINCT skb) AS packets FROM events
  WHERE saddr = '10.1.0.1' AND daddr = '10.2.0.1' AND sport = 32769 AND dport = 443 AND proto = 'tcp'`;
const run = (sql) => session.connection.runAndReadAll(sql);
const QUERIES = {
  info: () => run('SELECT min(time), max(time) FROM events'),
  drops: () => run(DROPS_SQL),
  // as skbtrail show --limit 1000 does it: pick the rows, then build their columns
  show_limit_1000: async () => {
    const seqs = (await run(pickSql({ limit: 1000 }))).getColumnsJson()[0].map(Number);
    return run(pickedSql(recording.meta, seqs));
  },
  five_tuple: () => run(FIVE_TUPLE),
};
// Best of 3: the reference machine is shared, so single runs are noisy.
const query_s = {};
for (const [name, query] of Object.entries(QUERIES)) {
  for (let i = 0; i < 3; i++) {
    t0 = performance.now();
    await query();
    query_s[name] = Math.min(query_s[name] ?? Infinity, seconds(t0));
  }
}
session.close();

const result = {
  file,
  events: rows,
  file_mb: Math.round(statSync(file).size / 1e6),
  read_s,
  load_s,
  read_events_per_s: Math.round(rows / read_s),
  load_events_per_s: Math.round(rows / load_s),
  read_and_load_events_per_s: Math.round(rows / (read_s + load_s)),
  query_s,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(JSON.stringify(result, null, 2));
const m = (n) => (n / 1e6).toFixed(1);
console.error(
  `bench: ${m(rows)}M events: Arrow read ${result.read_s.toFixed(2)} s (${m(result.read_events_per_s)}M/s), ` +
    `DuckDB load ${result.load_s.toFixed(2)} s (${m(result.load_events_per_s)}M/s); ` +
    Object.entries(query_s).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') +
    `; peak RSS ${result.peak_rss_mb} MB`,
);
