#!/usr/bin/env node
// Size and time to answer, from one run recorded by skbtrail and perf at the same time:
// a bounded UDP flood crosses a veth pair, and an nftables rule in the far namespace drops
// the datagrams of one of the two flows, so there are drops to count. Then:
//   - bytes per event on disk: the skbtrail recording, perf.data, and the pwru-style text
//     (`skbtrail show` output) of the same events;
//   - time to answer "how many packets were dropped, by reason and location": `skbtrail drops`
//     against `perf script` piped to the shortest awk/sort that answers it (median of --repeat,
//     page cache warm for both), checking that both give the same counts.
//
//   sudo node bench/size-and-drops.mjs [--seconds 10] [--pps 15000] [--perf-mmap 64M] [--repeat 3]
//                                     [--wait-quiet] [--out bench/results/size-and-drops.json]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CLI, dropUdpPort, machine, median, options, requireRoot, round, run, say, startPerf, startSkbtrail, tempDir,
  udpFlood, vethPair, waitQuiet, writeResult,
} from './lib.mjs';

const opt = options({ seconds: 10, pps: 15000, 'perf-mmap': '64M', repeat: 3, 'wait-quiet': false, out: '' });
const DATA_CPU = 0;
const TRACER_CPU = os.cpus().length > 1 ? 1 : null;
const ACCEPTED_PORT = 5201;
const DROPPED_PORT = 5202;

// The shortest pipeline that answers the question from perf.data: count the kfree_skb lines by
// their location= and reason fields (perf prints `... location=nft_do_chain+0x2e4 reason: NETFILTER_DROP`).
const PERF_DROPS = `perf script -i "$1" 2>/dev/null | awk '/ skb:kfree_skb: /{print $(NF-2), $NF}' | sort | uniq -c | sort -rn`;

run('size-and-drops', async () => {
  requireRoot('size-and-drops', ['iperf3', 'perf']);
  const quiet = opt['wait-quiet'] ? await waitQuiet() : null;
  const dir = tempDir();
  const pair = vethPair();
  dropUdpPort(pair, DROPPED_PORT);
  const env = machine();

  // Both recorders on the tracer CPU, attached to the same tracepoints for the same flood.
  const perf = await startPerf(dir, ['-m', opt['perf-mmap']], { cpu: TRACER_CPU });
  const skbtrail = await startSkbtrail(dir, [], { cpu: TRACER_CPU });
  const bitrate = String(opt.pps * 64 * 8); // iperf3's -b counts payload bits: 64-byte datagrams
  const traffic = await udpFlood(pair, { seconds: opt.seconds, bitrate, cpu: DATA_CPU, ports: [ACCEPTED_PORT, DROPPED_PORT] });
  const rec = await skbtrail.stop();
  const perfRec = await perf.stop();
  say(`flood: ${Math.round(traffic.sentPps)} pps sent; skbtrail ${rec.events} events (${rec.lost} lost), perf ${perfRec.events} samples (${perfRec.lost} lost)`);

  // pwru-style text of the same events
  const showFile = path.join(dir, 'show.txt');
  const show = spawnSync('bash', ['-c', `node "$1" show "$2" > "$3"`, 'bash', CLI, rec.file, showFile], { encoding: 'utf8' });
  if (show.status !== 0) throw new Error(`skbtrail show failed: ${show.stderr}`);
  const showBytes = fs.statSync(showFile).size;
  const showLines = Number(spawnSync('wc', ['-l', showFile], { encoding: 'utf8' }).stdout.split(' ')[0]);
  fs.rmSync(showFile);

  const sizeDetail = sizeDetailOf(rec, perfRec);

  // Time to answer, alternating the two, page cache warm (both files were just written).
  const times = { skbtrail: [], perf: [] };
  let skbtrailAnswer;
  let perfAnswer;
  for (let i = 0; i < opt.repeat; i++) {
    let t0 = performance.now();
    const s = spawnSync(process.execPath, [CLI, 'drops', rec.file, '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    times.skbtrail.push((performance.now() - t0) / 1000);
    if (s.status !== 0) throw new Error(`skbtrail drops failed: ${s.stderr}`);
    skbtrailAnswer = byReasonLocation(JSON.parse(s.stdout).map((r) => [r.reason, r.location, Number(r.count)]));
    t0 = performance.now();
    const p = spawnSync('bash', ['-c', PERF_DROPS, 'bash', perfRec.file], { encoding: 'utf8', maxBuffer: 256 << 20 });
    times.perf.push((performance.now() - t0) / 1000);
    if (p.status !== 0) throw new Error(`perf script | awk failed: ${p.stderr}`);
    perfAnswer = byReasonLocation(p.stdout.trim().split('\n').filter(Boolean).map((l) => {
      const [, count, location, reason] = /^\s*(\d+) location=(\S+) (\S+)$/.exec(l) ?? [];
      return [reason, location, Number(count)];
    }));
  }
  const total = (a) => Object.values(a).reduce((n, c) => n + c, 0);
  // perf runs a little longer than skbtrail (started first, stopped last), so it may also see a
  // few drops of the machine's other traffic; the flood's drops (NETFILTER_DROP) must match.
  const floodDrops = (a) => JSON.stringify(Object.entries(a).filter(([k]) => k.startsWith('NETFILTER_DROP ')));
  const agree = floodDrops(skbtrailAnswer) === floodDrops(perfAnswer) && floodDrops(skbtrailAnswer) !== '[]';
  if (!agree) say(`the answers differ:\n skbtrail ${JSON.stringify(skbtrailAnswer)}\n perf     ${JSON.stringify(perfAnswer)}`);

  const result = {
    bench: 'size-and-drops',
    ...env,
    command: `node bench/size-and-drops.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    method: `two iperf3 UDP flows (64-byte datagrams, ${opt.pps} pps each, ${opt.seconds} s) from netns a to netns b over a veth pair; nft in b drops udp dport ${DROPPED_PORT}; skbtrail record and ${perf.command} running at once on CPU ${TRACER_CPU}, traffic on CPU ${DATA_CPU}`,
    waitedQuiet: quiet,
    flood: traffic,
    skbtrail: { command: skbtrail.command, events: rec.events, lost: rec.lost, bytes: rec.bytes, bytesPerEvent: round(rec.bytes / rec.events, 1) },
    perf: { command: perf.command, events: perfRec.events, lost: perfRec.lost, bytes: perfRec.bytes, bytesPerEvent: round(perfRec.bytes / perfRec.events, 1) },
    text: { command: 'skbtrail show FILE > show.txt', lines: showLines, bytes: showBytes, bytesPerEvent: round(showBytes / rec.events, 1) },
    sizeRatioToPerf: round(rec.bytes / rec.events / (perfRec.bytes / perfRec.events), 3),
    sizeDetail,
    drops: {
      question: 'how many packets were dropped, by reason and location',
      skbtrailCommand: 'skbtrail drops FILE --format json',
      perfCommand: PERF_DROPS.replace('"$1"', 'perf.data'),
      skbtrailSeconds: round(median(times.skbtrail), 3),
      perfSeconds: round(median(times.perf), 3),
      runs: times,
      speedup: round(median(times.perf) / median(times.skbtrail), 2),
      floodDropsAgree: agree,
      drops: total(skbtrailAnswer),
      skbtrailAnswer,
      perfAnswer,
    },
  };
  writeResult(opt.out, result);
  console.log([
    '| | events | bytes | bytes/event |',
    '| --- | --- | --- | --- |',
    `| skbtrail recording | ${rec.events.toLocaleString('en')} | ${rec.bytes.toLocaleString('en')} | ${result.skbtrail.bytesPerEvent} |`,
    `| perf.data | ${perfRec.events.toLocaleString('en')} | ${perfRec.bytes.toLocaleString('en')} | ${result.perf.bytesPerEvent} |`,
    `| skbtrail show text | ${showLines.toLocaleString('en')} lines | ${showBytes.toLocaleString('en')} | ${result.text.bytesPerEvent} |`,
    '',
    `captured header bytes per event before compression: ${sizeDetail.headerBytesPerEventUncompressed}; ` +
      `zstd -1: skbtrail ${sizeDetail.zstd1.skbtrailBytesPerEvent}, perf.data ${sizeDetail.zstd1.perfBytesPerEvent} bytes/event`,
    '',
    `drops by reason and location (${result.drops.drops} drops; the flood's drops ${agree ? 'agree' : 'DIFFER'}): ` +
      `skbtrail drops ${result.drops.skbtrailSeconds} s, perf script | awk ${result.drops.perfSeconds} s (${result.drops.speedup}x)`,
  ].join('\n'));
});

/**
 * What the bytes are, measured on this run: the captured header bytes per event (before
 * compression), and both files through zstd -1 for reference (perf record -z writes zstd).
 */
function sizeDetailOf(rec, perfRec) {
  const sql = 'SELECT sum(octet_length(headers)) AS header_bytes FROM events_raw';
  const q = spawnSync(process.execPath, [CLI, 'query', rec.file, sql, '--format', 'json'], { encoding: 'utf8' });
  if (q.status !== 0) throw new Error(`skbtrail query failed: ${q.stderr}`);
  const [h] = JSON.parse(q.stdout);
  const zstd = (file) => {
    const z = spawnSync('bash', ['-c', 'zstd -1 -T1 -c "$1" | wc -c', 'bash', file], { encoding: 'utf8' });
    if (z.status !== 0) throw new Error(`zstd failed: ${z.stderr}`);
    return Number(z.stdout.trim());
  };
  return {
    headerBytesPerEventUncompressed: round(Number(h.header_bytes) / rec.events, 1),
    zstd1: { command: 'zstd -1 -T1 -c FILE | wc -c', skbtrailBytesPerEvent: round(zstd(rec.file) / rec.events, 1), perfBytesPerEvent: round(zstd(perfRec.file) / perfRec.events, 1) },
  };
}

/** {"REASON location": count}, sorted by key, so two answers compare as strings. */
function byReasonLocation(rows) {
  const out = {};
  for (const [reason, location, count] of rows) out[`${reason} ${location}`] = (out[`${reason} ${location}`] ?? 0) + count;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
