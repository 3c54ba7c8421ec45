// Shared pieces of the comparative benchmarks (overhead, capacity, size-and-drops, smoke):
// a veth pair between two namespaces that is always removed, bounded UDP floods with
// iperf3, and the tracers under test started and stopped the same way. Root only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'bin/skbtrail.js');
const BENCH = path.join(ROOT, 'bench');

export const say = (line) => process.stderr.write(`${line}\n`);
export const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => {
  const s = xs.filter((x) => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const round = (x, digits = 0) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/** Command-line options as `--name value` or `--flag`, with defaults. */
export function options(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in defaults)) throw new Error(`unknown option ${argv[i]} (known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')})`);
    if (typeof defaults[name] === 'boolean') out[name] = true;
    else out[name] = typeof defaults[name] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return out;
}

export function requireRoot(tool, commands = []) {
  if (process.getuid?.() !== 0) throw new Error(`${tool} needs root (BPF, namespaces)`);
  const missing = commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run bench/install-deps (Debian: linux-perf bpftrace iperf3)`);
  if (!fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node'))) throw new Error('the recorder is not built: npm run build');
  if (commands.includes('perf') || commands.includes('bpftrace')) mountTracefs();
}

/** perf and bpftrace find tracepoints through tracefs, which a fresh machine may lack: mount it for the run. */
function mountTracefs() {
  const dir = '/sys/kernel/tracing';
  if (fs.existsSync(path.join(dir, 'events'))) return;
  sh('mount', ['-t', 'tracefs', 'nodev', dir]);
  atExit(() => spawnSync('umount', [dir]));
}

/** The tracepoints skbtrail records, from the probe table in bpf/skbtrail.h: ['skb:kfree_skb', ...]. */
export function tracepoints() {
  const h = fs.readFileSync(path.join(ROOT, 'bpf/skbtrail.h'), 'utf8');
  const list = [...h.matchAll(/X\(\d+,\s*\w+,\s*"([\w:]+)",\s*\d+\)/g)].map((m) => m[1]);
  if (list.length === 0) throw new Error('no probe table in bpf/skbtrail.h');
  return list;
}

// ---------------------------------------------------------------- cleanup on every exit path

const cleanups = [];
/** Runs fn at exit (normal, error, SIGINT, SIGTERM), last registered first. */
export function atExit(fn) {
  cleanups.push(fn);
}
export function runCleanups() {
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch (err) {
      say(`cleanup: ${err.message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    runCleanups();
    process.exit(128 + os.constants.signals[sig]);
  });
}
process.on('exit', runCleanups);

/** Runs main, prints its error, and always cleans up. */
export function run(name, main) {
  main()
    .catch((err) => {
      say(`${name}: ${err.message}`);
      process.exitCode = 1;
    })
    .finally(runCleanups);
}

export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bench-'));
  atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------- the veth pair

/**
 * Namespaces a and b joined by a veth pair (va in a, vb in b), removed at exit.
 * Names carry the pid, so concurrent runs and other benches cannot collide.
 */
export function vethPair() {
  const tag = process.pid % 100000;
  const pair = { a: `skbtb-a-${tag}`, b: `skbtb-b-${tag}`, addrA: '10.203.0.1', addrB: '10.203.0.2', devA: 'va', devB: 'vb' };
  const del = () => {
    for (const ns of [pair.a, pair.b]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  del();
  atExit(del);
  for (const ns of [pair.a, pair.b]) sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', pair.a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', pair.b]);
  for (const [ns, dev, addr] of [[pair.a, 'va', pair.addrA], [pair.b, 'vb', pair.addrB]]) {
    sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return pair;
}

/**
 * nftables in namespace b: drop the UDP datagrams to `port` on input, so part of a flood dies
 * with NETFILTER_DROP. Only those longer than iperf3's 4-byte UDP handshake (UDP length 12).
 */
export function dropUdpPort(pair, port) {
  const rules = `table inet skbtbench {\n chain input {\n  type filter hook input priority 0;\n  udp dport ${port} udp length > 12 drop\n }\n}\n`;
  sh('ip', ['netns', 'exec', pair.b, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Packets the interface has received (the kernel's counter). */
export function rxPackets(ns, dev) {
  const [link] = JSON.parse(sh('ip', ['-n', ns, '-j', '-s', 'link', 'show', 'dev', dev]));
  return link.stats64.rx.packets;
}

const pin = (cpu, cmd) => (cpu === null || os.cpus().length < 2 ? cmd : ['taskset', '-c', String(cpu), ...cmd]);

/**
 * One bounded UDP flood from a to b with iperf3 (small datagrams, as fast as it goes unless
 * `bitrate` caps it; several `ports` run several client/server pairs at once). Returns
 * packets per second crossing the veth pair (vb's rx counter), sent by the clients and
 * received by the servers' sockets.
 */
export async function udpFlood(pair, { seconds, len = 64, bitrate = '0', cpu = null, ports = [5201] }) {
  const servers = ports.map((port) => {
    const p = spawn('ip', ['netns', 'exec', pair.b, ...pin(cpu, ['iperf3', '-s', '-1', '-B', pair.addrB, '-p', String(port)])], { stdio: 'ignore' });
    const kill = () => p.exitCode === null && p.kill('SIGKILL');
    atExit(kill);
    return { p, exited: new Promise((r) => p.on('exit', r)), kill };
  });
  await sleep(300); // iperf3 -s has no readiness signal; the client retries below anyway
  const rx0 = rxPackets(pair.b, pair.devB);
  const t0 = process.hrtime.bigint();
  const clients = ports.map((port) => runClient(pair, port, { seconds, len, bitrate, cpu }));
  const reports = await Promise.all(clients);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const rx = rxPackets(pair.b, pair.devB) - rx0;
  for (const s of servers) {
    const timer = setTimeout(s.kill, 3000);
    await s.exited;
    clearTimeout(timer);
  }
  const sum = (k) => reports.reduce((n, r) => n + r[k], 0);
  return { seconds, elapsed: round(elapsed, 2), vethPps: rx / seconds, sentPps: sum('sent') / seconds, receivedPps: sum('received') / seconds };
}

async function runClient(pair, port, { seconds, len, bitrate, cpu }) {
  const args = ['iperf3', '-c', pair.addrB, '-p', String(port), '-u', '-l', String(len), '-b', bitrate, '-t', String(seconds), '-J'];
  for (let attempt = 0; ; attempt++) {
    const r = await exec('ip', ['netns', 'exec', pair.a, ...pin(cpu, args)], (seconds + 20) * 1000);
    let report = {};
    try {
      report = JSON.parse(r.stdout);
    } catch {}
    if (r.status === 0 && report.end?.sum_sent) {
      return { sent: report.end.sum_sent.packets, received: report.end.sum_received.packets };
    }
    // The server may not be listening yet: iperf3 says "unable to connect".
    if (attempt < 5 && /connect/.test(report.error ?? '')) {
      await sleep(200);
      continue;
    }
    throw new Error(`iperf3 failed: ${report.error ?? r.stderr}`);
  }
}

/** Runs a command to completion without blocking the event loop (a tracer in this process keeps draining). */
export function exec(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// ---------------------------------------------------------------- the tracers under test

const compiled = new Map();
/** The bench's own binaries (floor program and its loader), built once per run. */
export function buildFloor(dir) {
  if (compiled.has(dir)) return compiled.get(dir);
  const obj = path.join(dir, 'floor.bpf.o');
  const loader = path.join(dir, 'attach-all');
  sh('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${os.arch() === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`, '-c', path.join(BENCH, 'floor.bpf.c'), '-o', obj]);
  sh('cc', ['-O2', '-o', loader, path.join(BENCH, 'attach-all.c'), '-lbpf']);
  compiled.set(dir, { obj, loader });
  return { obj, loader };
}

/** utime + stime of a process and its waited-for children, in seconds, from /proc/PID/stat. */
/** The fdinfo text of each file descriptor a process holds (BPF programs, links, maps). */
function fdinfos(pid) {
  const out = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      out.push(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    } catch {
      // closed since the listing
    }
  }
  return out;
}

/** run_time_ns and run_cnt (kernel.bpf_stats_enabled=1) of the BPF programs a process holds, by program id. */
export function bpfPrograms(pid) {
  const out = {};
  for (const info of fdinfos(pid)) {
    const id = /^prog_id:\s*(\d+)/m.exec(info)?.[1];
    if (!id || !/^run_cnt:/m.test(info)) continue; // a link's fdinfo names its program too
    out[id] = { ns: Number(/^run_time_ns:\s*(\d+)/m.exec(info)?.[1] ?? 0), runs: Number(/^run_cnt:\s*(\d+)/m.exec(info)?.[1] ?? 0) };
  }
  return out;
}

/** The size of the BPF ring buffer (map type 27) a process holds, or null. */
export function ringBufferBytes(pid) {
  const info = fdinfos(pid).find((i) => /^map_type:\s*27$/m.test(i));
  return info ? Number(/^max_entries:\s*(\d+)/m.exec(info)[1]) : null;
}

export function cpuSeconds(pid) {
  const tick = 100; // USER_HZ on Linux
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(f[11]) / tick, system: Number(f[12]) / tick };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/**
 * Starts a tracer process and waits until it is tracing (`ready()` true). stop() sends SIGINT,
 * waits (bounded) and returns its output and the CPU seconds it used from ready to just before
 * the signal (so start-up, BPF loading and verification, is not counted).
 */
async function startProcess(name, cmd, args, ready, { cpu = null, env } = {}) {
  const [c, ...a] = pin(cpu, [cmd, ...args]);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  atExit(kill);
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      kill();
      throw new Error(`${name} did not start: ${out.trim().slice(-2000)}`);
    }
    await sleep(50);
  }
  const atReady = cpuSeconds(child.pid);
  return {
    pid: child.pid,
    async stop() {
      const now = cpuSeconds(child.pid);
      const cpu = { user: now.user - atReady.user, system: now.system - atReady.system };
      child.kill('SIGINT');
      const timer = setTimeout(kill, 120_000);
      const status = await exited;
      clearTimeout(timer);
      return { status, out, cpu };
    },
  };
}

/** `skbtrail record` (all tracepoints) into dir; stop() returns events, lost, bytes on disk. */
export async function startSkbtrail(dir, extraArgs = [], { cpu = null } = {}) {
  const file = path.join(dir, `rec-${Date.now()}.skbtrail`);
  const readyFile = `${file}.ready`;
  const args = [CLI, 'record', '-w', file, '--ready-file', readyFile, ...extraArgs];
  const p = await startProcess('skbtrail record', process.execPath, args, async () => fs.existsSync(readyFile), { cpu });
  return {
    name: 'skbtrail',
    pid: p.pid,
    command: `skbtrail record -w FILE --ready-file PATH ${extraArgs.join(' ')}`.trim(),
    async stop() {
      const { out, cpu: cpuS } = await p.stop();
      fs.rmSync(readyFile, { force: true });
      const m = /wrote (\d+) events to .* \((\d+) lost\)/.exec(out);
      if (!m) throw new Error(`unexpected recorder output: ${out.trim().slice(-2000)}`);
      return { file, events: Number(m[1]), lost: Number(m[2]), bytes: fs.statSync(file).size, cpu: cpuS };
    },
  };
}

/** The floor: empty BPF programs on the same tracepoints. */
export async function startFloor(dir, { cpu = null } = {}) {
  const { obj, loader } = buildFloor(dir);
  const readyFile = path.join(dir, `floor-${Date.now()}.ready`);
  const p = await startProcess('floor loader', loader, [obj, readyFile], async () => fs.existsSync(readyFile), { cpu });
  return {
    name: 'floor',
    pid: p.pid,
    command: 'bench/attach-all floor.bpf.o READY (15 empty tp_btf programs)',
    async stop() {
      const { cpu: cpuS } = await p.stop();
      fs.rmSync(readyFile, { force: true });
      return { events: null, lost: null, bytes: null, cpu: cpuS };
    },
  };
}

/**
 * `perf record -a` on the same tracepoints, writing perf.data. It starts with its events
 * disabled (-D -1) and is enabled through its control fifo, which acknowledges once
 * the events are on: that is the ready signal.
 */
export async function startPerf(dir, extraArgs = [], { cpu = null } = {}) {
  const file = path.join(dir, `perf-${Date.now()}.data`);
  const ctl = `${file}.ctl`;
  const ack = `${file}.ack`;
  sh('mkfifo', [ctl, ack]);
  const events = tracepoints().flatMap((t) => ['-e', t]);
  const args = ['record', '-a', ...events, ...extraArgs, '-o', file, '--control', `fifo:${ctl},${ack}`, '-D', '-1'];
  let enabled = false;
  const p = await startProcess('perf record', 'perf', args, async () => {
    if (!enabled) {
      // Opening the fifos blocks until perf opens its ends; do it off the event loop.
      const r = spawnSync('bash', ['-c', `exec 8<>"$1" 9<>"$2"; echo enable >&8; read -t 20 reply <&9 && [[ $reply == *ack* ]]`, 'bash', ctl, ack], { timeout: 30_000 });
      enabled = r.status === 0;
    }
    return enabled;
  }, { cpu });
  return {
    name: 'perf',
    pid: p.pid,
    command: `perf record -a ${tracepoints().map((t) => `-e ${t}`).join(' ')} ${extraArgs.join(' ')} -o perf.data`.replace(/ +/g, ' '),
    async stop() {
      const { out, cpu: cpuS } = await p.stop();
      const samples = Number(/\((\d+) samples\)/.exec(out)?.[1] ?? NaN);
      const lost = perfLostSamples(file);
      fs.rmSync(ctl, { force: true });
      fs.rmSync(ack, { force: true });
      return { file, events: samples, lost, bytes: fs.statSync(file).size, cpu: cpuS };
    },
  };
}

/**
 * Samples perf record lost (its ring full): the sum of the `lost` fields of the PERF_RECORD_LOST
 * records in perf.data's data section (what `perf report -D` prints, without printing every sample).
 */
export function perfLostSamples(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    fs.readSync(fd, head, 0, 64, 0);
    if (head.toString('latin1', 0, 8) !== 'PERFILE2') throw new Error(`${file}: not a perf.data file`);
    const start = Number(head.readBigUInt64LE(40));
    const end = start + Number(head.readBigUInt64LE(48));
    const chunk = Buffer.alloc(16 << 20);
    let lost = 0;
    for (let at = start; at < end; ) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at);
      let off = 0;
      // perf_event_header: u32 type, u16 misc, u16 size; PERF_RECORD_LOST (2): u64 id, u64 lost
      while (off + 8 <= n) {
        const size = chunk.readUInt16LE(off + 6);
        if (size < 8) throw new Error(`${file}: bad record at ${at + off}`);
        if (off + size > n) break;
        if (chunk.readUInt32LE(off) === 2) lost += Number(chunk.readBigUInt64LE(off + 16));
        off += size;
      }
      if (off === 0) throw new Error(`${file}: record larger than the read buffer at ${at}`);
      at += off;
    }
    return lost;
  } finally {
    fs.closeSync(fd);
  }
}

/** bpftrace printing the same fields as skbtrail's event (bench/skb-fields.bt) to a file. */
export async function startBpftrace(dir, { cpu = null } = {}) {
  const file = path.join(dir, `bpftrace-${Date.now()}.txt`);
  const readyFile = `${file}.ready`;
  const script = path.join(BENCH, 'skb-fields.bt');
  // --unsafe for system(): BEGIN runs once every probe is attached, and touches the ready file.
  const args = ['--unsafe', '-o', file, script, readyFile];
  const p = await startProcess('bpftrace', 'bpftrace', args, async () => fs.existsSync(readyFile), { cpu, env: { BPFTRACE_STRLEN: '128' } });
  return {
    name: 'bpftrace',
    pid: p.pid,
    command: 'BPFTRACE_STRLEN=128 bpftrace --unsafe -o FILE bench/skb-fields.bt READY',
    async stop() {
      const { out, cpu: cpuS } = await p.stop();
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.split('\n');
      const events = lines.filter((l) => /^\d+ /.test(l)).length;
      const lost = [...(text + out).matchAll(/Lost (\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0);
      return { file, events, lost, bytes: fs.statSync(file).size, cpu: cpuS };
    },
  };
}

// ---------------------------------------------------------------- machine and results

/** Waits (bounded) for a quiet machine: 1-minute load below maxLoad and no QEMU guest running. */
export async function waitQuiet({ maxLoad = 0.7, minutes = 40 } = {}) {
  const deadline = Date.now() + minutes * 60_000;
  for (;;) {
    const load = os.loadavg()[0];
    const qemu = spawnSync('pgrep', ['qemu-system'], { encoding: 'utf8' }).stdout.trim() !== '';
    if (load < maxLoad && !qemu) return { waitedQuiet: true, load };
    if (Date.now() > deadline) {
      say(`machine still busy after ${minutes} min (load ${load.toFixed(2)}${qemu ? ', qemu running' : ''}): measuring anyway`);
      return { waitedQuiet: false, load };
    }
    say(`waiting for a quiet machine: load ${load.toFixed(2)}${qemu ? ', qemu running' : ''}`);
    await sleep(30_000);
  }
}

export function machine() {
  const git = (...a) => spawnSync('git', ['-C', ROOT, ...a], { encoding: 'utf8' }).stdout?.trim();
  const pkg = (p) => spawnSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' }).stdout || null;
  return {
    machine: `${os.cpus().length} cores, ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: fs.readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.*)"/)?.[1],
    kernel: os.release(),
    node: process.version,
    tools: { perf: pkg('linux-perf'), bpftrace: pkg('bpftrace'), iperf3: pkg('iperf3') },
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: git('status', '--porcelain').length > 0,
    date: new Date().toISOString(),
    loadavg: os.loadavg().map((x) => round(x, 2)),
  };
}

export function writeResult(file, result) {
  if (!file) return;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${file}`);
}
