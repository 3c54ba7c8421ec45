// The analyses added on top of show/drops/query, run as users run them (node bin/skbtrail.js)
// over the small scenario recording: pwru's output options, selections, paths, diff, latency,
// several recordings in one query, the SQL shell, and the one-line failures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ev, NS_A, SKB, eth, ipv4, tcpSyn, writeScenario, writeWithProbes } from './scenario.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/skbtrail.js');
const PCAP_ADDON = join(ROOT, 'packages/analyzer/native-pcap/build/Release/skbtrail_pcap.node');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function skbtrail(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: opts.input,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(...args: string[]): Record<string, unknown>[] {
  const r = skbtrail([...args, '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** The single `skbtrail: what — do` line of a failure, with its exit code. */
function failure(args: string[], opts: { env?: Record<string, string> } = {}): { code: number | null; line: string } {
  const r = skbtrail(args, opts);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^skbtrail: .+ — .+$/);
  return { code: r.code, line: lines[0] };
}

let dir: string;
let rec: string;
let single: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-commands-'));
  rec = join(dir, 'drop.skbtrail');
  writeScenario(rec);
  single = join(dir, 'single.skbtrail');
  const frame = [...eth(0x0800), ...ipv4([10, 0, 1, 1], [10, 0, 1, 2], 6, 20), ...tcpSyn(40000, 80)];
  const base = { comm: 0, pid: 1, cpu: 0, netns: NS_A, ifindex: 2, len: 74, mtu: 1500, protocol: 0x0800, hasMac: true, headers: frame };
  const events: Ev[] = [1n, 2n, 3n].map((n) => ({ ...base, ts: n * 1000n, probe: 'net_dev_queue', skb: 0xffff888000000100n * n }));
  writeWithProbes(single, [{ name: 'net_dev_queue', kind: 'tracepoint' }], [events], { stacks: false });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('skbtrail show, with pwru output options', () => {
  it('prints timestamps relative to the packet\'s previous event, or as recorded, or as wall-clock time', () => {
    const lines = skbtrail(['show', rec, '--packet', '0', '--timestamp', 'relative', '--no-output-meta']).stdout.trim().split('\n');
    expect(lines).toEqual([
      'SKB                CPU PROCESS          TIMESTAMP        TUPLE                        FUNC',
      '0xffff8b7f0331f800 1   ping:4242        0                10.0.1.1:0->10.0.1.2:0(icmp) net_dev_queue',
      '0xffff8b7f0331f800 1   ping:4242        100              10.0.1.1:0->10.0.1.2:0(icmp) net_dev_start_xmit',
      '0xffff8b7f0331f800 1   ping:4242        1900             10.0.1.1:0->10.0.1.2:0(icmp) netif_receive_skb',
      '0xffff8b7f0331f800 1   ping:4242        3000             10.0.1.1:0->10.0.1.2:0(icmp) kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
    ]);
    const current = skbtrail(['show', rec, '--limit', '1', '--timestamp', 'current', '--output-meta=false', '--output-tuple=false']).stdout;
    expect(current.split('\n')[1]).toBe('0xffff8b7f0331f800 1   ping:4242        5000000000       net_dev_queue');
    const absolute = skbtrail(['show', rec, '--limit', '1', '--timestamp', 'absolute', '--no-output-meta', '--no-output-tuple']).stdout;
    expect(absolute.split('\n')[1]).toBe('2025-11-23T12:13:25.000000000 0xffff8b7f0331f800 1   ping:4242        5000000000       net_dev_queue');
  });

  it('prints TCP flags, the kernel stack under an event, and the caller', () => {
    const syn = skbtrail(['show', rec, '--where', "proto = 'tcp'", '--limit', '1', '--output-tcp-flags']).stdout;
    expect(syn).toMatch(/10\.0\.1\.1:40000->10\.0\.1\.2:80\(tcp:SYN\) net_dev_queue/);
    const drop = skbtrail(['show', rec, '--where', "reason = 'NETFILTER_DROP'", '--limit', '1', '--output-stack', '--output-caller']).stdout.split('\n');
    expect(drop[0]).toMatch(/FUNC +CALLER$/);
    expect(drop[1]).toMatch(/kfree_skb\(SKB_DROP_REASON_NETFILTER_DROP\) nft_do_chain\+0x3e8$/);
    expect(drop.slice(2, 4)).toEqual(['kfree_skb_reason+0x5c', 'nft_do_chain+0x3e8']);
    const [row] = json('show', rec, '--where', "reason = 'NETFILTER_DROP'", '--limit', '1', '--output-stack', '--output-caller');
    expect(row).toMatchObject({ packet: 0, stack: ['kfree_skb_reason+0x5c', 'nft_do_chain+0x3e8'], caller: 'nft_do_chain+0x3e8' });
  });

  it('selects by packet and by namespace', () => {
    expect(json('show', rec, '--packet', '1', '--packet', '2').map((r) => [r.packet, r.func])).toEqual([
      [1, 'net_dev_queue'],
      [1, 'net_dev_start_xmit'],
      [1, 'netif_receive_skb'],
      [1, 'kfree_skb'],
      [2, 'net_dev_queue'],
      [2, 'netif_receive_skb'],
      [2, 'kfree_skb'],
    ]);
    expect(json('show', rec, '--netns', '4026531840').map((r) => r.func)).toEqual(['net_dev_queue', 'netif_receive_skb', 'consume_skb']);
    expect(json('show', rec, '--netns', 'b', '--where', 'len < 60').map((r) => r.func)).toEqual(['kfree_skb']);
  });

  it('says in one line what an option needs that the recording lacks', () => {
    const skbOut = failure(['show', rec, '--output-skb']);
    expect(skbOut.code).toBe(1);
    expect(skbOut.line).toMatch(/no raw sk_buff contents .*--output-skb/);
    const noStacks = failure(['show', single, '--output-stack']);
    expect(noStacks.code).toBe(1);
    expect(noStacks.line).toBe(
      'skbtrail: this recording has no kernel stacks (it was recorded without --output-stack) — record again with skbtrail record --output-stack',
    );
    expect(failure(['show', single, '--output-caller']).line).toMatch(/no caller information/);
  });

  it('asks for libpcap, or --where, when the pcap addon is not built', () => {
    const r = failure(['show', rec, 'tcp', 'port', '80'], { env: { SKBTRAIL_PCAP_ADDON: join(dir, 'none.node') } });
    expect(r.code).toBe(1);
    expect(r.line).toBe('skbtrail: pcap filters need libpcap (apt install libpcap-dev, then npm rebuild) — use --where "SQL" instead');
  });

  // npm install builds the addon where libpcap-dev is installed (scripts/install-system-deps): on CI it must be there.
  it.skipIf(!existsSync(PCAP_ADDON) && process.env.CI !== 'true')('filters events with a pcap-filter expression over their recorded headers (libpcap)', () => {
    expect(json('show', rec, 'tcp', 'and', 'dst', 'port', '80').map((r) => r.func)).toEqual(['net_dev_queue', 'netif_receive_skb', 'kfree_skb']);
    // IPv6 DNS over lo: its bytes start at the IP header, matched as raw IP
    expect(json('show', rec, 'ip6 and udp port 53').map((r) => r.func)).toEqual(['net_dev_queue', 'netif_receive_skb', 'consume_skb']);
    expect(json('show', rec, 'icmp[icmptype] = icmp-echo', '--limit', '2').map((r) => r.skb)).toEqual([String(SKB.echo1), String(SKB.echo1)]);
    const bad = failure(['show', rec, 'tcp and hostx']);
    expect(bad.line).toMatch(/^skbtrail: pcap filter "tcp and hostx": syntax error/);
  });
});

describe('fexit return values', () => {
  it('shows what the function returned on its fexit events, and NULL on every other probe', () => {
    const path = join(dir, 'fexit.skbtrail');
    const frame = [...eth(0x0800), ...ipv4([10, 0, 1, 1], [10, 0, 1, 2], 6, 20), ...tcpSyn(40000, 80)];
    const base = { comm: 0, pid: 1, cpu: 0, netns: NS_A, ifindex: 2, len: 60, mtu: 1500, protocol: 0x0800, hasMac: true, headers: frame, skb: 0xffff888000000100n };
    writeWithProbes(
      path,
      [
        { name: 'tcp_v4_rcv', kind: 'fentry' },
        { name: 'tcp_v4_rcv', kind: 'fexit' },
        { name: 'kfree_skb', kind: 'tracepoint' },
      ],
      [[
        { ...base, ts: 1000n, probe: 'tcp_v4_rcv:fentry' },
        { ...base, ts: 1500n, probe: 'tcp_v4_rcv:fexit', retval: -22n },
        { ...base, ts: 2000n, probe: 'kfree_skb', reason: 3 },
      ]],
      { stacks: false },
    );
    expect(json('query', path, 'SELECT func, kind, retval FROM events ORDER BY seq')).toEqual([
      { func: 'tcp_v4_rcv', kind: 'fentry', retval: null },
      { func: 'tcp_v4_rcv', kind: 'fexit', retval: -22 },
      { func: 'kfree_skb', kind: 'tracepoint', retval: null },
    ]);
    const lines = skbtrail(['show', path, '--no-output-meta', '--no-output-tuple']).stdout.trim().split('\n');
    expect(lines.slice(1).map((l) => l.split(/ {2,}/).pop())).toEqual(['tcp_v4_rcv', 'tcp_v4_rcv ret=-22', 'kfree_skb(SKB_DROP_REASON_NO_SOCKET)']);
  });
});

describe('skbtrail paths and diff', () => {
  it('counts the trajectories, most common or longest first', () => {
    const paths = json('paths', rec);
    expect(paths.map((p) => [p.packets, p.hops, p.trajectory])).toEqual([
      [2, 4, 'a/veth-a: net_dev_queue net_dev_start_xmit > b/veth-b: netif_receive_skb kfree_skb(NETFILTER_DROP)'],
      [1, 3, 'a/veth-a: net_dev_queue > b/veth-b: netif_receive_skb kfree_skb(NO_SOCKET)'],
      [1, 3, '4026531840/lo: net_dev_queue netif_receive_skb > 4026531840: consume_skb'],
    ]);
    const csv = skbtrail(['paths', rec, '--sort', 'length', '--format', 'csv']).stdout.split('\n');
    expect(csv[0]).toBe('path,packets,percent,hops,example_packet,trajectory');
    expect(csv[1]).toMatch(/^\d+,2,50,4,0,/);
  });

  it('prints one packet hop by hop, with the time between hops', () => {
    expect(json('paths', rec, '--packet', '2').map((h) => [h.hop, h.func, h.delta_ns, h.elapsed_ns, h.netns, h.len, h.dport])).toEqual([
      [0, 'net_dev_queue', null, 0, 'a', 74, 80],
      [1, 'netif_receive_skb', 1500, 1500, 'b', 60, 80],
      [2, 'kfree_skb', 2500, 4000, 'b', 40, 80],
    ]);
    const table = skbtrail(['paths', rec, '--packet', '2']).stdout;
    expect(table).toMatch(/^packet 2: skb 0xffff8b7f04400100, 3 hops, 4.00µs, from 2025-11-23T12:13:27Z/);
    expect(table).toMatch(/│ +2 │ +\+2\.50µs │ +4\.00µs │ kfree_skb\(SKB_DROP_REASON_NO_SOCKET\) at tcp_v4_rcv\+0x2c0 │ b\/veth-b │/);
  });

  it('diffs the two most common paths, or two packets, of one recording', () => {
    const rows = json('diff', rec);
    expect(rows.map((r) => `${r.op}${r.func}`)).toEqual([' net_dev_queue', '-net_dev_start_xmit', ' netif_receive_skb', '-kfree_skb', '+kfree_skb']);
    expect(rows[1].first_divergence).toBe(true);
    expect(rows.find((r) => r.op === '+')?.reason).toBe('NO_SOCKET');
    const text = skbtrail(['diff', rec, '--packet', '0', '--packet', '1']).stdout;
    expect(text).toMatch(/^--- a: packet 0 of .*\n\+\+\+ b: packet 1 of /);
    expect(text).toMatch(/= the two paths are the same hop for hop\n$/);
  });

  it('diffs the most common paths of two recordings', () => {
    const rows = json('diff', rec, single);
    // the scenario's most common path (the echo requests) against the single-probe recording's
    expect(rows.map((r) => `${r.op}${r.func}@${r.netns}`)).toEqual([' net_dev_queue@a', '-net_dev_start_xmit@a', '-netif_receive_skb@b', '-kfree_skb@b']);
  });
});

describe('skbtrail latency', () => {
  it('measures per packet from one probe to a later one, and per hop', () => {
    expect(json('latency', rec, '--from', 'net_dev_queue', '--to', 'netif_receive_skb', '--by', 'proto')).toEqual([
      { proto: 'icmp', count: 2, min_ns: 2000, p50_ns: 2000, p90_ns: 2000, p99_ns: 2000, max_ns: 2000 },
      { proto: 'tcp', count: 1, min_ns: 1500, p50_ns: 1500, p90_ns: 1500, p99_ns: 1500, max_ns: 1500 },
      { proto: 'udp', count: 1, min_ns: 900, p50_ns: 900, p90_ns: 900, p99_ns: 900, max_ns: 900 },
    ]);
    const hops = json('latency', rec);
    expect(hops[0]).toEqual({ from: 'netif_receive_skb', to: 'kfree_skb', count: 3, min_ns: 2500, p50_ns: 3000, p90_ns: 3000, p99_ns: 3000, max_ns: 3000 });
    const table = skbtrail(['latency', rec, '--from', 'net_dev_queue', '--to', 'kfree_skb']).stdout;
    expect(table).toMatch(/│ +3 │ +4\.00µs │ +5\.00µs │/);
    expect(table).toMatch(/net_dev_queue -> kfree_skb, per packet\n +range : count +distribution\n/);
  });

  it('fails in one line on a single-probe recording, an unknown probe, or half a span', () => {
    const one = failure(['latency', single]);
    expect(one.code).toBe(1);
    expect(one.line).toMatch(/^skbtrail: latency needs events from two probes, and this recording has one \(net_dev_queue\) — record with more probes/);
    const unknown = failure(['latency', rec, '--from', 'ip_rcv', '--to', 'kfree_skb']);
    expect(unknown.code).toBe(1);
    expect(unknown.line).toMatch(/^skbtrail: ip_rcv is not a probe of this recording \(it has kfree_skb, consume_skb, /);
    expect(failure(['latency', rec, '--from', 'net_dev_queue']).code).toBe(2);
    expect(failure(['latency', rec, '--by', 'colour']).code).toBe(2);
  });
});

describe('failures', () => {
  it('exit 1 for a packet that is not there, and for drops without a drop probe', () => {
    const missing = failure(['paths', rec, '--packet', '99']);
    expect(missing.code).toBe(1);
    expect(missing.line).toMatch(/^skbtrail: there is no packet 99 in this recording — /);
    expect(failure(['diff', rec, '--packet', '0', '--packet', '99']).code).toBe(1);
    const drops = failure(['drops', single]);
    expect(drops.code).toBe(1);
    expect(drops.line).toMatch(/^skbtrail: this recording has no probe that reports drops \(it has net_dev_queue\) — /);
  });

  it('exit 2 for usage mistakes', () => {
    expect(failure(['diff', rec, '--packet', '1']).code).toBe(2);
    expect(failure(['drops', rec, '--timeline', 'soon']).code).toBe(2);
    expect(failure(['show', rec, '--timestamp', 'later']).code).toBe(2);
  });
});

describe('skbtrail query over several recordings', () => {
  it('tells their rows apart with the recording column, and joins them', () => {
    expect(json('query', rec, single, 'SELECT recording, count(*) AS n FROM events GROUP BY ALL ORDER BY recording')).toEqual([
      { recording: rec, n: 14 },
      { recording: single, n: 3 },
    ]);
    const joined = json(
      'query',
      rec,
      single,
      `SELECT a.func AS a_func, b.func AS b_func FROM events a JOIN events b USING (saddr, daddr, sport, dport, proto)
       WHERE a.recording = '${rec}' AND b.recording = '${single}' AND a.hop = 0 ORDER BY b.ts`,
    );
    expect(joined).toEqual([
      { a_func: 'net_dev_queue', b_func: 'net_dev_queue' },
      { a_func: 'net_dev_queue', b_func: 'net_dev_queue' },
      { a_func: 'net_dev_queue', b_func: 'net_dev_queue' },
    ]);
  });
});

describe('skbtrail shell', () => {
  it('answers piped SQL and dot commands, and keeps going after an error', () => {
    const history = join(dir, 'history');
    const input = ['.tables', '.schema packets', 'SELECT count(*) AS n', '  FROM events;', '.mode csv', 'SELECT func FROM events WHERE packet = 2 ORDER BY hop;', 'SELEC 1;', '.mode xml', '.quit', 'SELECT 1;'].join('\n');
    const r = skbtrail(['shell', rec], { input, env: { SKBTRAIL_HISTORY: history } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^comms +events +events_raw +funcs +ifaces +kallsyms\nmeta +netns +packets +path_hops +paths +reasons\nstacks\n/);
    expect(r.stdout).toContain('CREATE VIEW packets(\n  packet UINTEGER,\n  skb UBIGINT,');
    expect(r.stdout).toMatch(/│ +n │\n├─+┤\n│ +14 │/);
    expect(r.stdout).toMatch(/func\nnet_dev_queue\nnetif_receive_skb\nkfree_skb\n$/);
    expect(r.stderr.trim().split('\n')).toEqual([
      'skbtrail: Parser Error: syntax error at or near "SELEC" — check the SQL against the views listed by skbtrail query FILE "SHOW TABLES"',
      'skbtrail: .mode xml: not a mode — use one of table, json, csv',
    ]);
    // piped input is not history
    expect(existsSync(history) ? readFileSync(history, 'utf8') : '').toBe('');
  });
});
