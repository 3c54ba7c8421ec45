#!/usr/bin/env node
// What a pcap-filter costs, and what it saves (root only):
//
//  1. Cost per event: with kernel.bpf_stats_enabled=1 the kernel times every run of every
//     BPF program; the recorder's prog fds in /proc/<pid>/fdinfo report run_time_ns and
//     run_cnt. Their deltas over a bounded UDP flood give ns per event (per program run)
//     for: no filter (every event recorded), a filter that rejects every packet (the
//     header copy plus the filter, no ring-buffer output) and a filter that accepts them.
//  2. Throughput: UDP packets per second from netns a to netns b across a veth pair, with
//     no recorder, with the recorder filtering everything out, and with it recording all
//     (measured in a separate flood with the stats off, since they cost time themselves).
//
// The flood comes from a tiny C sender (sendmmsg) and is counted by a C receiver
// (recvmmsg) in netns b, compiled here with cc so that user space is not the bottleneck.
//
//   sudo node bench/filter-cost.mjs [--seconds 5] [--runs 3] [--json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bpfPrograms } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin/skbtrail.js');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('--seconds', 5);
const RUNS = arg('--runs', 3);
const JSON_OUT = process.argv.includes('--json');
const NS_A = `skbtbench-a-${process.pid}`;
const NS_B = `skbtbench-b-${process.pid}`;
const ADDR_A = '10.245.0.1';
const ADDR_B = '10.245.0.2';
const PORT = 9000;
const STATS = '/proc/sys/kernel/bpf_stats_enabled';

const say = (line) => process.stderr.write(`${line}\n`);
const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

if (process.getuid?.() !== 0) {
  say('filter-cost: needs root (BPF, namespaces, kernel.bpf_stats_enabled)');
  process.exit(2);
}
if (!fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node'))) {
  say('filter-cost: the native recorder is not built: npm run build');
  process.exit(2);
}

// The flood tools: `send ADDR PORT SECONDS` and `recv ADDR PORT SECONDS`, each printing a packet count.
const FLOOD_C = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#define BATCH 64
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  if (argc != 5) return 2;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
  inet_pton(AF_INET, argv[2], &a.sin_addr);
  double seconds = atof(argv[4]);
  char buf[BATCH][64];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < BATCH; i++) { iov[i].iov_base = buf[i]; iov[i].iov_len = sizeof(buf[i]); msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1; }
  unsigned long long n = 0;
  if (strcmp(argv[1], "send") == 0) {
    memset(buf, 'x', sizeof(buf));
    if (connect(s, (struct sockaddr *)&a, sizeof(a))) { perror("connect"); return 1; }
    double end = now() + seconds;
    while (now() < end) { int r = sendmmsg(s, msgs, BATCH, 0); if (r > 0) n += r; }
  } else {
    int big = 16 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    if (bind(s, (struct sockaddr *)&a, sizeof(a))) { perror("bind"); return 1; }
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    printf("ready\n"); fflush(stdout);
    double end = now() + seconds;
    while (now() < end) { int r = recvmmsg(s, msgs, BATCH, 0, NULL); if (r > 0) n += r; }
  }
  printf("%llu\n", n);
  return 0;
}`;

function buildFlood(dir) {
  const src = path.join(dir, 'flood.c');
  const bin = path.join(dir, 'flood');
  fs.writeFileSync(src, FLOOD_C);
  const r = spawnSync('cc', ['-O2', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc failed: ${r.stderr || r.error?.message}`);
  return bin;
}

function setupNetns() {
  for (const ns of [NS_A, NS_B]) sh('ip', ['netns', 'add', ns]);
  sh('ip', ['link', 'add', 'vbench-a', 'netns', NS_A, 'type', 'veth', 'peer', 'name', 'vbench-b', 'netns', NS_B]);
  sh('ip', ['-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', 'vbench-a']);
  sh('ip', ['-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', 'vbench-b']);
  for (const [ns, dev] of [[NS_A, 'vbench-a'], [NS_B, 'vbench-b']]) {
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

function teardownNetns() {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
}

/** One flood: the receiver in b first, then the sender in a; packets per second both ways. */
async function flood(bin) {
  const cpus = os.cpus().length;
  const pin = (cpu, cmd) => (cpus > 1 ? ['taskset', '-c', String(cpu), ...cmd] : cmd);
  const recv = spawn('ip', ['netns', 'exec', NS_B, ...pin(1, [bin, 'recv', ADDR_B, String(PORT), String(SECONDS + 1)])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  recv.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
  const sent = Number(sh('ip', ['netns', 'exec', NS_A, ...pin(0, [bin, 'send', ADDR_B, String(PORT), String(SECONDS)])]).trim());
  await new Promise((r) => recv.on('exit', r));
  const received = Number(out.split('\n').filter(Boolean).pop());
  return { sentPps: sent / SECONDS, receivedPps: received / SECONDS };
}

/** Sum of run_time_ns and run_cnt over the BPF programs a process holds. */
function progStats(pid) {
  const progs = Object.values(bpfPrograms(pid));
  return { ns: progs.reduce((n, p) => n + p.ns, 0), runs: progs.reduce((n, p) => n + p.runs, 0), progs: progs.length };
}

async function startRecorder(dir, args) {
  const file = path.join(dir, `bench-${Date.now()}.skbtrail`);
  const ready = `${file}.ready`;
  const child = spawn(process.execPath, [CLI, 'record', '-w', file, '--ready-file', ready, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  const deadline = Date.now() + 30000;
  while (!fs.existsSync(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`recorder did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    async stop() {
      child.kill('SIGINT');
      await exited;
      const m = /wrote (\d+) events .* \((\d+) lost\)/.exec(err);
      fs.rmSync(file, { force: true });
      fs.rmSync(ready, { force: true });
      return { events: Number(m?.[1] ?? NaN), lost: Number(m?.[2] ?? NaN) };
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const SCENARIOS = [
  { name: 'no recorder', args: null },
  { name: 'recorder, filter rejects all', args: ['host 192.0.2.99'] },
  { name: 'recorder, filter accepts the flood', args: [`udp and port ${PORT}`] },
  { name: 'recorder, no filter', args: [] },
];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bench-'));
  const statsBefore = fs.readFileSync(STATS, 'utf8').trim();
  const results = [];
  try {
    const bin = buildFlood(dir);
    setupNetns();
    for (const s of SCENARIOS) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const rec = s.args ? await startRecorder(dir, s.args) : null;
        // Throughput without the stats' own cost (two clock reads per program run) ...
        fs.writeFileSync(STATS, '0');
        const f = await flood(bin);
        // ... then the programs' own time per run, with the kernel's stats on.
        let timed = { runs: 0, ns: 0, progs: 0, packets: 0 };
        if (rec) {
          fs.writeFileSync(STATS, '1');
          const before = progStats(rec.pid);
          const g = await flood(bin);
          const after = progStats(rec.pid);
          fs.writeFileSync(STATS, '0');
          timed = { runs: after.runs - before.runs, ns: after.ns - before.ns, progs: after.progs, packets: g.sentPps * SECONDS };
        }
        const stopped = rec ? await rec.stop() : null;
        runs.push({
          ...f,
          programs: timed.progs,
          nsPerEvent: timed.runs > 0 ? timed.ns / timed.runs : null,
          eventsPerPacket: timed.runs > 0 ? timed.runs / timed.packets : null,
          recorded: stopped?.events ?? null,
          lost: stopped?.lost ?? null,
        });
        const r = runs.at(-1);
        say(`${s.name} #${i + 1}: ${Math.round(f.sentPps)} pps sent, ${Math.round(f.receivedPps)} pps received` +
          (rec ? `; timed flood: ${timed.runs} program runs at ${r.nsPerEvent?.toFixed(1)} ns each (${r.eventsPerPacket?.toFixed(2)} per packet), ${stopped.events} recorded, ${stopped.lost} lost` : ''));
      }
      const pick = (k) => (runs[0][k] === null ? null : median(runs.map((r) => r[k])));
      results.push({ scenario: s.name, filter: s.args?.join(' ') ?? null, runs: runs.length, sentPps: pick('sentPps'), receivedPps: pick('receivedPps'),
        nsPerEvent: pick('nsPerEvent'), eventsPerPacket: pick('eventsPerPacket'), recorded: pick('recorded'), lost: pick('lost') });
    }
  } finally {
    fs.writeFileSync(STATS, statsBefore);
    teardownNetns();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify({ seconds: SECONDS, runs: RUNS, cpus: os.cpus().length, kernel: os.release(), results }, null, 2)}\n`);
    return;
  }
  const base = results[0].receivedPps;
  console.log(`UDP flood, 64-byte datagrams, netns a -> netns b over veth, ${SECONDS} s x ${RUNS} runs (median), ${os.cpus().length} CPUs, kernel ${os.release()}`);
  console.log('scenario                              sent pps   recv pps  vs none  ns/event  events/pkt  recorded      lost');
  for (const r of results) {
    const cell = (v, w, d = 0) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(d)).padStart(w);
    console.log(`${r.scenario.padEnd(36)}${cell(r.sentPps, 10)} ${cell(r.receivedPps, 10)} ${cell((r.receivedPps / base) * 100, 7, 1)}% ${cell(r.nsPerEvent, 9, 1)} ${cell(r.eventsPerPacket, 11, 2)} ${cell(r.recorded, 9)} ${cell(r.lost, 9)}`);
  }
}

main().catch((err) => {
  say(`filter-cost: ${err.message}`);
  process.exitCode = 1;
});
