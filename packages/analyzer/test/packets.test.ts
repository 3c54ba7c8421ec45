// Packet identity: an skb address is one packet from its first event to the event that frees
// it; the kernel then hands the address to the next packet. Clones are linked to the packet
// they were cloned from when the recording shows the cloning call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../src/session.js';
import { A, B, type Ev, NS_A, NS_B, eth, icmpEcho, ipv4, udp, writeWithProbes } from './scenario.js';

const PROBES = [
  { name: 'kfree_skb', kind: 'tracepoint' as const },
  { name: 'consume_skb', kind: 'tracepoint' as const },
  { name: 'net_dev_queue', kind: 'tracepoint' as const },
  { name: 'netif_receive_skb', kind: 'tracepoint' as const },
  { name: 'skb_clone', kind: 'kprobe' as const },
  { name: 'packet_rcv', kind: 'kprobe' as const },
  { name: 'skb_release_data', kind: 'kprobe' as const },
  { name: 'kfree_skbmem', kind: 'kprobe' as const },
];
const X = 0xffff888000001000n;
const Y = 0xffff888000002000n;
const Z = 0xffff888000003000n;
const W = 0xffff888000004000n;

function ev(probe: string, skb: bigint, ts: bigint, more: Partial<Ev> = {}): Ev {
  const frame = [...eth(0x0800), ...ipv4(A, B, 1, 64), ...icmpEcho(1)];
  return { ts, probe, skb, comm: 0, pid: 10, cpu: 0, netns: NS_A, ifindex: 2, len: 98, mtu: 1500, protocol: 0x0800, hasMac: true, headers: frame, ...more };
}

const udpFrame = [...eth(0x0800), ...ipv4(A, B, 17, 12), ...udp(5000, 7777, 12)];

let dir: string;
let session: Session;
const rows = async (sql: string) => (await session.connection.runAndReadAll(sql)).getRowObjectsJson();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-packets-'));
  const path = join(dir, 'lifetimes.skbtrail');
  writeWithProbes(path, PROBES, [
    [
      // packet 0 on X: sent, received, consumed
      ev('net_dev_queue', X, 1000n),
      ev('netif_receive_skb', X, 2000n, { netns: NS_B }),
      ev('consume_skb', X, 3000n, { netns: NS_B }),
      // packet 1 reuses X: a UDP datagram dropped by nftables
      ev('net_dev_queue', X, 10_000n, { headers: udpFrame }),
      // packet 2 on Y, cloned on CPU 1; its clone Z (packet 3) starts right after on CPU 1
      ev('net_dev_queue', Y, 10_500n, { cpu: 1 }),
      ev('skb_clone', Y, 11_000n, { cpu: 1 }),
      ev('packet_rcv', Z, 11_200n, { cpu: 1 }),
    ],
    [
      ev('kfree_skb', X, 12_000n, { netns: NS_B, headers: udpFrame, reason: 12 }),
      ev('consume_skb', Z, 13_000n, { cpu: 1 }),
      ev('consume_skb', Y, 14_000n, { cpu: 1 }),
      // packet 4 on Y, never freed while recording
      ev('net_dev_queue', Y, 20_000n),
      // packet 5 on W: consumed, then the functions that free it run on it (still packet 5) ...
      ev('net_dev_queue', W, 30_000n),
      ev('consume_skb', W, 31_000n),
      ev('skb_release_data', W, 31_100n),
      ev('kfree_skbmem', W, 31_200n),
      // ... until W is allocated again: packet 6
      ev('net_dev_queue', W, 40_000n),
    ],
  ]);
  session = await openSession(path);
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('packet identity', () => {
  it('starts a new packet when a freed address is used again', async () => {
    expect(await rows(`SELECT packet, hop, func, prev_func FROM events WHERE skb = ${X} ORDER BY seq`)).toEqual([
      { packet: 0, hop: 0, func: 'net_dev_queue', prev_func: null },
      { packet: 0, hop: 1, func: 'netif_receive_skb', prev_func: 'net_dev_queue' },
      { packet: 0, hop: 2, func: 'consume_skb', prev_func: 'netif_receive_skb' },
      { packet: 1, hop: 0, func: 'net_dev_queue', prev_func: null },
      { packet: 1, hop: 1, func: 'kfree_skb', prev_func: 'net_dev_queue' },
    ]);
  });

  it('keeps the functions that free a packet in that packet, and starts the next at the next other event', async () => {
    expect(await rows(`SELECT packet, hop, func FROM events WHERE skb = ${W} ORDER BY seq`)).toEqual([
      { packet: 5, hop: 0, func: 'net_dev_queue' },
      { packet: 5, hop: 1, func: 'consume_skb' },
      { packet: 5, hop: 2, func: 'skb_release_data' },
      { packet: 5, hop: 3, func: 'kfree_skbmem' },
      { packet: 6, hop: 0, func: 'net_dev_queue' },
    ]);
  });

  it('tells each packet how it ended, and links the clone to the packet it was cloned from', async () => {
    expect(
      await rows('SELECT packet, events, first_seq, last_seq, duration, parent, fate, reason, last_func FROM packets ORDER BY packet'),
    ).toEqual([
      { packet: 0, events: 3, first_seq: '0', last_seq: '2', duration: '2000', parent: null, fate: 'consumed', reason: null, last_func: 'consume_skb' },
      { packet: 1, events: 2, first_seq: '3', last_seq: '7', duration: '2000', parent: null, fate: 'dropped', reason: 'NETFILTER_DROP', last_func: 'kfree_skb' },
      { packet: 2, events: 3, first_seq: '4', last_seq: '9', duration: '3500', parent: null, fate: 'consumed', reason: null, last_func: 'consume_skb' },
      { packet: 3, events: 2, first_seq: '6', last_seq: '8', duration: '1800', parent: 2, fate: 'consumed', reason: null, last_func: 'consume_skb' },
      { packet: 4, events: 1, first_seq: '10', last_seq: '10', duration: '0', parent: null, fate: 'open', reason: null, last_func: 'net_dev_queue' },
      { packet: 5, events: 4, first_seq: '11', last_seq: '14', duration: '1200', parent: null, fate: 'consumed', reason: null, last_func: 'kfree_skbmem' },
      { packet: 6, events: 1, first_seq: '15', last_seq: '15', duration: '0', parent: null, fate: 'open', reason: null, last_func: 'net_dev_queue' },
    ]);
  });

  it('groups packets by trajectory, with the namespace and interface of each hop', async () => {
    const paths = await rows(
      `SELECT p.hops, p.trajectory, count(*) AS packets FROM packets k JOIN paths p USING (path) GROUP BY ALL ORDER BY packets DESC, p.trajectory`,
    );
    expect(paths).toEqual([
      { hops: 1, trajectory: `a/veth-a: net_dev_queue`, packets: '2' },
      { hops: 2, trajectory: 'a/veth-a: net_dev_queue > b/veth-b: kfree_skb(NETFILTER_DROP)', packets: '1' },
      { hops: 3, trajectory: 'a/veth-a: net_dev_queue > b/veth-b: netif_receive_skb consume_skb', packets: '1' },
      { hops: 4, trajectory: 'a/veth-a: net_dev_queue consume_skb skb_release_data kfree_skbmem', packets: '1' },
      { hops: 3, trajectory: 'a/veth-a: net_dev_queue skb_clone consume_skb', packets: '1' },
      { hops: 2, trajectory: 'a/veth-a: packet_rcv consume_skb', packets: '1' },
    ]);
    expect(await rows(`SELECT hop, func, netns_name, ifname, reason FROM path_hops WHERE path = (SELECT path FROM packets WHERE packet = 1) ORDER BY hop`)).toEqual([
      { hop: 0, func: 'net_dev_queue', netns_name: 'a', ifname: 'veth-a', reason: null },
      { hop: 1, func: 'kfree_skb', netns_name: 'b', ifname: 'veth-b', reason: 'NETFILTER_DROP' },
    ]);
  });

  it('measures spans from one probe to the first later one, per packet', async () => {
    expect(await rows(`SELECT packet, ns FROM spans('net_dev_queue', 'consume_skb') ORDER BY packet`)).toEqual([
      { packet: 0, ns: '2000' },
      { packet: 2, ns: '3500' },
      { packet: 5, ns: '1000' },
    ]);
  });

  it('gives the same packets to a scan of picked rows as to a full scan', async () => {
    const picked = await rows('SELECT seq, packet, hop, prev_ts FROM skbtrail_events(rows := [9, 3, 7]) ORDER BY seq');
    const full = await rows('SELECT seq, packet, hop, prev_ts FROM events_raw WHERE seq IN (3, 7, 9) ORDER BY seq');
    expect(picked).toEqual(full);
    expect(picked.map((r) => r.packet)).toEqual([1, 1, 2]);
  });
});
