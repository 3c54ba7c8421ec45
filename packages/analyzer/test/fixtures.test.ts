// The committed recordings made by fixtures/scenarios/*.sh (tracepoint backend; 6.18 on the
// development host, netem-delay on Debian's 6.12 in the test/vm harness): the analyzer must give
// the exact answers a network engineer would check.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function json(...args: string[]): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/skbtrail.js'), ...args, '--format', 'json'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

const ICMP = join(ROOT, 'fixtures/icmp-nft-drop.skbtrail');
const UDP = join(ROOT, 'fixtures/udp-no-listener.skbtrail');
const ROUTER = join(ROOT, 'fixtures/router-drop.skbtrail');
const NETEM = join(ROOT, 'fixtures/netem-delay.skbtrail');
const KPROBES = join(ROOT, 'fixtures/vm-6.12-kprobe-multi-icmp-drop.skbtrail');

function text(...args: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/skbtrail.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const FORWARDED = 'a/veth-a: net_dev_queue net_dev_start_xmit > r/veth-ra: netif_rx net_dev_xmit netif_receive_skb > r/veth-rb: net_dev_queue net_dev_start_xmit > b/veth-b: netif_rx net_dev_xmit netif_receive_skb';
const REPLIED = 'b/veth-b: net_dev_queue net_dev_start_xmit > r/veth-rb: netif_rx net_dev_xmit netif_receive_skb > r/veth-ra: net_dev_queue net_dev_start_xmit > a/veth-a: netif_rx net_dev_xmit netif_receive_skb';

describe('fixture: three pings from netns a dropped by nftables in netns b', () => {
  it('drops: NETFILTER_DROP x3 at nft_do_chain on veth-b in b', () => {
    const rows = json('drops', ICMP).filter((r) => r.reason === 'NETFILTER_DROP');
    expect(rows).toEqual([expect.objectContaining({ reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x46f', netns: 'b', ifname: 'veth-b', count: 3 })]);
  });

  it('show: each dropped echo request leaves veth-a in a and dies in b after netif_receive_skb', () => {
    const events = json('show', ICMP).filter((e) => e.proto === 'icmp');
    const drops = events.filter((e) => e.reason === 'NETFILTER_DROP');
    expect(drops).toHaveLength(3);
    const trail = events.filter((e) => e.skb === drops[0].skb && (e.ts as number) <= (drops[0].ts as number));
    const path = trail.slice(-6).map((e) => `${e.func}@${e.netns_name}/${e.ifname}`);
    expect(path).toEqual([
      'net_dev_queue@a/veth-a',
      'net_dev_start_xmit@a/veth-a',
      'netif_rx@b/veth-b',
      'net_dev_xmit@b/veth-b',
      'netif_receive_skb@b/veth-b',
      'kfree_skb@b/veth-b',
    ]);
    for (const e of trail.slice(-6)) expect(e).toMatchObject({ saddr: '10.240.0.1', daddr: '10.240.0.2', proto: 'icmp' });
  });

  it('info: a complete recording from the tracepoint backend with no lost events', () => {
    expect(json('info', ICMP)).toEqual([expect.objectContaining({ complete: true, backend: 'tracepoint', events: 160, lost: 0, kernel: '6.18.44-fc-v782' })]);
  });

  it('paths: the echo requests all went a > b and died at netif_receive_skb; one ping skb was consumed in a', () => {
    expect(json('paths', ICMP, '--where', "proto = 'icmp'")).toEqual([
      {
        path: 31,
        packets: 3,
        percent: 75,
        hops: 6,
        example_packet: 50,
        trajectory: 'a/veth-a: net_dev_queue net_dev_start_xmit > b/veth-b: netif_rx net_dev_xmit netif_receive_skb kfree_skb(NETFILTER_DROP)',
      },
      { path: 23, packets: 1, percent: 25, hops: 1, example_packet: 47, trajectory: 'a/veth-a: consume_skb' },
    ]);
  });

  it('diff: a neighbour solicitation and an echo request part after netif_receive_skb in b', () => {
    const rows = json('diff', ICMP, '--packet', '46', '--packet', '50');
    expect(rows.map((r) => `${r.op}${r.func}${r.reason ? `(${r.reason})` : ''}@${r.netns}/${r.ifname}`)).toEqual([
      ' net_dev_queue@a/veth-a',
      ' net_dev_start_xmit@a/veth-a',
      ' netif_rx@b/veth-b',
      ' net_dev_xmit@b/veth-b',
      ' netif_receive_skb@b/veth-b',
      '-consume_skb@b/veth-b',
      '+kfree_skb(NETFILTER_DROP)@b/veth-b',
    ]);
    expect(rows.findIndex((r) => r.first_divergence)).toBe(5);
  });

  it('latency: the per-hop table, hop by hop, with exact percentiles', () => {
    expect(json('latency', ICMP).slice(0, 3)).toEqual([
      { from: 'skb_copy_datagram_iovec', to: 'consume_skb', count: 23, min_ns: 1172, p50_ns: 10911, p90_ns: 61888, p99_ns: 97396, max_ns: 97396 },
      { from: 'net_dev_queue', to: 'net_dev_start_xmit', count: 11, min_ns: 1884, p50_ns: 6984, p90_ns: 40598, p99_ns: 121902, max_ns: 121902 },
      { from: 'net_dev_start_xmit', to: 'netif_rx', count: 11, min_ns: 1693, p50_ns: 5751, p90_ns: 7774, p99_ns: 9328, max_ns: 9328 },
    ]);
  });

  it('query: the echo requests were sent by ping from netns a', () => {
    const rows = json('query', ICMP, "SELECT comm, netns_name, count(*) AS n FROM events WHERE func = 'net_dev_queue' AND proto = 'icmp' GROUP BY ALL");
    expect(rows).toEqual([{ comm: 'ping', netns_name: 'a', n: 3 }]);
  });
});

describe('fixture: UDP to a port nobody listens on', () => {
  it('drops: NO_SOCKET x3 in __udp4_lib_rcv on veth-b in b', () => {
    const rows = json('drops', UDP).filter((r) => r.reason === 'NO_SOCKET');
    expect(rows).toEqual([expect.objectContaining({ location: '__udp4_lib_rcv+0x4bc', netns: 'b', ifname: 'veth-b', count: 3 })]);
  });

  it('query: the dropped datagrams are 10.240.0.1 -> 10.240.0.2:9999', () => {
    const rows = json('query', UDP, "SELECT saddr, daddr, dport, proto, count(*) AS n FROM events WHERE reason = 'NO_SOCKET' GROUP BY ALL");
    expect(rows).toEqual([{ saddr: '10.240.0.1', daddr: '10.240.0.2', dport: 9999, proto: 'udp', n: 3 }]);
  });
});

describe('fixture: a router namespace forwards pings, drops UDP to 7777, NATs UDP to 8888', () => {
  it('paths: forwarded pings and replies, the dropped datagrams, the NATed one, most common first', () => {
    expect(json('paths', ROUTER)).toEqual([
      { path: 16, packets: 2, percent: 18.2, hops: 11, example_packet: 1, trajectory: `${FORWARDED} consume_skb` },
      { path: 23, packets: 2, percent: 18.2, hops: 11, example_packet: 2, trajectory: `${REPLIED} kfree_skb(NO_SOCKET)` },
      {
        path: 26,
        packets: 2,
        percent: 18.2,
        hops: 6,
        example_packet: 7,
        trajectory: 'a/veth-a: net_dev_queue net_dev_start_xmit > r/veth-ra: netif_rx net_dev_xmit netif_receive_skb kfree_skb(NETFILTER_DROP)',
      },
      { path: 25, packets: 2, percent: 18.2, hops: 2, example_packet: 3, trajectory: 'a: skb_copy_datagram_iovec consume_skb' },
      { path: 27, packets: 1, percent: 9.1, hops: 11, example_packet: 9, trajectory: `${FORWARDED} kfree_skb(NO_SOCKET)` },
      { path: 28, packets: 1, percent: 9.1, hops: 11, example_packet: 10, trajectory: `${REPLIED} consume_skb` },
      { path: 1, packets: 1, percent: 9.1, hops: 1, example_packet: 0, trajectory: '?: consume_skb' },
    ]);
    expect(json('paths', ROUTER, '--sort', 'length', '--limit', '1')[0]).toMatchObject({ path: 16, hops: 11 });
  });

  it('diff: a forwarded echo request and a dropped datagram part in r, after netif_receive_skb', () => {
    const rows = json('diff', ROUTER, '--match', "netns_name = 'a' AND func = 'net_dev_queue'");
    expect(rows.map((r) => [r.op, r.a_hop, r.b_hop, r.func, r.reason, `${r.netns}/${r.ifname}`, r.first_divergence])).toEqual([
      [' ', 0, 0, 'net_dev_queue', null, 'a/veth-a', false],
      [' ', 1, 1, 'net_dev_start_xmit', null, 'a/veth-a', false],
      [' ', 2, 2, 'netif_rx', null, 'r/veth-ra', false],
      [' ', 3, 3, 'net_dev_xmit', null, 'r/veth-ra', false],
      [' ', 4, 4, 'netif_receive_skb', null, 'r/veth-ra', false],
      ['-', 5, null, 'net_dev_queue', null, 'r/veth-rb', true],
      ['-', 6, null, 'net_dev_start_xmit', null, 'r/veth-rb', false],
      ['-', 7, null, 'netif_rx', null, 'b/veth-b', false],
      ['-', 8, null, 'net_dev_xmit', null, 'b/veth-b', false],
      ['-', 9, null, 'netif_receive_skb', null, 'b/veth-b', false],
      ['-', 10, null, 'consume_skb', null, 'b/veth-b', false],
      ['+', null, 5, 'kfree_skb', 'NETFILTER_DROP', 'r/veth-ra', false],
    ]);
    expect(rows[0].changes).toBe('a|b: len 98 | 49, tuple 10.241.1.1:0->10.241.2.1:0(icmp) | 10.241.1.1:54248->10.241.2.1:7777(udp)');
    expect(rows[2].changes).toBe('a: netns a→r, ifname veth-a→veth-ra, len 98→84; b: netns a→r, ifname veth-a→veth-ra, len 49→35');
  });

  it('diff: the NATed datagram changes tuple and mark in r (prerouting), and dies in b with no socket', () => {
    const rows = json('diff', ROUTER, '--packet', '1', '--packet', '9');
    expect(rows[5]).toMatchObject({
      op: ' ',
      func: 'net_dev_queue',
      netns: 'r',
      ifname: 'veth-rb',
      changes:
        'a: ifname veth-ra→veth-rb, len 84→98; ' +
        'b: ifname veth-ra→veth-rb, len 32→46, mark 0x0→0x2a, tuple 10.241.1.1:41702->10.241.1.254:8888(udp)→10.241.1.1:41702->10.241.2.1:9999(udp); ' +
        'a|b: len 98 | 46, mark 0x0 | 0x2a, tuple 10.241.1.1:0->10.241.2.1:0(icmp) | 10.241.1.1:41702->10.241.2.1:9999(udp)',
    });
    expect(rows.slice(-2).map((r) => [r.op, r.func, r.reason])).toEqual([
      ['-', 'consume_skb', null],
      ['+', 'kfree_skb', 'NO_SOCKET'],
    ]);
    const unified = text('diff', ROUTER, '--packet', '1', '--packet', '9').split('\n');
    expect(unified[0]).toBe('--- a: packet 1 of ' + ROUTER + ', 11 hops, 10.241.1.1:0->10.241.2.1:0(icmp)');
    expect(unified).toContain('! first divergence after netif_receive_skb at b/veth-b (a hop 9, b hop 9)');
  });

  it('drops: by reason and where, by probe and tuple, and per 100 ms', () => {
    expect(json('drops', ROUTER)).toEqual([
      { reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x46f', netns: 'r', ifname: 'veth-ra', count: 2, first: '2026-11-24T01:17:57.655565221Z', last: '2026-11-24T01:17:57.78450411Z' },
      { reason: 'NO_SOCKET', location: 'ping_rcv+0xb3', netns: 'a', ifname: 'veth-a', count: 2, first: '2026-11-24T01:17:57.438857862Z', last: '2026-11-24T01:17:57.641888844Z' },
      { reason: 'NO_SOCKET', location: '__udp4_lib_rcv+0x4bc', netns: 'b', ifname: 'veth-b', count: 1, first: '2026-11-24T01:17:57.908387378Z', last: '2026-11-24T01:17:57.908387378Z' },
    ]);
    expect(json('drops', ROUTER, '--by', 'probe,tuple', '--where', "proto = 'udp'").map((r) => [r.func, r.dport, r.count])).toEqual([
      ['kfree_skb', 9999, 1],
      ['kfree_skb', 7777, 1],
      ['kfree_skb', 7777, 1],
    ]);
    expect(json('drops', ROUTER, '--timeline', '100ms')).toEqual([
      { time: '2026-11-24T01:17:57.438857862Z', count: 1 },
      { time: '2026-11-24T01:17:57.638857862Z', count: 2 },
      { time: '2026-11-24T01:17:57.738857862Z', count: 1 },
      { time: '2026-11-24T01:17:57.838857862Z', count: 1 },
    ]);
  });

  it('latency: from leaving a veth to arriving on its peer, by the namespace it left', () => {
    expect(json('latency', ROUTER, '--from', 'net_dev_queue', '--to', 'netif_receive_skb', '--by', 'netns')).toEqual([
      { netns: 'a', count: 5, min_ns: 56217, p50_ns: 60746, p90_ns: 101393, p99_ns: 101393, max_ns: 101393 },
      { netns: 'b', count: 3, min_ns: 16542, p50_ns: 16682, p90_ns: 17373, p99_ns: 17373, max_ns: 17373 },
    ]);
  });
});

describe('fixture (Debian 6.12 VM): pings through netem qdiscs delaying 20 ms each way', () => {
  it('latency: net_dev_queue to netif_receive_skb takes ~20 ms for every packet', () => {
    expect(json('latency', NETEM, '--from', 'net_dev_queue', '--to', 'netif_receive_skb')).toEqual([
      { count: 6, min_ns: 20442303, p50_ns: 20765110, p90_ns: 25089691, p99_ns: 25089691, max_ns: 25089691 },
    ]);
    const table = text('latency', NETEM, '--from', 'net_dev_queue', '--to', 'netif_receive_skb');
    expect(table).toMatch(/│ +6 │ 20\.4ms │ 20\.8ms │ 25\.1ms │ 25\.1ms │ 25\.1ms │/);
    expect(table).toMatch(/16\.8ms -> 21\.0ms : +4 +\|\*{40}\|\n21\.0ms -> 25\.2ms : +2 +\|\*{20} {20}\|/);
  });

  it('latency per hop: the 20 ms sit between qdisc_enqueue and qdisc_dequeue', () => {
    const hops = json('latency', NETEM);
    expect(hops.find((h) => h.from === 'qdisc_enqueue')).toEqual({
      from: 'qdisc_enqueue',
      to: 'qdisc_dequeue',
      count: 6,
      min_ns: 20131719,
      p50_ns: 20200671,
      p90_ns: 21066627,
      p99_ns: 21066627,
      max_ns: 21066627,
    });
    for (const h of hops.filter((x) => x.from !== 'qdisc_enqueue')) expect(h.p50_ns as number).toBeLessThan(1_000_000);
  });

  it('paths: echo requests a > b through the qdisc, replies b > a through the other', () => {
    expect(json('paths', NETEM).map((p) => [p.packets, p.trajectory])).toEqual([
      [3, 'a/veth-a: net_dev_queue qdisc_enqueue qdisc_dequeue net_dev_start_xmit > b/veth-b: netif_rx net_dev_xmit netif_receive_skb consume_skb'],
      [3, 'b/veth-b: net_dev_queue qdisc_enqueue qdisc_dequeue net_dev_start_xmit > a/veth-a: netif_rx net_dev_xmit netif_receive_skb kfree_skb(NO_SOCKET)'],
      [3, 'a: skb_copy_datagram_iovec consume_skb'],
    ]);
  });

  it('percentiles are what DuckDB quantile_disc gives', () => {
    const mine = json('latency', NETEM);
    const duck = json(
      'query',
      NETEM,
      `SELECT prev_func AS "from", func AS "to", quantile_disc(ts - prev_ts, [0.5, 0.9, 0.99]) AS q FROM events WHERE hop > 0 GROUP BY ALL`,
    );
    for (const d of duck) {
      const m = mine.find((r) => r.from === d.from && r.to === d.to);
      expect([m?.p50_ns, m?.p90_ns, m?.p99_ns]).toEqual((d.q as string[]).map(Number));
    }
  });
});

describe.skipIf(!existsSync(KPROBES))('fixture (Debian 6.12 VM, kprobe-multi on every skb function): pings, some dropped', () => {
  it('keeps each free and the functions that release the skb in the packet that was freed', () => {
    const packets = json('query', KPROBES, `SELECT k.fate, k.reason, p.trajectory FROM packets k JOIN paths p USING (path) ORDER BY k.packet`);
    // no packet is just the tail of another's free
    for (const p of packets) expect(p.trajectory as string).not.toMatch(/^[^:]*: (skb_release_head_state|skb_release_data|skb_free_head|kfree_skbmem)\b/);
    const dropped = packets.filter((p) => p.fate === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    for (const p of dropped) {
      expect(p.trajectory as string).toMatch(
        // skb_free_head only when no clone shares the data (the raw socket's copy of a ping reply does)
        new RegExp(`sk_skb_reason_drop kfree_skb\\(${p.reason}\\) skb_release_head_state skb_release_data( skb_free_head)? kfree_skbmem$`),
      );
    }
  });
});
