#!/usr/bin/env node
// `npm run bench:smoke`: every comparative benchmark once, for a second or so, to catch breakage
// (a tracer that no longer starts, output that no longer parses, namespaces left behind). It fails
// only on errors, never on timings; the numbers it prints mean nothing. Results go to a temporary
// directory, never to bench/results. Root only. Outside CI, a missing perf/bpftrace/iperf3 skips
// what needs it (bench/install-deps installs them); with CI=true it is an error.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const say = (line) => process.stderr.write(`bench:smoke: ${line}\n`);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ci = process.env.CI === 'true';

if (process.getuid?.() !== 0) {
  say('needs root (BPF, namespaces)');
  process.exit(ci ? 1 : 0);
}
const missing = ['iperf3', 'perf', 'bpftrace'].filter((c) => !has(c));
if (missing.length && ci) {
  say(`missing ${missing.join(', ')}: run bench/install-deps`);
  process.exit(1);
}
if (missing.length) say(`skipping what needs ${missing.join(', ')} (bench/install-deps installs them)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bench-smoke-'));
const configs = ['none', 'floor', 'skbtrail', 'skbtrail-stack', ...(has('perf') ? ['perf'] : []), ...(has('bpftrace') ? ['bpftrace'] : [])];
const steps = [
  { name: 'overhead', needs: ['iperf3'], args: ['overhead.mjs', '--seconds', '1', '--runs', '1', '--configs', configs.join(','), '--bpf-stats'] },
  { name: 'capacity', needs: ['iperf3'], args: ['capacity.mjs', '--rates', '5000,max', '--seconds', '1'] },
  { name: 'size-and-drops', needs: ['iperf3', 'perf'], args: ['size-and-drops.mjs', '--seconds', '1', '--pps', '2000', '--repeat', '1'] },
  { name: 'analyzer-scale', needs: [], args: ['analyzer-scale.mjs', '--events', '100000', '--file', path.join(dir, 'synthetic.skbtrail')] },
];

const ourNamespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith('skbtb-'));
const before = new Set(ourNamespaces());
let failed = 0;
try {
  for (const step of steps) {
    const lacking = step.needs.filter((c) => !has(c));
    if (lacking.length) {
      say(`${step.name}: skipped (no ${lacking.join(', ')})`);
      continue;
    }
    const out = path.join(dir, `${step.name}.json`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(BENCH, step.args[0]), ...step.args.slice(1), '--out', out], { encoding: 'utf8', timeout: 180_000 });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    let problem = r.error?.message ?? (r.status !== 0 ? `exit ${r.status ?? r.signal}` : null);
    if (!problem) {
      try {
        JSON.parse(fs.readFileSync(out, 'utf8'));
      } catch (err) {
        problem = `no JSON result: ${err.message}`;
      }
    }
    if (problem) {
      failed++;
      say(`${step.name}: FAILED (${problem}) after ${seconds} s\n${r.stderr}`);
    } else {
      say(`${step.name}: ok (${seconds} s)`);
    }
  }
  const leftover = ourNamespaces().filter((n) => !before.has(n));
  if (leftover.length) {
    failed++;
    say(`namespaces left behind: ${leftover.join(', ')}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
