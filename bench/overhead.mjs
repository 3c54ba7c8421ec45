#!/usr/bin/env node
// Recorder overhead: UDP packets per second across a veth pair (iperf3, 64-byte datagrams,
// fixed duration) with no tracing, with empty BPF programs on the same tracepoints (the floor),
// with `skbtrail record` (default, and --output-stack), with `perf record -a` on the same
// tracepoints and with a bpftrace script printing the same fields. Each is reported as a ratio
// to no tracing, the median of --runs rounds; every round runs each configuration once, in a
// rotated order, so drift on a shared machine hits them all alike.
//
// The data path (iperf3 client, server and the softirqs they raise) is pinned to CPU 0 and every
// tracer's user space to CPU 1: the tracepoints' cost lands on the data path's CPU, and each tracer
// gets a core of its own to drain its buffers. Events the tracers lost are counted and reported.
// --bpf-stats then times skbtrail's and the floor's programs (kernel.bpf_stats_enabled=1, bpftool).
//
//   sudo node bench/overhead.mjs [--seconds 5] [--runs 5] [--configs none,floor,...] [--bpf-stats]
//                               [--wait-quiet] [--out bench/results/overhead.json]
import fs from 'node:fs';
import os from 'node:os';
import {
  bpfPrograms, machine, median, options, requireRoot, round, run, say, sh, sleep, startBpftrace, startFloor, startPerf,
  startSkbtrail, tempDir, udpFlood, vethPair, waitQuiet, writeResult,
} from './lib.mjs';

const CONFIGS = {
  none: { label: 'no tracing', start: null },
  floor: { label: 'empty BPF programs (floor)', start: (dir, cpu) => startFloor(dir, { cpu }) },
  skbtrail: { label: 'skbtrail record', start: (dir, cpu) => startSkbtrail(dir, [], { cpu }) },
  'skbtrail-stack': { label: 'skbtrail record --output-stack', start: (dir, cpu) => startSkbtrail(dir, ['--output-stack'], { cpu }) },
  perf: { label: 'perf record -a -e <15 tracepoints>', start: (dir, cpu) => startPerf(dir, [], { cpu }) },
  bpftrace: { label: 'bpftrace bench/skb-fields.bt > file', start: (dir, cpu) => startBpftrace(dir, { cpu }) },
};

const opt = options({ seconds: 5, runs: 5, configs: Object.keys(CONFIGS).join(','), 'bpf-stats': false, 'wait-quiet': false, out: '' });
const DATA_CPU = 0;
const TRACER_CPU = os.cpus().length > 1 ? 1 : null;

run('overhead', async () => {
  const configs = opt.configs.split(',');
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown configuration ${c}`);
  if (configs[0] !== 'none') throw new Error('the first configuration must be none (the baseline)');
  requireRoot('overhead', ['iperf3', 'clang', 'cc', ...(configs.includes('perf') ? ['perf'] : []), ...(configs.includes('bpftrace') ? ['bpftrace'] : [])]);
  const quiet = opt['wait-quiet'] ? await waitQuiet() : null;
  const dir = tempDir();
  const pair = vethPair();
  const env = machine();

  const runs = Object.fromEntries(configs.map((c) => [c, []]));
  const loads = []; // 1-minute load average after each run
  for (let round_ = 0; round_ < opt.runs; round_++) {
    const order = configs.map((_, i) => configs[(i + round_) % configs.length]);
    for (const c of order) {
      const tracer = CONFIGS[c].start ? await CONFIGS[c].start(dir, TRACER_CPU) : null;
      const flood = await udpFlood(pair, { seconds: opt.seconds, cpu: DATA_CPU });
      const traced = tracer ? await tracer.stop() : null;
      if (traced?.file) fs.rmSync(traced.file, { force: true });
      loads.push(os.loadavg()[0]);
      runs[c].push({ round: round_, load: round(os.loadavg()[0], 2), ...flood, events: traced?.events ?? null, lost: traced?.lost ?? null, cpu: traced?.cpu ?? null, command: tracer?.command ?? null });
      say(`round ${round_ + 1}/${opt.runs} ${c.padEnd(15)} ${Math.round(flood.vethPps).toLocaleString('en')} pps over veth` +
        (traced?.events != null ? `; ${traced.events.toLocaleString('en')} events, ${traced.lost} lost` : ''));
    }
  }

  // Per round: each configuration's rate as a ratio to that round's untraced rate, and the time
  // it adds per packet (1/rate - 1/untraced); the reported value is the median over rounds.
  const base = runs.none;
  const results = configs.map((c) => {
    const r = runs[c];
    const ratios = r.map((x, i) => x.vethPps / base[i].vethPps);
    const addedNs = r.map((x, i) => 1e9 / x.vethPps - 1e9 / base[i].vethPps);
    const eventsPerPacket = r[0].events == null ? null : median(r.map((x) => (x.events + (x.lost ?? 0)) / (x.vethPps * x.seconds)));
    return {
      config: c,
      label: CONFIGS[c].label,
      command: r[0].command,
      vethPps: round(median(r.map((x) => x.vethPps))),
      sentPps: round(median(r.map((x) => x.sentPps))),
      receivedPps: round(median(r.map((x) => x.receivedPps))),
      ratio: round(median(ratios), 3),
      ratios: ratios.map((x) => round(x, 3)),
      addedNsPerPacket: round(median(addedNs)),
      eventsPerPacket: round(eventsPerPacket, 2),
      events: median(r.map((x) => x.events)),
      lost: median(r.map((x) => x.lost)),
      lostPerRun: r.map((x) => x.lost),
      tracerCpuSeconds: r[0].cpu ? { user: round(median(r.map((x) => x.cpu.user)), 2), system: round(median(r.map((x) => x.cpu.system)), 2) } : null,
    };
  });
  const cost = (c) => results.find((r) => r.config === c)?.addedNsPerPacket;
  const targets = {
    // the targets: skbtrail's packet-rate cost at most 2x the floor's, and below perf's
    skbtrailCostOverFloor: cost('floor') ? round(cost('skbtrail') / cost('floor'), 2) : null,
    skbtrailCostBelowPerf: cost('perf') != null && cost('skbtrail') != null ? cost('skbtrail') < cost('perf') : null,
  };
  const bpfStats = opt['bpf-stats'] ? await programRunTimes(dir, pair) : null;

  const result = {
    bench: 'overhead',
    ...env,
    command: `node bench/overhead.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    method: `iperf3 -u -l 64 -b 0 -t ${opt.seconds} from netns a to netns b over a veth pair; data path on CPU ${DATA_CPU}, tracer on CPU ${TRACER_CPU}; packets counted by vb's rx counter; ${opt.runs} rounds, configurations rotated each round; ratio = median over rounds of pps / that round's untraced pps; addedNsPerPacket = median of 1e9/pps - 1e9/untraced pps`,
    waitedQuiet: quiet,
    loadavgDuringRuns: { min: round(Math.min(...loads), 2), max: round(Math.max(...loads), 2) },
    seconds: opt.seconds,
    runs: opt.runs,
    results,
    targets,
    bpfStats,
    raw: runs,
  };
  writeResult(opt.out, result);
  console.log(table(results));
  if (bpfStats) console.log(bpfStats.map((s) => `${s.config}: ${s.nsPerRun} ns per program run (${s.runCount} runs)`).join('\n'));
});

function table(results) {
  const rows = results.map((r) =>
    `| ${r.label} | ${r.vethPps.toLocaleString('en')} | ${r.ratio.toFixed(3)} | ${r.addedNsPerPacket} | ${r.eventsPerPacket ?? ''} | ${r.lost ?? ''} |`);
  return ['| configuration | packets/s over veth | ratio to no tracing | ns added per packet | events per packet | lost events (median) |',
    '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * The programs' own run time per run (kernel.bpf_stats_enabled=1 makes the kernel time every
 * run; bpftool prog show reports run_time_ns and run_cnt), for the floor and for skbtrail,
 * over one more flood each. Separate from the rate runs: the stats cost time themselves.
 */
async function programRunTimes(dir, pair) {
  const STATS = '/proc/sys/kernel/bpf_stats_enabled';
  const before = fs.readFileSync(STATS, 'utf8').trim();
  const out = [];
  try {
    for (const c of ['floor', 'skbtrail']) {
      const tracer = await CONFIGS[c].start(dir, TRACER_CPU);
      fs.writeFileSync(STATS, '1');
      const progs0 = bpfPrograms(tracer.pid);
      await udpFlood(pair, { seconds: opt.seconds, cpu: DATA_CPU });
      const progs1 = bpfPrograms(tracer.pid);
      fs.writeFileSync(STATS, before);
      const names = progNames();
      const traced = await tracer.stop();
      if (traced.file) fs.rmSync(traced.file, { force: true });
      const per = {};
      for (const [id, p] of Object.entries(progs1)) {
        const runs = p.runs - (progs0[id]?.runs ?? 0);
        if (runs > 0) per[names.get(id) ?? id] = { runs, nsPerRun: round((p.ns - (progs0[id]?.ns ?? 0)) / runs, 1) };
      }
      const runs = Object.values(per).reduce((n, p) => n + p.runs, 0);
      const ns = Object.values(per).reduce((n, p) => n + p.runs * p.nsPerRun, 0);
      out.push({ config: c, runCount: runs, nsPerRun: round(ns / runs, 1), programs: per });
      await sleep(200);
    }
  } finally {
    fs.writeFileSync(STATS, before);
  }
  return out;
}


/** Program names by id (bpftool prog show). */
function progNames() {
  return new Map(JSON.parse(sh('bpftool', ['prog', 'show', '--json'], { maxBuffer: 64 << 20 })).map((p) => [String(p.id), p.name]));
}
