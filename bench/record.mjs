// End-to-end recorder capacity: `skbtrail record` (all tracepoints, default snaplen) while a
// ping flood crosses a veth pair between two namespaces it creates and removes. Reports events/s
// written with zero loss, bytes per event on disk and the recorder's CPU seconds per million events.
// Root only. Usage: node bench/record.mjs [--count 200000] [--flows 2] [--stack] [--compress lz4|none]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    flows: { type: 'string', default: '2' },
    stack: { type: 'boolean', default: false },
    compress: { type: 'string', default: 'lz4' },
  },
});
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const [A, B] = ['skbt-rb-a', 'skbt-rb-b'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bench-'));
const sh = (...a) => execFileSync(a[0], a.slice(1), { stdio: 'pipe' });
const cleanup = () => {
  for (const ns of [A, B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
};

function pair() {
  cleanup();
  fs.mkdirSync(dir, { recursive: true });
  sh('ip', 'netns', 'add', A);
  sh('ip', 'netns', 'add', B);
  sh('ip', '-n', A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', B);
  for (const [ns, dev, addr] of [[A, 'va', '10.197.0.1'], [B, 'vb', '10.197.0.2']]) {
    sh('ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
  }
}

const flood = (count) =>
  new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', A, 'ping', '-f', '-q', '-c', String(count), '-W', '1', '10.197.0.2'], { stdio: 'ignore', timeout: 120_000 });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ping exited ${code}`))));
  });

/** utime + stime of a process, in seconds, from /proc/PID/stat. */
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return { user: Number(f[11]) / tick, system: Number(f[12]) / tick };
}

pair();
try {
  const file = path.join(dir, 'bench.skbtrail');
  const ready = path.join(dir, 'ready');
  const args = [path.join(root, 'bin/skbtrail.js'), 'record', '-w', file, '--ready-file', ready, '--compress', opt.compress, ...(opt.stack ? ['--output-stack'] : [])];
  const rec = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  rec.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => rec.on('exit', r));
  while (!fs.existsSync(ready)) {
    if (rec.exitCode !== null) throw new Error(`recorder exited: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const flows = Number(opt.flows);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: flows }, () => flood(Number(opt.count) / flows)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(rec.pid);
  rec.kill('SIGINT');
  await exited;
  const m = /wrote (\d+) events to .* \((\d+) lost\)/.exec(err);
  if (!m) throw new Error(`unexpected recorder output: ${err}`);
  const events = Number(m[1]);
  const lost = Number(m[2]);
  const bytes = fs.statSync(file).size;
  const result = {
    machine: `${os.cpus().length} cores, ${os.cpus()[0].model}`,
    kernel: os.release(),
    date: new Date().toISOString(),
    command: `node bench/record.mjs --count ${opt.count} --flows ${flows}${opt.stack ? ' --stack' : ''} --compress ${opt.compress}`,
    pings: Number(opt.count),
    seconds: +seconds.toFixed(2),
    events,
    lost,
    eventsPerSec: Math.round(events / seconds),
    bytesPerEvent: +(bytes / Math.max(1, events)).toFixed(1),
    cpuSecondsPerMillionEvents: { user: +((cpu.user * 1e6) / events).toFixed(2), system: +((cpu.system * 1e6) / events).toFixed(2) },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  cleanup();
}
