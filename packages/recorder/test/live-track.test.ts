/**
 * --filter-track-skb on the real kernel: a router namespace rewrites the destination of
 * packets from a (nft DNAT 10.245.9.99 -> b's 10.245.2.2). Recording `dst host 10.245.9.99`
 * alone loses each packet at the rewrite; with --filter-track-skb the same skb is followed
 * into b, with its new address. A bound on the tracked skbs is counted when exceeded.
 * Root only; on CI these must run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { openRecording } from '@skbtrail/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlab, cli, liveSkipReason, sh, startRecorder } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live --filter-track-skb tests: ${skip}`);

const A = '10.245.1.1';
const R_A = '10.245.1.254';
const R_B = '10.245.2.254';
const B = '10.245.2.2';
const VIRTUAL = '10.245.9.99'; // what a talks to; r rewrites it to B

interface Row { skb: string; func: string; netns_name: string | null; saddr: string | null; daddr: string | null; proto: string | null; dport: number | null }

describe.skipIf(skip)('following a packet through DNAT', () => {
  const lab = new Netlab();
  let a = '';
  let r = '';
  let b = '';
  const sleepers: ChildProcess[] = [];

  beforeAll(() => {
    a = lab.ns('a');
    r = lab.ns('r');
    b = lab.ns('b');
    lab.veth(a, A, r, R_A, ['veth-ar', 'veth-ra']);
    lab.veth(r, R_B, b, B, ['veth-rb', 'veth-br']);
    sh('ip', ['-n', a, 'route', 'add', 'default', 'via', R_A]);
    sh('ip', ['-n', b, 'route', 'add', 'default', 'via', R_B]);
    lab.exec(r, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    lab.nft(r, `table ip skbtnat { chain prerouting { type nat hook prerouting priority -100; policy accept; ip daddr ${VIRTUAL} dnat to ${B}; }; }`);
  });
  afterAll(() => {
    for (const s of sleepers) s.kill('SIGKILL');
    lab.destroy();
  });

  async function recordPings(file: string, args: string[]): Promise<Row[]> {
    const rec = await startRecorder(file, [...args, `dst host ${VIRTUAL}`]);
    const ping = lab.run(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', VIRTUAL]);
    expect(ping.stdout).toContain('3 packets transmitted, 3 received');
    await new Promise((res) => setTimeout(res, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);
    const q = cli(['query', file, 'SELECT skb, func, netns_name, saddr, daddr, proto, dport FROM events ORDER BY ts, seq', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    return JSON.parse(q.stdout) as Row[];
  }

  it('without --filter-track-skb, the trace of each echo request stops where r rewrites its destination', async () => {
    const rows = await recordPings(path.join(lab.dir, 'untracked.skbtrail'), []);
    expect(rows.filter((e) => e.netns_name === a && e.daddr === VIRTUAL && e.func === 'net_dev_queue')).toHaveLength(3);
    expect(rows.filter((e) => e.netns_name === r && e.daddr === VIRTUAL && e.func === 'netif_receive_skb')).toHaveLength(3);
    expect(rows.filter((e) => e.daddr !== VIRTUAL), 'events after the rewrite').toEqual([]);
    expect(rows.filter((e) => e.netns_name === b)).toEqual([]);
  });

  it('with --filter-track-skb, follows each echo request after the rewrite, into netns b, until it is freed', async () => {
    const file = path.join(lab.dir, 'tracked.skbtrail');
    const rows = await recordPings(file, ['--filter-track-skb']);
    const rec = openRecording(file);
    expect(rec.meta.recorder.filters).toMatchObject({ pcap: `dst host ${VIRTUAL}`, trackSkb: { max: 65536 } });
    expect(rec.end?.trackOverflow).toEqual({ total: 0, perCpu: expect.any(Array) });

    const sent = rows.filter((e) => e.netns_name === a && e.daddr === VIRTUAL && e.func === 'net_dev_queue');
    expect(sent).toHaveLength(3);
    for (const request of sent) {
      // The same skb, from its first event in a to its free: later events are tracked ones.
      const trail = rows.slice(rows.indexOf(request)).filter((e) => e.skb === request.skb);
      const end = trail.findIndex((e) => e.func === 'kfree_skb' || e.func === 'consume_skb');
      expect(end, `skb ${request.skb} is freed in the recording`).toBeGreaterThan(0);
      const life = trail.slice(0, end + 1);
      const rewritten = life.filter((e) => e.daddr === B);
      expect(rewritten.length, `events of skb ${request.skb} after DNAT`).toBeGreaterThan(0);
      expect(rewritten.find((e) => e.netns_name === r && e.func === 'net_dev_queue')).toMatchObject({ saddr: A, proto: 'icmp' });
      expect(rewritten.find((e) => e.netns_name === b && e.func === 'netif_receive_skb')).toMatchObject({ saddr: A, proto: 'icmp' });
      expect(life[end]).toMatchObject({ netns_name: b, daddr: B });
    }
    // Only tracked packets are recorded beyond the filter: the echo replies never matched.
    expect(rows.filter((e) => e.daddr === A)).toEqual([]);
  });

  it('counts the matching packets it had no room to track (--filter-track-max), and records the tracked ones only', async () => {
    // A socket in b that never reads: datagrams stay queued, so their skbs stay tracked.
    const sleeper = spawn('ip', ['netns', 'exec', b, process.execPath, '-e',
      `const s = require('node:dgram').createSocket('udp4'); s.bind(7777, '${B}', () => { console.log('ready'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); });`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    sleepers.push(sleeper);
    await new Promise<void>((resolve, reject) => {
      sleeper.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      sleeper.on('exit', (code) => reject(new Error(`udp sleeper in ${b} exited (${code})`)));
    });

    const file = path.join(lab.dir, 'overflow.skbtrail');
    const rec = await startRecorder(file, ['--filter-track-skb', '--filter-track-max', '2', `udp and dst host ${VIRTUAL}`]);
    for (let i = 0; i < 5; i++) {
      lab.exec(a, 'bash', ['-c', `echo datagram-${i} > /dev/udp/${VIRTUAL}/7777`]);
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);
    sleeper.kill('SIGKILL');

    const recording = openRecording(file);
    expect(recording.end?.trackOverflow?.total).toBeGreaterThan(0);
    const q = cli(['query', file, 'SELECT skb, func, netns_name, saddr, daddr, proto, dport FROM events ORDER BY ts, seq', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = JSON.parse(q.stdout) as Row[];
    expect(rows.filter((e) => e.netns_name === a && e.func === 'net_dev_queue' && e.dport === 7777)).toHaveLength(5);
    // The first two datagrams fill the map (they stay queued in b); the other three are not followed.
    expect(rows.filter((e) => e.netns_name === b && e.daddr === B && e.func === 'netif_receive_skb')).toHaveLength(2);
  });
});
