#!/usr/bin/env node
// Analyzer CLI benchmark: each analysis as a user runs it (node bin/skbtrail.js ..., a fresh
// process every time: startup, opening the file and the queries all count) on a synthetic
// recording, best of N runs, with the peak RSS of each run (GNU time's %M when it is there).
// JSON on stdout, a summary on stderr.
//   node bench/analyze.mjs [FILE] [--events N] [--runs 3] [--wait-idle]
// --wait-idle: before each run, wait (up to 5 min) until the CPUs were ≥ 85 % idle for a second;
// the reference machine is shared, and a busy neighbour doubles the times.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { untilIdle } from './idle.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/skbtrail.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args.splice(at, 2)[1]) : fallback;
};
const waitIdle = args.includes('--wait-idle') && args.splice(args.indexOf('--wait-idle'), 1).length > 0;
const events = option('--events', 10_000_000);
const runs = option('--runs', 3);
const file = args[0] ?? join(tmpdir(), `skbtrail-bench-${events}.skbtrail`);
if (!existsSync(file)) execFileSync(process.execPath, [join(ROOT, 'bench/synth.mjs'), file, String(events)], { stdio: 'inherit' });

const COMMANDS = {
  info: ['info', file],
  drops: ['drops', file],
  paths: ['paths', file],
  latency_per_hop: ['latency', file],
  latency_from_to: ['latency', file, '--from', 'net_dev_queue', '--to', 'netif_receive_skb'],
  five_tuple_query: [
    'query',
    file,
    "SELECT count(*) AS events, count(DISTINCT skb) AS skbs FROM events WHERE saddr = '10.1.0.1' AND daddr = '10.2.0.1' AND sport = 32769 AND dport = 443 AND proto = 'tcp'",
  ],
  show_limit_1000: ['show', file, '--limit', '1000'],
};

const gnuTime = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));

/** One run: wall seconds, CPU seconds and peak RSS (MB) of the whole process. */
function once(cli) {
  const idle = waitIdle ? untilIdle() : null;
  const argv = gnuTime ? [gnuTime, '-f', 'SKBTRAIL_BENCH %e %U %S %M', process.execPath, BIN, ...cli] : [process.execPath, BIN, ...cli];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`skbtrail ${cli[0]} failed: ${r.stderr}`);
  const m = /SKBTRAIL_BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { wall_s: wall, cpu_s: m ? Number(m[2]) + Number(m[3]) : null, peak_rss_mb: m ? Math.round(Number(m[4]) / 1024) : null, idle_before: idle };
}

const results = {};
for (const [name, cli] of Object.entries(COMMANDS)) {
  const all = Array.from({ length: runs }, () => once(cli));
  const best = all.reduce((a, b) => (b.wall_s < a.wall_s ? b : a));
  results[name] = {
    wall_s: Number(best.wall_s.toFixed(3)),
    cpu_s: best.cpu_s,
    peak_rss_mb: Math.max(...all.map((r) => r.peak_rss_mb ?? 0)) || null,
    runs: all.map((r) => Number(r.wall_s.toFixed(3))),
    idle_before: all.map((r) => (r.idle_before === null ? null : Number(r.idle_before.toFixed(2)))),
  };
}
const summary = {
  file,
  events,
  file_mb: Math.round(statSync(file).size / 1e6),
  machine: `${cpus().length} cores, ${cpus()[0]?.model}`,
  loadavg_after: loadavg().map((x) => Number(x.toFixed(2))),
  node: process.version,
  commands: results,
};
console.log(JSON.stringify(summary, null, 2));
console.error(
  `bench: ${(events / 1e6).toFixed(1)}M events, best of ${runs}: ` +
    Object.entries(results).map(([k, v]) => `${k} ${v.wall_s.toFixed(2)} s (${v.peak_rss_mb ?? '?'} MB)`).join(', '),
);
