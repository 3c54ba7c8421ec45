#!/usr/bin/env node
// Recorder capacity: `skbtrail record` (all tracepoints, snaplen 128 unless --snaplen) under
// UDP floods of increasing rate across a veth pair, up to as fast as iperf3 goes. For each rate:
// events per second recorded, events lost, and the recorder's CPU seconds (user and system) per
// million events. The capacity is the highest event rate recorded with zero lost events; the
// ring buffer's size is read from the recorder's map (fdinfo max_entries).
//
// Layout "pinned" (default): traffic on CPU 0, the recorder on CPU 1, as in bench/overhead.mjs.
// Layout "shared": nothing pinned, two flows: traffic and recorder compete for both CPUs.
//
//   sudo node bench/capacity.mjs [--rates 10000,20000,40000,max] [--repeat 1] [--seconds 5] [--snaplen 128]
//                               [--layout pinned|shared] [--stack] [--compress lz4|none] [--wait-quiet] [--out FILE]
import fs from 'node:fs';
import os from 'node:os';
import {
  machine, options, requireRoot, ringBufferBytes, round, run, say, startSkbtrail, tempDir, udpFlood, vethPair, waitQuiet, writeResult,
} from './lib.mjs';

const opt = options({ rates: '10000,20000,40000,max', repeat: 1, seconds: 5, snaplen: 128, layout: 'pinned', stack: false, compress: 'lz4', 'wait-quiet': false, out: '' });
const LEN = 64;

run('capacity', async () => {
  requireRoot('capacity', ['iperf3']);
  if (!['pinned', 'shared'].includes(opt.layout)) throw new Error('--layout is pinned or shared');
  const pinned = opt.layout === 'pinned' && os.cpus().length > 1;
  const [dataCpu, recorderCpu] = pinned ? [0, 1] : [null, null];
  const ports = pinned ? [5201] : [5201, 5202];
  const quiet = opt['wait-quiet'] ? await waitQuiet() : null;
  const dir = tempDir();
  const pair = vethPair();
  const env = machine();

  const untraced = await udpFlood(pair, { seconds: opt.seconds, cpu: dataCpu, ports });
  say(`untraced: ${Math.round(untraced.vethPps).toLocaleString('en')} pps over veth`);
  const steps = [];
  // Rates ascending, each --repeat times in a row.
  for (const rate of opt.rates.split(',').flatMap((r) => Array(opt.repeat).fill(r))) {
    const bitrate = rate === 'max' ? '0' : String(Math.round((Number(rate) / ports.length) * LEN * 8));
    const args = ['--snaplen', String(opt.snaplen), '--compress', opt.compress, ...(opt.stack ? ['--output-stack'] : [])];
    const rec = await startSkbtrail(dir, args, { cpu: recorderCpu });
    const ring = ringBufferBytes(rec.pid);
    const flood = await udpFlood(pair, { seconds: opt.seconds, bitrate, cpu: dataCpu, ports });
    const r = await rec.stop();
    fs.rmSync(r.file, { force: true });
    const perM = (s) => round((s * 1e6) / r.events, 2);
    const step = {
      bitrate: Number(bitrate),
      offeredPps: rate === 'max' ? 'max' : Number(rate),
      vethPps: round(flood.vethPps),
      events: r.events,
      lost: r.lost,
      eventsPerSec: round((r.events + r.lost) / opt.seconds),
      recordedEventsPerSec: round(r.events / opt.seconds),
      ringBytes: ring,
      cpuSecondsPerMillionEvents: { user: perM(r.cpu.user), system: perM(r.cpu.system) },
      recorderCpuPercent: round(((r.cpu.user + r.cpu.system) / opt.seconds) * 100),
    };
    steps.push(step);
    say(`offered ${rate} pps: ${step.vethPps.toLocaleString('en')} pps over veth, ${step.recordedEventsPerSec.toLocaleString('en')} events/s recorded, ` +
      `${r.lost} lost; CPU s per M events ${step.cpuSecondsPerMillionEvents.user} user / ${step.cpuSecondsPerMillionEvents.system} system`);
  }
  const clean = steps.filter((s) => s.lost === 0);
  const best = clean.reduce((a, s) => (!a || s.recordedEventsPerSec > a.recordedEventsPerSec ? s : a), null);
  const atMax = steps.filter((s) => s.offeredPps === 'max');
  const result = {
    bench: 'capacity',
    ...env,
    command: `node bench/capacity.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    method: `iperf3 -u -l ${LEN} -t ${opt.seconds} at each offered rate (${ports.length} flow(s)), ${pinned ? 'traffic on CPU 0 and the recorder on CPU 1' : 'nothing pinned'}; skbtrail record --snaplen ${opt.snaplen} --compress ${opt.compress}${opt.stack ? ' --output-stack' : ''}; events and lost from the recorder's summary, CPU from /proc/PID/stat`,
    waitedQuiet: quiet,
    layout: opt.layout,
    snaplen: opt.snaplen,
    untracedVethPps: round(untraced.vethPps),
    capacity: best && { eventsPerSecZeroLoss: best.recordedEventsPerSec, atOfferedPps: best.offeredPps, ringBytes: best.ringBytes, cpuSecondsPerMillionEvents: best.cpuSecondsPerMillionEvents },
    zeroLossAtMaxRate: atMax.length ? atMax.every((s) => s.lost === 0) : null,
    maxRateRuns: atMax.map((s) => ({ vethPps: s.vethPps, recordedEventsPerSec: s.recordedEventsPerSec, lost: s.lost })),
    steps,
  };
  writeResult(opt.out, result);
  console.log(['| offered pps | pps over veth | events/s recorded | lost | ring | CPU s per M events (user / system) |', '| --- | --- | --- | --- | --- | --- |',
    ...steps.map((s) => `| ${s.offeredPps} | ${s.vethPps.toLocaleString('en')} | ${s.recordedEventsPerSec.toLocaleString('en')} | ${s.lost} | ${s.ringBytes / 2 ** 20} MiB | ${s.cpuSecondsPerMillionEvents.user} / ${s.cpuSecondsPerMillionEvents.system} |`),
    `untraced: ${result.untracedVethPps.toLocaleString('en')} pps over veth`].join('\n'));
});

