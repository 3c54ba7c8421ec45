// A small, real-looking recording written with the format package's writer: two ICMP echo
// requests from netns a (10.0.1.1) to netns b (10.0.1.2) dropped by nftables in b, a TCP SYN
// refused in b (no socket), and an IPv6 DNS query over lo in the host netns.
import { writeRecording, type EndMeta, type EventColumns, type Lz4FrameEncoder, type RecordingTables, type StartMeta } from '@skbtrail/format';

export const NS_HOST = 4026531840;
export const NS_A = 4026532301;
export const NS_B = 4026532402;
export const BOOT_TO_REALTIME = 1763900000000000000n;
export const T0 = 5_000_000_000n;

const TRACEPOINTS = [
  'skb:kfree_skb', 'skb:consume_skb', 'skb:skb_copy_datagram_iovec', 'net:net_dev_queue', 'net:net_dev_start_xmit',
  'net:net_dev_xmit', 'net:netif_rx', 'net:netif_receive_skb', 'net:napi_gro_receive_entry', 'net:netif_receive_skb_entry',
  'qdisc:qdisc_enqueue', 'qdisc:qdisc_dequeue', 'tcp:tcp_retransmit_skb', 'tcp:tcp_send_reset', 'udp:udp_fail_queue_rcv_skb',
];
const PROBE = Object.fromEntries(TRACEPOINTS.map((t, id) => [t.split(':')[1], id]));

export const DROP_REASONS = [
  { value: 0, name: 'NOT_DROPPED_YET' },
  { value: 1, name: 'CONSUMED' },
  { value: 2, name: 'NOT_SPECIFIED' },
  { value: 3, name: 'NO_SOCKET' },
  { value: 5, name: 'SOCKET_FILTER' },
  { value: 12, name: 'NETFILTER_DROP' },
];
const REASON = Object.fromEntries(DROP_REASONS.map((r) => [r.name, r.value]));

export const SYM = {
  nft_do_chain: 0xffffffffc0a01000n,
  nft_do_chain_next: 0xffffffffc0a01800n,
  tcp_v4_rcv: 0xffffffff81c4a000n,
  tcp_v4_rcv_next: 0xffffffff81c4b000n,
  skb_free_datagram: 0xffffffff81b2c000n,
  skb_free_datagram_next: 0xffffffff81b2c100n,
  kfree_skb_reason: 0xffffffff81a10000n,
  kfree_skb_reason_next: 0xffffffff81a10400n,
};

export function startMeta(): StartMeta {
  return {
    recorder: {
      version: '0.1.0',
      argv: ['skbtrail', 'record', '-w', 'drop.skbtrail'],
      backend: 'tracepoint',
      backendReason: 'kprobes unavailable (CONFIG_KPROBES off)',
      options: { outputStack: true },
      filters: {},
    },
    host: { hostname: 'lab1', kernel: '6.18.0-test', machine: 'x86_64' },
    clock: { bootToRealtimeNs: String(BOOT_TO_REALTIME) },
    startedAt: '2025-11-23T12:13:25.000Z',
    snaplen: 128,
    probes: TRACEPOINTS.map((target, id) => ({ id, name: target.split(':')[1], kind: 'tracepoint' as const, target })),
    dropReasons: DROP_REASONS,
    netns: [
      { inode: NS_HOST, name: null, source: 'self' },
      { inode: NS_A, name: 'a', source: 'ip netns' },
    ],
    ifaces: [
      { netns: NS_HOST, ifindex: 1, name: 'lo', mtu: 65536 },
      { netns: NS_A, ifindex: 2, name: 'veth-a', mtu: 1500 },
    ],
  };
}

export function endMeta(events: number, lost = 0): EndMeta {
  return {
    stoppedAt: '2025-11-23T12:13:30.500Z',
    stopReason: 'signal',
    events,
    lost: { total: lost, perCpu: [lost, 0] },
    // netns b appeared after the start; the stop-time rescan names it.
    netns: [
      { inode: NS_HOST, name: null, source: 'self' },
      { inode: NS_A, name: 'a', source: 'ip netns' },
      { inode: NS_B, name: 'b', source: 'ip netns' },
    ],
    ifaces: [
      { netns: NS_HOST, ifindex: 1, name: 'lo', mtu: 65536 },
      { netns: NS_A, ifindex: 2, name: 'veth-a', mtu: 1500 },
      { netns: NS_B, ifindex: 2, name: 'veth-b', mtu: 1500 },
    ],
  };
}

export function tables(): RecordingTables {
  const syms: [bigint, string, string | null][] = [
    [SYM.kfree_skb_reason, 'kfree_skb_reason', null],
    [SYM.kfree_skb_reason_next, 'kfree_skb_list_reason', null],
    [SYM.skb_free_datagram, 'skb_free_datagram', null],
    [SYM.skb_free_datagram_next, 'skb_free_datagram_locked', null],
    [SYM.tcp_v4_rcv, 'tcp_v4_rcv', null],
    [SYM.tcp_v4_rcv_next, 'tcp_v4_early_demux', null],
    [SYM.nft_do_chain, 'nft_do_chain', 'nf_tables'],
    [SYM.nft_do_chain_next, 'nft_do_chain_ipv4', 'nf_tables'],
  ];
  return {
    kallsyms: { addr: BigUint64Array.from(syms, (s) => s[0]), name: syms.map((s) => s[1]), module: syms.map((s) => s[2]) },
    stacks: {
      id: Int32Array.of(0),
      frames: [BigUint64Array.of(SYM.kfree_skb_reason + 0x5cn, SYM.nft_do_chain + 0x3e8n)],
    },
  };
}

// --- packet bytes ---------------------------------------------------------------------------
const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function eth(type: number): number[] {
  return [...MAC_B, ...MAC_A, type >> 8, type & 255];
}

export function ipv4(src: number[], dst: number[], proto: number, payload: number): number[] {
  const total = 20 + payload;
  return [0x45, 0, total >> 8, total & 255, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, ...src, ...dst];
}

export function icmpEcho(seq: number): number[] {
  return [8, 0, 0, 0, 0x0b, 0xad, 0, seq];
}

export function tcpSyn(sport: number, dport: number): number[] {
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0];
}

function ipv6(src: number[], dst: number[], nextHeader: number, payload: number): number[] {
  return [0x60, 0, 0, 0, payload >> 8, payload & 255, nextHeader, 64, ...src, ...dst];
}

export function udp(sport: number, dport: number, len: number): number[] {
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, len >> 8, len & 255, 0, 0];
}

export const A = [10, 0, 1, 1];
export const B = [10, 0, 1, 2];
const FD1 = [0xfd, 0, ...new Array(13).fill(0), 1];
const FD2 = [0xfd, 0, ...new Array(13).fill(0), 2];

// --- events ---------------------------------------------------------------------------------
export interface Ev {
  ts: bigint;
  probe: string;
  skb: bigint;
  comm: number;
  pid: number;
  cpu: number;
  netns: number;
  ifindex: number;
  len: number;
  mtu: number;
  protocol: number;
  hasMac: boolean;
  headers: number[];
  reason?: number;
  location?: bigint;
  stackId?: number;
  mark?: number;
  /** fexit events: the function's return value */
  retval?: bigint;
}

export const COMMS = ['ping', 'curl', 'dig'];

function echoPath(seq: number, skb: bigint, t: bigint): Ev[] {
  const frame = [...eth(0x0800), ...ipv4(A, B, 1, 64), ...icmpEcho(seq)];
  const base = { skb, comm: 0, pid: 4242, cpu: 1, mtu: 1500, protocol: 0x0800, hasMac: true, headers: frame };
  return [
    { ...base, ts: t, probe: 'net_dev_queue', netns: NS_A, ifindex: 2, len: 98 },
    { ...base, ts: t + 100n, probe: 'net_dev_start_xmit', netns: NS_A, ifindex: 2, len: 98 },
    { ...base, ts: t + 2000n, probe: 'netif_receive_skb', netns: NS_B, ifindex: 2, len: 84, mark: 0x2a },
    {
      ...base,
      ts: t + 5000n,
      probe: 'kfree_skb',
      netns: NS_B,
      ifindex: 2,
      len: 84,
      mark: 0x2a,
      reason: REASON.NETFILTER_DROP,
      location: SYM.nft_do_chain + 0x3e8n,
      stackId: 0,
    },
  ];
}

function synPath(skb: bigint, t: bigint): Ev[] {
  const frame = [...eth(0x0800), ...ipv4(A, B, 6, 20), ...tcpSyn(40000, 80)];
  const base = { skb, comm: 1, pid: 5151, cpu: 0, mtu: 1500, protocol: 0x0800, hasMac: true, headers: frame };
  return [
    { ...base, ts: t, probe: 'net_dev_queue', netns: NS_A, ifindex: 2, len: 74 },
    { ...base, ts: t + 1500n, probe: 'netif_receive_skb', netns: NS_B, ifindex: 2, len: 60 },
    { ...base, ts: t + 4000n, probe: 'kfree_skb', netns: NS_B, ifindex: 2, len: 40, reason: REASON.NO_SOCKET, location: SYM.tcp_v4_rcv + 0x2c0n },
  ];
}

function dnsPath(skb: bigint, t: bigint): Ev[] {
  const packet = [...ipv6(FD1, FD2, 17, 40), ...udp(5353, 53, 40)];
  const base = { skb, comm: 2, pid: 777, cpu: 0, mtu: 65536, protocol: 0x86dd, hasMac: false, headers: packet, netns: NS_HOST, ifindex: 1 };
  return [
    { ...base, ts: t, probe: 'net_dev_queue', len: 80 },
    { ...base, ts: t + 900n, probe: 'netif_receive_skb', len: 80 },
    { ...base, ts: t + 3000n, probe: 'consume_skb', ifindex: 0, len: 40, location: SYM.skb_free_datagram + 0x18n },
  ];
}

export const SKB = { echo1: 0xffff8b7f0331f800n, echo2: 0xffff8b7f0331fa00n, syn: 0xffff8b7f04400100n, dns: 0xffff8b7f05500200n };

/** The events in batches (the comm dictionary grows in the second batch). */
export function eventBatches(): Ev[][] {
  return [
    [...echoPath(1, SKB.echo1, T0), ...echoPath(2, SKB.echo2, T0 + 1_000_000_000n)],
    [...synPath(SKB.syn, T0 + 2_000_000_000n), ...dnsPath(SKB.dns, T0 + 3_000_000_000n)],
  ];
}

function columns(events: Ev[], newComms: string[], probeIds: Record<string, number> = PROBE): EventColumns {
  const n = events.length;
  const headerOffsets = new Int32Array(n + 1);
  events.forEach((e, i) => (headerOffsets[i + 1] = headerOffsets[i] + e.headers.length));
  const headers = new Uint8Array(headerOffsets[n]);
  events.forEach((e, i) => headers.set(e.headers, headerOffsets[i]));
  return {
    length: n,
    ts: BigUint64Array.from(events, (e) => e.ts),
    skb: BigUint64Array.from(events, (e) => e.skb),
    location: BigUint64Array.from(events, (e) => e.location ?? 0n),
    pid: Uint32Array.from(events, (e) => e.pid),
    netns: Uint32Array.from(events, (e) => e.netns),
    ifindex: Uint32Array.from(events, (e) => e.ifindex),
    mark: Uint32Array.from(events, (e) => e.mark ?? 0),
    len: Uint32Array.from(events, (e) => e.len),
    mtu: Uint32Array.from(events, (e) => e.mtu),
    reason: Uint32Array.from(events, (e) => e.reason ?? 0),
    stack_id: Int32Array.from(events, (e) => e.stackId ?? -1),
    probe: Uint16Array.from(events, (e) => probeIds[e.probe]),
    protocol: Uint16Array.from(events, (e) => e.protocol),
    cpu: Uint16Array.from(events, (e) => e.cpu),
    net_off: Uint16Array.from(events, (e) => (e.hasMac ? 14 : 0)),
    trans_off: Uint16Array.from(events, (e) => (e.hasMac ? 34 : 40)),
    has_mac: Uint8Array.from(events, (e) => (e.hasMac ? 1 : 0)),
    pkt_type: Uint8Array.from(events, () => 0),
    comm: Int32Array.from(events, (e) => e.comm),
    newComms,
    headers,
    headerOffsets,
    ...(events.some((e) => e.retval !== undefined) ? { retval: BigInt64Array.from(events, (e) => e.retval ?? 0n) } : {}),
  };
}

/**
 * Writes the scenario to path, one Arrow batch per group of events; `lost`: events the recorder
 * reports lost; `lz4Frame`: compress the events with this encoder.
 */
export function writeScenario(path: string, opts: { lost?: number; lz4Frame?: Lz4FrameEncoder } = {}): void {
  const [first, second] = eventBatches();
  const batches = [columns(first, COMMS.slice(0, 1)), columns(second, COMMS.slice(1))];
  const writer = opts.lz4Frame ? { flushEvents: 1, lz4Frame: opts.lz4Frame } : { flushEvents: 1 };
  writeRecording(path, startMeta(), batches, endMeta(first.length + second.length, opts.lost), tables(), writer);
}

/**
 * Writes events made with other probes than the tracepoints (function probes such as skb_clone,
 * as kprobe recordings have them): one batch per group, comms as in COMMS.
 */
export function writeWithProbes(
  path: string,
  probes: { name: string; kind: 'tracepoint' | 'kprobe' | 'fentry' | 'fexit' }[],
  groups: Ev[][],
  opts: { stacks?: boolean } = {},
): void {
  const meta = startMeta();
  const withStacks = opts.stacks ?? true;
  if (!withStacks) meta.recorder.options = {};
  meta.probes = probes.map((p, id) => ({ id, name: p.name, kind: p.kind, target: p.kind === 'tracepoint' ? `skb:${p.name}` : p.name }));
  meta.recorder.backend = 'kprobe';
  // an event's probe: the name, or name:kind where two probes share a name (fentry and fexit)
  const ids: Record<string, number> = {};
  probes.forEach((p, id) => {
    ids[p.name] ??= id;
    ids[`${p.name}:${p.kind}`] = id;
  });
  const batches = groups.map((events, i) => columns(events, i === 0 ? COMMS : [], ids));
  const total = groups.reduce((n, g) => n + g.length, 0);
  const t = tables();
  if (!withStacks) t.stacks = { id: new Int32Array(0), frames: [] };
  writeRecording(path, meta, batches, endMeta(total), t, { flushEvents: 1 });
}
