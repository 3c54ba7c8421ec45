#!/usr/bin/env node
// Analyzer load benchmark, in process: opening a recording (indexing the file, names, addresses),
// how fast DuckDB consumes its events through the scan, and each analysis's queries on an open
// session; peak RSS. JSON on stdout, a summary on stderr. (bench/analyze.mjs times the CLI.)
//   node bench/load.mjs [FILE] [--events N] [--wait-idle]   (FILE defaults to a cached synthetic recording)
// --wait-idle: each measurement starts once the CPUs were ≥ 85 % idle for a second.
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { untilIdle } from './idle.mjs';
import { join } from 'node:path';
import { dropsQuery, groupStats, hopsSource, openSession, pathCountsSql, pathsSql, pickSql, pickedSql, spansSource } from '@skbtrail/analyzer';

const args = process.argv.slice(2);
const waitIdle = args.includes('--wait-idle') && args.splice(args.indexOf('--wait-idle'), 1).length > 0;
const quiet = () => (waitIdle ? untilIdle() : null);
const eventsAt = args.indexOf('--events');
const events = eventsAt >= 0 ? Number(args.splice(eventsAt, 2)[1]) : 10_000_000;
const file = args[0] ?? join(tmpdir(), `skbtrail-bench-${events}.skbtrail`);
if (!existsSync(file)) {
  execFileSync(process.execPath, [new URL('./synth.mjs', import.meta.url).pathname, file, String(events)], { stdio: 'inherit' });
}

const seconds = (t0) => (performance.now() - t0) / 1000;
quiet();
let t0 = performance.now();
const session = await openSession(file);
const open_s = seconds(t0);
const rows = session.events;
const run = (sql) => session.connection.runAndReadAll(sql);

// Every fixed-width column of the file through DuckDB, plus the decoded, named and packet columns.
const FULL_RAW = `SELECT count(*), max(ts), max(cpu), max(pid), max(comm_id), max(skb), max(func_id), max(netns), max(ifindex),
  max(mark), max(len), max(mtu), max(ethertype), max(pkt_type), max(reason), max(location), max(stack_id), max(has_mac),
  max(net_off), max(trans_off) FROM events_raw`;
const FULL_VIEW = `SELECT count(*), max(time), max(comm), max(func), max(netns_name), max(ifname), max(proto), max(saddr), max(daddr),
  max(sport), max(dport), max(reason), max(location), max(packet), max(hop) FROM events`;
quiet();
t0 = performance.now();
await run(FULL_RAW);
const scan_s = seconds(t0);
quiet();
t0 = performance.now();
await run(FULL_VIEW);
const view_s = seconds(t0);

// A TCP flow of bench/synth.mjs (flow 1).
const FIVE_TUPLE = `SELECT count(*) AS events, count(DISTINCT skb) AS skbs FROM events
  WHERE saddr = '10.1.0.1' AND daddr = '10.2.0.1' AND sport = 32769 AND dport = 443 AND proto = 'tcp'`;
const QUERIES = {
  info: () => run('SELECT min(time), max(time) FROM events'),
  drops: () => run(dropsQuery(session)),
  paths: async () => {
    await run(pathCountsSql(undefined));
    return run(pathsSql('count'));
  },
  latency_per_hop: () => groupStats(session, { from: hopsSource(session, undefined), groups: [{ name: 'from', sql: 'prev_func' }, { name: 'to', sql: 'func' }], value: 'CAST(ts AS BIGINT) - CAST(prev_ts AS BIGINT)', bucket: 'gap_bucket' }),
  latency_from_to: () => groupStats(session, { from: spansSource(session, 'net_dev_queue', 'netif_receive_skb', [], undefined), groups: [], value: 'ns', bucket: 'bucket' }),
  // as skbtrail show --limit 1000 does it: pick the rows, then build their columns
  show_limit_1000: async () => {
    const seqs = (await run(pickSql('events', { limit: 1000 }))).getColumnsJson()[0].map(Number);
    return run(pickedSql(session, seqs));
  },
  five_tuple: () => run(FIVE_TUPLE),
};
// Best of 3: the reference machine is shared, so single runs are noisy.
const query_s = {};
for (const [name, query] of Object.entries(QUERIES)) {
  for (let i = 0; i < 3; i++) {
    quiet();
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
  // kept for bench/analyzer-scale.mjs: reading is part of opening and scanning now
  read_s: open_s,
  load_s: open_s + scan_s,
  open_s,
  full_scan_s: scan_s,
  full_view_s: view_s,
  load_events_per_s: Math.round(rows / (open_s + scan_s)),
  scan_events_per_s: Math.round(rows / scan_s),
  query_s,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(JSON.stringify(result, null, 2));
const m = (n) => (n / 1e6).toFixed(1);
console.error(
  `bench: ${m(rows)}M events: open ${open_s.toFixed(2)} s, all fixed columns through DuckDB ${scan_s.toFixed(2)} s ` +
    `(${m(result.scan_events_per_s)}M/s; open+scan ${m(result.load_events_per_s)}M/s), events view ${view_s.toFixed(2)} s; ` +
    Object.entries(query_s).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') +
    `; peak RSS ${result.peak_rss_mb} MB`,
);
