// Deterministic synthetic recordings for the format tests.
import type { EndMeta, EventColumns, RecordingTables, StartMeta } from '../src/index.js';

const PROBE_NAMES = ['kfree_skb', 'consume_skb', 'net_dev_queue', 'netif_receive_skb'];

export function sampleMeta(): StartMeta {
  return {
    recorder: {
      version: '0.1.0',
      argv: ['record', 'icmp', '-w', 'x.skbtrail'],
      backend: 'tracepoint',
      backendReason: 'kprobes unavailable',
      options: { outputStack: true },
      filters: { pcap: 'icmp' },
    },
    host: { hostname: 'box', kernel: '6.18.0', machine: 'x86_64' },
    clock: { bootToRealtimeNs: '1763900000000000000' },
    startedAt: '2025-11-23T12:00:00.000Z',
    snaplen: 128,
    probes: PROBE_NAMES.map((name, id) => ({ id, name, kind: 'tracepoint' as const, target: `skb:${name}` })),
    dropReasons: [
      { value: 2, name: 'NOT_SPECIFIED' },
      { value: 6, name: 'NETFILTER_DROP' },
    ],
    netns: [{ inode: 4026531840, name: null, source: 'self' }],
    ifaces: [{ netns: 4026531840, ifindex: 1, name: 'lo', mtu: 65536 }],
  };
}

export function sampleEnd(events: number): EndMeta {
  return {
    stoppedAt: '2025-11-23T12:00:05.000Z',
    stopReason: 'signal',
    events,
    lost: { total: 3, perCpu: [1, 2] },
    netns: [{ inode: 4026531840, name: null, source: 'self' }],
    ifaces: [{ netns: 4026531840, ifindex: 1, name: 'lo', mtu: 65536 }],
  };
}

export function sampleTables(): RecordingTables {
  return {
    kallsyms: {
      addr: BigUint64Array.of(0xffffffff81000000n, 0xffffffffc0a00000n),
      name: ['kfree_skb_reason', 'nft_do_chain'],
      module: [null, 'nf_tables'],
    },
    stacks: { id: Int32Array.of(0, 7), frames: [BigUint64Array.of(0xffffffff81000010n), BigUint64Array.of(1n, 2n, 3n)] },
  };
}

/**
 * n events starting at global event number `first`; comm indices cycle over `commCount`
 * known comms, of which `newComms` are introduced by this batch.
 */
export function syntheticBatch(first: number, n: number, commCount: number, newComms: string[] = []): EventColumns {
  const headerOffsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) headerOffsets[i + 1] = headerOffsets[i] + ((first + i) % 61);
  const headers = new Uint8Array(headerOffsets[n]);
  for (let i = 0; i < headers.length; i++) headers[i] = (first + i * 7) & 0xff;
  const col = <T extends { [k: number]: number | bigint }>(arr: T, f: (e: number) => number | bigint): T => {
    for (let i = 0; i < n; i++) arr[i] = f(first + i);
    return arr;
  };
  return {
    length: n,
    ts: col(new BigUint64Array(n), (e) => 1_000_000_000n + BigInt(e) * 1000n),
    skb: col(new BigUint64Array(n), (e) => 0xffff888000000000n + BigInt(e >> 2) * 256n),
    location: col(new BigUint64Array(n), (e) => (e % 5 === 0 ? 0xffffffff81000010n : 0n)),
    pid: col(new Uint32Array(n), (e) => e % 4000),
    netns: col(new Uint32Array(n), () => 4026531840),
    ifindex: col(new Uint32Array(n), (e) => e % 3),
    mark: col(new Uint32Array(n), (e) => e & 0xff),
    len: col(new Uint32Array(n), (e) => 60 + (e % 1400)),
    mtu: col(new Uint32Array(n), () => 1500),
    reason: col(new Uint32Array(n), (e) => (e % 5 === 0 ? 6 : 0)),
    stack_id: col(new Int32Array(n), (e) => (e % 3 === 0 ? -1 : 7)),
    probe: col(new Uint16Array(n), (e) => e % PROBE_NAMES.length),
    protocol: col(new Uint16Array(n), () => 0x0800),
    cpu: col(new Uint16Array(n), (e) => e % 2),
    net_off: col(new Uint16Array(n), () => 14),
    trans_off: col(new Uint16Array(n), (e) => (e % 7 === 0 ? 0xffff : 34)),
    has_mac: col(new Uint8Array(n), () => 1),
    pkt_type: col(new Uint8Array(n), (e) => e % 4),
    comm: col(new Int32Array(n), (e) => e % commCount),
    newComms,
    headers,
    headerOffsets,
  };
}
