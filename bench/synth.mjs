#!/usr/bin/env node
// Writes an N-event synthetic recording with @skbtrail/format: packets of ~1000 flows (TCP, UDP,
// ICMP, some IPv6) from netns a to netns b, each crossing ~6 probes (3 transmit in a, 2 receive
// in b, then consume_skb or, for ~2% of packets, kfree_skb with a drop reason), on 2 CPUs.
// skb addresses come from a pool of 65536, so each is reused by ~25 packets over 10M events.
//   node bench/synth.mjs OUT.skbtrail [EVENTS=10000000] [--compress lz4|none]
// --compress lz4: LZ4_FRAME body compression with the native addon's encoder, as `skbtrail record`
// writes by default (default here: none, the recordings the benchmarks were first measured on).
import { createRequire } from 'node:module';
import { RecordingWriter } from '@skbtrail/format';

const USAGE = 'usage: node bench/synth.mjs OUT.skbtrail [EVENTS] [--compress lz4|none]';
const argv = process.argv.slice(2);
const compressAt = argv.indexOf('--compress');
const compress = compressAt >= 0 ? argv.splice(compressAt, 2)[1] : 'none';
const [out, eventsArg] = argv;
if (!out || !['lz4', 'none'].includes(compress)) {
  console.error(USAGE);
  process.exit(2);
}

function lz4Encoder() {
  try {
    return createRequire(import.meta.url)('@skbtrail/native').lz4Frame;
  } catch (err) {
    console.error(`synth: --compress lz4 needs the native addon: ${err.message}`);
    process.exit(1);
  }
}
const TOTAL = Number(eventsArg ?? 10_000_000);
const BATCH = 65536;

const NS_A = 4026532301;
const NS_B = 4026532402;
const TRACEPOINTS = [
  'skb:kfree_skb', 'skb:consume_skb', 'skb:skb_copy_datagram_iovec', 'net:net_dev_queue', 'net:net_dev_start_xmit',
  'net:net_dev_xmit', 'net:netif_rx', 'net:netif_receive_skb', 'net:napi_gro_receive_entry', 'net:netif_receive_skb_entry',
  'qdisc:qdisc_enqueue', 'qdisc:qdisc_dequeue', 'tcp:tcp_retransmit_skb', 'tcp:tcp_send_reset', 'udp:udp_fail_queue_rcv_skb',
];
const P = Object.fromEntries(TRACEPOINTS.map((t, id) => [t.split(':')[1], id]));
const REASONS = [
  { value: 0, name: 'NOT_DROPPED_YET' }, { value: 1, name: 'CONSUMED' }, { value: 2, name: 'NOT_SPECIFIED' },
  { value: 3, name: 'NO_SOCKET' }, { value: 12, name: 'NETFILTER_DROP' }, { value: 40, name: 'QDISC_DROP' },
];
const DROPS = [
  { reason: 12, location: 0xffffffffc0a013e8n }, // nft_do_chain+0x3e8
  { reason: 3, location: 0xffffffff81c4a2c0n }, // tcp_v4_rcv+0x2c0
  { reason: 40, location: 0xffffffff81b90114n }, // __dev_queue_xmit+0x114
];
const CONSUME_AT = 0xffffffff81b2c018n; // skb_free_datagram+0x18
const KALLSYMS = [
  [0xffffffff81b2c000n, 'skb_free_datagram', null], [0xffffffff81b2c100n, 'skb_free_datagram_locked', null],
  [0xffffffff81b90000n, '__dev_queue_xmit', null], [0xffffffff81b91000n, 'dev_queue_xmit_nit', null],
  [0xffffffff81c4a000n, 'tcp_v4_rcv', null], [0xffffffff81c4b000n, 'tcp_v4_early_demux', null],
  [0xffffffffc0a01000n, 'nft_do_chain', 'nf_tables'], [0xffffffffc0a01800n, 'nft_do_chain_ipv4', 'nf_tables'],
];

// A packet's route: [probe, netns (0 a, 1 b), has mac header]; the last hop is added per packet.
const ROUTE = [
  [P.net_dev_queue, 0, 1], [P.net_dev_start_xmit, 0, 1], [P.net_dev_xmit, 0, 1],
  [P.netif_rx, 1, 1], [P.netif_receive_skb, 1, 1],
];

/** One header template per flow: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP. */
function flowTemplate(f) {
  const kind = f % 50 === 0 ? 'udp6' : f % 10 < 7 ? 'tcp' : f % 10 < 9 ? 'udp' : 'icmp';
  const v6 = kind === 'udp6';
  const bytes = [2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00];
  const sport = 32768 + (f % 28000);
  const dport = [80, 443, 53, 8080][f % 4];
  const l4 =
    kind === 'tcp'
      ? [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xfa, 0xf0, 0, 0, 0, 0]
      : kind === 'icmp'
        ? [8, 0, 0, 0, f >> 8, f & 255, 0, 1]
        : [sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 40, 0, 0];
  if (v6) {
    const host = (n) => [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (n >> 8) & 255, n & 255];
    bytes.push(0x60, 0, 0, 0, 0, l4.length, 17, 64, ...host(f), ...host(1));
  } else {
    const proto = kind === 'tcp' ? 6 : kind === 'udp' ? 17 : 1;
    bytes.push(0x45, 0, 0, 20 + l4.length, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 1, (f >> 8) & 255, f & 255, 10, 2, 0, 1);
  }
  bytes.push(...l4);
  return { bytes: Uint8Array.from(bytes), protocol: v6 ? 0x86dd : 0x0800 };
}

const FLOWS = Array.from({ length: 1000 }, (_, f) => flowTemplate(f));
const COMMS = Array.from({ length: 50 }, (_, i) => (i === 0 ? 'swapper/0' : `worker-${i}`));

function startMeta() {
  return {
    recorder: { version: '0.1.0', argv: ['record', '-w', out], backend: 'tracepoint', backendReason: 'synthetic', options: { compress }, filters: {} },
    host: { hostname: 'synth', kernel: '6.18.0-synth', machine: 'x86_64' },
    clock: { bootToRealtimeNs: '1763900000000000000' },
    startedAt: new Date(1763900000000 + 1000).toISOString(),
    snaplen: 128,
    probes: TRACEPOINTS.map((target, id) => ({ id, name: target.split(':')[1], kind: 'tracepoint', target })),
    dropReasons: REASONS,
    netns: [{ inode: NS_A, name: 'a', source: 'ip netns' }, { inode: NS_B, name: 'b', source: 'ip netns' }],
    ifaces: [{ netns: NS_A, ifindex: 2, name: 'veth-a', mtu: 1500 }, { netns: NS_B, ifindex: 2, name: 'veth-b', mtu: 1500 }],
  };
}

/** Events [first, first + n) as typed-array columns; 64-bit columns written as 32-bit word pairs. */
function batch(first, n) {
  const ts = new BigUint64Array(n), skb = new BigUint64Array(n), location = new BigUint64Array(n);
  const ts32 = new Uint32Array(ts.buffer), skb32 = new Uint32Array(skb.buffer), loc32 = new Uint32Array(location.buffer);
  const cols = {
    length: n, ts, skb, location,
    pid: new Uint32Array(n), netns: new Uint32Array(n), ifindex: new Uint32Array(n), mark: new Uint32Array(n),
    len: new Uint32Array(n), mtu: new Uint32Array(n), reason: new Uint32Array(n), stack_id: new Int32Array(n),
    probe: new Uint16Array(n), protocol: new Uint16Array(n), cpu: new Uint16Array(n), net_off: new Uint16Array(n),
    trans_off: new Uint16Array(n), has_mac: new Uint8Array(n), pkt_type: new Uint8Array(n), comm: new Int32Array(n),
    newComms: first === 0 ? COMMS : [], headerOffsets: new Int32Array(n + 1), headers: null,
  };
  const headers = new Uint8Array(n * 80);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const e = first + i;
    const packet = Math.floor(e / 6);
    const hop = e % 6;
    const flow = FLOWS[(packet * 7919) % FLOWS.length];
    const dropped = packet % 50 === 0;
    // ~6.7M events/s of wall time; jitter below the 150 ns spacing keeps ts increasing and
    // gives the gaps between hops a spread (51-249 ns), as real timings have.
    const t = 1_000_000_000 + e * 150 + (Math.imul(e, 0x9e3779b1) >>> 0) % 149;
    ts32[2 * i] = t >>> 0;
    ts32[2 * i + 1] = Math.floor(t / 0x100000000);
    skb32[2 * i] = ((packet % 65536) * 256) >>> 0;
    skb32[2 * i + 1] = 0xffff8880;
    const onB = hop >= 3;
    cols.netns[i] = onB ? NS_B : NS_A;
    cols.ifindex[i] = 2;
    cols.cpu[i] = packet & 1;
    cols.comm[i] = onB ? 0 : 1 + (packet % (COMMS.length - 1));
    cols.pid[i] = onB ? 0 : 1000 + (packet % 97);
    cols.mtu[i] = 1500;
    cols.protocol[i] = flow.protocol;
    cols.stack_id[i] = -1;
    cols.trans_off[i] = 0xffff;
    if (hop < 5) {
      cols.probe[i] = ROUTE[hop][0];
      cols.has_mac[i] = ROUTE[hop][2];
    } else {
      const drop = DROPS[packet % DROPS.length];
      cols.probe[i] = dropped ? P.kfree_skb : P.consume_skb;
      cols.reason[i] = dropped ? drop.reason : 0;
      const loc = dropped ? drop.location : CONSUME_AT;
      loc32[2 * i] = Number(loc & 0xffffffffn);
      loc32[2 * i + 1] = Number(loc >> 32n);
      cols.has_mac[i] = 1;
    }
    cols.net_off[i] = 14;
    cols.len[i] = hop < 3 ? flow.bytes.length : flow.bytes.length - 14;
    headers.set(flow.bytes, at);
    at += flow.bytes.length;
    cols.headerOffsets[i + 1] = at;
  }
  cols.headers = headers.subarray(0, at);
  return cols;
}

const started = performance.now();
const writer = RecordingWriter.create(out, startMeta(), {
  flushEvents: BATCH,
  flushMs: 1e9,
  ...(compress === 'lz4' ? { lz4Frame: lz4Encoder() } : {}),
});
for (let first = 0; first < TOTAL; first += BATCH) writer.append(batch(first, Math.min(BATCH, TOTAL - first)));
writer.close(
  {
    stoppedAt: new Date(1763900000000 + 1000 + Math.ceil((TOTAL * 150) / 1e6) + 10).toISOString(),
    stopReason: 'signal',
    events: TOTAL,
    lost: { total: 0, perCpu: [0, 0] },
    netns: startMeta().netns,
    ifaces: startMeta().ifaces,
  },
  {
    kallsyms: { addr: BigUint64Array.from(KALLSYMS, (k) => k[0]), name: KALLSYMS.map((k) => k[1]), module: KALLSYMS.map((k) => k[2]) },
    stacks: { id: new Int32Array(0), frames: [] },
  },
);
const seconds = (performance.now() - started) / 1000;
console.error(`synth: wrote ${TOTAL} events to ${out} (${(writer.bytesWritten / 1e6).toFixed(0)} MB) in ${seconds.toFixed(1)} s`);
