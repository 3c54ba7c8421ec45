/**
 * pwru's metadata filters on the real kernel: netns a talks to b and to c (pings, and UDP
 * datagrams to b's port 6000 that an nft rule in a marks 0x2a, and to c's port 6001). Each of
 * --filter-netns (by name, /proc/PID/ns/net and inode:N), --filter-mark (value, value/mask)
 * and --filter-ifname narrows the same mixed run to exactly its part, and they AND with each
 * other and with the pcap filter. Root only; on CI these must run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openRecording } from '@skbtrail/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlab, cli, liveSkipReason, startRecorder } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live filter tests: ${skip}`);

const A_B = '10.247.1.1';
const B = '10.247.1.2';
const A_C = '10.247.2.1';
const C = '10.247.2.2';
const MARK = 0x2a;

interface Row { func: string; netns: number; netns_name: string | null; ifname: string | null; mark: number; proto: string | null; saddr: string | null; daddr: string | null; dport: number | null }

describe.skipIf(skip)('narrowing a mixed run with --filter-netns, --filter-mark and --filter-ifname', () => {
  const lab = new Netlab();
  let a = '';
  let b = '';
  let c = '';
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    a = lab.ns('a');
    b = lab.ns('b');
    c = lab.ns('c');
    lab.veth(a, A_B, b, B, ['veth-ab', 'veth-ba']);
    lab.veth(a, A_C, c, C, ['veth-ac', 'veth-ca']);
    for (const ns of [a, b, c]) lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    lab.nft(a, `table inet skbtmark { chain output { type filter hook output priority 0; policy accept; udp dport 6000 meta mark set ${MARK}; }; }`);
    // Neighbours resolved before any recording: the runs hold the traffic below, not ARP.
    lab.run(a, 'ping', ['-c', '1', '-W', '1', B]);
    lab.run(a, 'ping', ['-c', '1', '-W', '1', C]);
    // A process living in c, for --filter-netns /proc/PID/ns/net.
    holder = spawn('ip', ['netns', 'exec', c, 'sleep', '600'], { stdio: 'ignore' });
    const want = fs.statSync(`/run/netns/${c}`).ino;
    for (let i = 0; i < 100 && fs.statSync(`/proc/${holder.pid}/ns/net`).ino !== want; i++) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(() => {
    holder?.kill('SIGKILL');
    lab.destroy();
  });

  /** Records the mixed traffic with these options; returns the events and the recording's filters. */
  async function run(name: string, args: string[]): Promise<{ rows: Row[]; filters: Record<string, unknown> }> {
    const file = path.join(lab.dir, `${name}.skbtrail`);
    const rec = await startRecorder(file, args);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', B]);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', C]);
    for (let i = 0; i < 3; i++) lab.exec(a, 'bash', ['-c', `echo marked-${i} > /dev/udp/${B}/6000`]);
    for (let i = 0; i < 2; i++) lab.exec(a, 'bash', ['-c', `echo plain-${i} > /dev/udp/${C}/6001`]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);
    const q = cli(['query', file, 'SELECT func, netns, netns_name, ifname, mark, proto, saddr, daddr, dport FROM events ORDER BY ts, seq', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    return { rows: JSON.parse(q.stdout) as Row[], filters: openRecording(file).meta.recorder.filters };
  }

  const count = (rows: Row[], pred: (r: Row) => boolean) => rows.filter(pred).length;

  it('--filter-netns NAME records the packets in b only: the pings and datagrams arriving, the replies leaving', async () => {
    const { rows, filters } = await run('netns-name', ['--filter-netns', b]);
    expect(filters).toMatchObject({ netns: { spec: b, name: b, inode: fs.statSync(`/run/netns/${b}`).ino } });
    expect(rows.filter((r) => r.netns_name !== b)).toEqual([]);
    expect(count(rows, (r) => r.func === 'netif_receive_skb' && r.proto === 'icmp' && r.daddr === B)).toBe(2);
    expect(count(rows, (r) => r.func === 'net_dev_queue' && r.proto === 'icmp' && r.saddr === B)).toBe(2 + 3); // echo replies, port unreachables
    expect(count(rows, (r) => r.func === 'kfree_skb' && r.proto === 'udp' && r.dport === 6000)).toBe(3);
  });

  it('--filter-netns /proc/PID/ns/net and inode:N name the same namespace (c) and record the same events', async () => {
    const byPath = await run('netns-proc', ['--filter-netns', `/proc/${holder!.pid}/ns/net`]);
    const inode = fs.statSync(`/run/netns/${c}`).ino;
    const byInode = await run('netns-inode', ['--filter-netns', `inode:${inode}`]);
    for (const { rows } of [byPath, byInode]) {
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.netns !== inode)).toEqual([]);
      expect(count(rows, (r) => r.func === 'netif_receive_skb' && r.proto === 'icmp' && r.daddr === C)).toBe(2);
      expect(count(rows, (r) => r.func === 'kfree_skb' && r.proto === 'udp' && r.dport === 6001)).toBe(2);
    }
    // The IP traffic is the same in both runs; ARP is not (a neighbour gone stale is re-probed in one run only).
    const shape = (rows: Row[]) => rows.filter((r) => r.proto !== null).map((r) => `${r.func} ${r.proto} ${r.saddr}>${r.daddr}:${r.dport}`).sort();
    expect(shape(byInode.rows)).toEqual(shape(byPath.rows));
    expect(byInode.filters).toMatchObject({ netns: { inode } });
  });

  it('--filter-mark 0x2a records the datagrams the nft rule marked, and nothing else', async () => {
    for (const [name, spec] of [['mark', '0x2a'], ['mark-mask', '0x20/0xf0']]) {
      const { rows, filters } = await run(name, ['--filter-mark', spec]);
      expect(filters).toMatchObject({ mark: spec === '0x2a' ? { value: MARK, mask: 0xffffffff } : { value: 0x20, mask: 0xf0 } });
      expect(rows.length).toBeGreaterThan(0);
      // The mark lives until the skb leaves a's namespace (veth scrubs it).
      expect(rows.filter((r) => r.mark !== MARK || r.proto !== 'udp' || r.dport !== 6000 || r.netns_name !== a)).toEqual([]);
      expect(count(rows, (r) => r.func === 'net_dev_queue')).toBe(3);
    }
  });

  it('--filter-ifname veth-ac --filter-netns a records only what crosses a\'s link to c', async () => {
    const { rows, filters } = await run('ifname', ['--filter-netns', a, '--filter-ifname', 'veth-ac']);
    expect(filters).toMatchObject({ ifname: { name: 'veth-ac', netns: fs.statSync(`/run/netns/${a}`).ino } });
    expect(rows.filter((r) => r.netns_name !== a || r.ifname !== 'veth-ac')).toEqual([]);
    expect(count(rows, (r) => r.func === 'net_dev_queue' && r.proto === 'icmp' && r.daddr === C)).toBe(2);
    expect(count(rows, (r) => r.func === 'netif_receive_skb' && r.proto === 'icmp' && r.saddr === C)).toBe(2 + 2); // echo replies, port unreachables
    expect(count(rows, (r) => r.func === 'net_dev_queue' && r.proto === 'udp' && r.dport === 6001)).toBe(2);
    expect(rows.filter((r) => r.daddr === B || r.saddr === B)).toEqual([]);
  });

  it('ANDs the filters with each other and with the pcap filter', async () => {
    const { rows } = await run('and', ['--filter-netns', a, '--filter-ifname', 'veth-ab', 'icmp']);
    expect(rows.filter((r) => r.netns_name !== a || r.ifname !== 'veth-ab' || r.proto !== 'icmp')).toEqual([]);
    expect(count(rows, (r) => r.func === 'net_dev_queue' && r.daddr === B)).toBe(2);
    const none = await run('and-none', ['--filter-netns', b, '--filter-mark', '0x2a']);
    expect(none.rows, 'the mark is gone by the time a datagram reaches b').toEqual([]);
  });
});
