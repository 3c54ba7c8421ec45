#!/usr/bin/env node
// The analyzer's scale numbers (Arrow read, DuckDB load, info/drops/show/5-tuple query times,
// peak RSS on 10 million synthetic events) as bench/load.mjs (`npm run bench`) measures them,
// with the machine, date and command added, for bench/results. Needs no root.
//   node bench/analyzer-scale.mjs [--events 10000000] [--file PATH] [--wait-quiet] [--out FILE]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, options, run, say, waitQuiet, writeResult } from './lib.mjs';

const opt = options({ events: 10_000_000, file: '', 'wait-quiet': false, out: '' });

run('analyzer-scale', async () => {
  const quiet = opt['wait-quiet'] ? await waitQuiet() : null;
  const load = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load.mjs');
  // --wait-idle: load.mjs also waits for idle CPUs before each of its measurements
  const args = [load, ...(opt.file ? [opt.file] : []), '--events', String(opt.events), ...(opt['wait-quiet'] ? ['--wait-idle'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000 });
  if (r.status !== 0) throw new Error(`bench/load.mjs failed (exit ${r.status ?? r.signal})`);
  const result = { bench: 'analyzer-scale', ...machine(), command: `node ${args.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`, waitedQuiet: quiet, ...JSON.parse(r.stdout) };
  writeResult(opt.out, result);
  say(`${result.events} events: load ${result.load_s?.toFixed(2)} s; ${Object.entries(result.query_s ?? {}).map(([k, v]) => `${k} ${v.toFixed(3)} s`).join(', ')}`);
});
