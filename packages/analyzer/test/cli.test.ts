// The analyzer's CLI, run as users run it (node bin/skbtrail.js against the built dist), over a
// small recording written with the format package: an ICMP echo from netns a (10.0.1.1) to
// netns b (10.0.1.2) that nftables drops in b, a TCP SYN refused in b, and IPv6 DNS over lo.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DROP_REASONS, NS_A, NS_B, writeScenario } from './scenario.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/skbtrail.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function skbtrail(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(...args: string[]): unknown {
  const r = skbtrail(...args, '--format', 'json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

let dir: string;
let rec: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'packages/analyzer/dist/cli.js'))) throw new Error('build first: npx tsc -b packages/format packages/analyzer');
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-analyzer-'));
  rec = join(dir, 'drop.skbtrail');
  writeScenario(rec);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('skbtrail drops', () => {
  it('reports the echo requests dropped by nftables in netns b, and the refused SYN', () => {
    const netfilterDrop = DROP_REASONS.find((r) => r.name === 'NETFILTER_DROP');
    expect(netfilterDrop?.value).toBe(12);
    expect(json('drops', rec)).toEqual([
      {
        reason: 'NETFILTER_DROP',
        location: 'nft_do_chain+0x3e8',
        netns: 'b',
        ifname: 'veth-b',
        count: 2,
        first: '2025-11-23T12:13:25.000005Z',
        last: '2025-11-23T12:13:26.000005Z',
      },
      {
        reason: 'NO_SOCKET',
        location: 'tcp_v4_rcv+0x2c0',
        netns: 'b',
        ifname: 'veth-b',
        count: 1,
        first: '2025-11-23T12:13:27.000004Z',
        last: '2025-11-23T12:13:27.000004Z',
      },
    ]);
  });

  it('prints a table by default and CSV on request', () => {
    const table = skbtrail('drops', rec);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ NETFILTER_DROP │ nft_do_chain\+0x3e8 │ b +│ veth-b │ +2 │/);
    const csv = skbtrail('drops', rec, '--format', 'csv');
    expect(csv.stdout.split('\n').slice(0, 2)).toEqual([
      'reason,location,netns,ifname,count,first,last',
      'NETFILTER_DROP,nft_do_chain+0x3e8,b,veth-b,2,2025-11-23T12:13:25.000005Z,2025-11-23T12:13:26.000005Z',
    ]);
  });
});

describe('skbtrail show', () => {
  it('replays the events in time order in pwru columns, with netns and interface names', () => {
    const r = skbtrail('show', rec);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'SKB                CPU PROCESS          NETNS      MARK/x IFACE    PROTO  MTU   LEN   TUPLE                             FUNC',
      '0xffff8b7f0331f800 1   ping:4242        a          0      veth-a:2 0x0800 1500  98    10.0.1.1:0->10.0.1.2:0(icmp)      net_dev_queue',
      '0xffff8b7f0331f800 1   ping:4242        a          0      veth-a:2 0x0800 1500  98    10.0.1.1:0->10.0.1.2:0(icmp)      net_dev_start_xmit',
      '0xffff8b7f0331f800 1   ping:4242        b          2a     veth-b:2 0x0800 1500  84    10.0.1.1:0->10.0.1.2:0(icmp)      netif_receive_skb',
      '0xffff8b7f0331f800 1   ping:4242        b          2a     veth-b:2 0x0800 1500  84    10.0.1.1:0->10.0.1.2:0(icmp)      kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
      '0xffff8b7f0331fa00 1   ping:4242        a          0      veth-a:2 0x0800 1500  98    10.0.1.1:0->10.0.1.2:0(icmp)      net_dev_queue',
      '0xffff8b7f0331fa00 1   ping:4242        a          0      veth-a:2 0x0800 1500  98    10.0.1.1:0->10.0.1.2:0(icmp)      net_dev_start_xmit',
      '0xffff8b7f0331fa00 1   ping:4242        b          2a     veth-b:2 0x0800 1500  84    10.0.1.1:0->10.0.1.2:0(icmp)      netif_receive_skb',
      '0xffff8b7f0331fa00 1   ping:4242        b          2a     veth-b:2 0x0800 1500  84    10.0.1.1:0->10.0.1.2:0(icmp)      kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
      '0xffff8b7f04400100 0   curl:5151        a          0      veth-a:2 0x0800 1500  74    10.0.1.1:40000->10.0.1.2:80(tcp)  net_dev_queue',
      '0xffff8b7f04400100 0   curl:5151        b          0      veth-b:2 0x0800 1500  60    10.0.1.1:40000->10.0.1.2:80(tcp)  netif_receive_skb',
      '0xffff8b7f04400100 0   curl:5151        b          0      veth-b:2 0x0800 1500  40    10.0.1.1:40000->10.0.1.2:80(tcp)  kfree_skb(SKB_DROP_REASON_NO_SOCKET)',
      '0xffff8b7f05500200 0   dig:777          4026531840 0      lo:1     0x86dd 65536 80    [fd00::1]:5353->[fd00::2]:53(udp) net_dev_queue',
      '0xffff8b7f05500200 0   dig:777          4026531840 0      lo:1     0x86dd 65536 80    [fd00::1]:5353->[fd00::2]:53(udp) netif_receive_skb',
      '0xffff8b7f05500200 0   dig:777          4026531840 0      0        0x86dd 65536 40    [fd00::1]:5353->[fd00::2]:53(udp) consume_skb',
      '',
    ]);
  });

  it('prints the first events with --limit, and the matching ones with --where', () => {
    const limited = skbtrail('show', rec, '--limit', '2').stdout.trim().split('\n');
    expect(limited).toHaveLength(3);
    expect(limited[2]).toMatch(/net_dev_start_xmit$/);
    const drops = skbtrail('show', rec, '--where', "netns_name = 'b' AND reason IS NOT NULL", '--limit', '5').stdout.trim().split('\n');
    expect(drops.slice(1).map((l) => l.split(/\s+/).pop())).toEqual([
      'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
      'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)',
      'kfree_skb(SKB_DROP_REASON_NO_SOCKET)',
    ]);
  });

  it('gives row objects named like the events view in JSON', () => {
    const rows = json('show', rec, '--where', "func = 'kfree_skb'", '--limit', '1') as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        ts: 5000005000,
        time: '2025-11-23T12:13:25.000005Z',
        skb: '18446615976363554816',
        cpu: 1,
        comm: 'ping',
        pid: 4242,
        netns: NS_B,
        netns_name: 'b',
        mark: 42,
        ifindex: 2,
        ifname: 'veth-b',
        ethertype: 0x0800,
        mtu: 1500,
        len: 84,
        proto: 'icmp',
        family: 4,
        saddr: '10.0.1.1',
        sport: null,
        daddr: '10.0.1.2',
        dport: null,
        func: 'kfree_skb',
        reason: 'NETFILTER_DROP',
        retval: null,
        packet: 0,
      },
    ]);
    // Without --limit the same rows come from one plain query.
    const all = json('show', rec, '--where', "func = 'kfree_skb'") as Record<string, unknown>[];
    expect(all[0]).toEqual(rows[0]);
    expect(all).toHaveLength(3);
  });
});

describe('skbtrail query', () => {
  it('answers SQL over the events view', () => {
    const rows = json(
      'query',
      rec,
      `SELECT func, kind, comm, netns_name, ifname, proto, family, saddr, daddr, sport, dport, icmp_type, tcp_flags, reason, location, stack_id
       FROM events WHERE skb = 18446615976363554816 OR proto = 'udp' ORDER BY ts, seq`,
    );
    const common = { kind: 'tracepoint', icmp_type: 8, tcp_flags: null, sport: null, dport: null, proto: 'icmp', family: 4 };
    const echo = { ...common, comm: 'ping', saddr: '10.0.1.1', daddr: '10.0.1.2' };
    const dns = { kind: 'tracepoint', comm: 'dig', netns_name: null, proto: 'udp', family: 6, saddr: 'fd00::1', daddr: 'fd00::2' };
    const dnsL4 = { sport: 5353, dport: 53, icmp_type: null, tcp_flags: null, reason: null, stack_id: null };
    expect(rows).toEqual([
      { ...echo, func: 'net_dev_queue', netns_name: 'a', ifname: 'veth-a', reason: null, location: null, stack_id: null },
      { ...echo, func: 'net_dev_start_xmit', netns_name: 'a', ifname: 'veth-a', reason: null, location: null, stack_id: null },
      { ...echo, func: 'netif_receive_skb', netns_name: 'b', ifname: 'veth-b', reason: null, location: null, stack_id: null },
      { ...echo, func: 'kfree_skb', netns_name: 'b', ifname: 'veth-b', reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x3e8', stack_id: 0 },
      { ...dns, ...dnsL4, func: 'net_dev_queue', ifname: 'lo', location: null },
      { ...dns, ...dnsL4, func: 'netif_receive_skb', ifname: 'lo', location: null },
      // consume_skb is not a drop: a location but no reason
      { ...dns, ...dnsL4, func: 'consume_skb', ifname: null, location: 'skb_free_datagram+0x18' },
    ]);
  });

  it('symbolizes stacks and serves the recording metadata', () => {
    expect(json('query', rec, 'SELECT stack_id, depth, symbol FROM stacks ORDER BY stack_id, depth')).toEqual([
      { stack_id: 0, depth: 0, symbol: 'kfree_skb_reason+0x5c' },
      { stack_id: 0, depth: 1, symbol: 'nft_do_chain+0x3e8' },
    ]);
    expect(json('query', rec, "SELECT value FROM meta WHERE key IN ('hostname', 'backend') ORDER BY key")).toEqual([
      { value: 'tracepoint' },
      { value: 'lab1' },
    ]);
    expect(json('query', rec, 'SELECT inode, name FROM netns ORDER BY inode')).toEqual([
      { inode: 4026531840, name: null },
      { inode: NS_A, name: 'a' },
      { inode: NS_B, name: 'b' },
    ]);
  });

  it('follows one packet by skb across namespaces', () => {
    const rows = json('query', rec, `SELECT string_agg(netns_name || '/' || func, ' > ' ORDER BY ts) AS path FROM events WHERE skb = 18446615976363554816`);
    expect(rows).toEqual([{ path: 'a/net_dev_queue > a/net_dev_start_xmit > b/netif_receive_skb > b/kfree_skb' }]);
  });
});

describe('skbtrail info', () => {
  it('describes the recording', () => {
    const [info] = json('info', rec) as Record<string, unknown>[];
    expect(info).toEqual({
      file: rec,
      format_version: '1.1',
      complete: true,
      host: 'lab1',
      kernel: '6.18.0-test',
      machine: 'x86_64',
      backend: 'tracepoint',
      backend_reason: 'kprobes unavailable (CONFIG_KPROBES off)',
      recorder_version: '0.1.0',
      command: 'skbtrail record -w drop.skbtrail',
      probes: expect.stringMatching(/^kfree_skb, consume_skb, .*, udp_fail_queue_rcv_skb$/),
      snaplen: 128,
      started: '2025-11-23T12:13:25.000Z',
      stopped: '2025-11-23T12:13:30.500Z',
      duration_s: 5.5,
      stop_reason: 'signal',
      first_event: '2025-11-23T12:13:25Z',
      last_event: '2025-11-23T12:13:28.000003Z',
      events: 14,
      lost: 0,
      warnings: null,
      file_size: statSync(rec).size,
      bytes_per_event: Math.round((statSync(rec).size / 14) * 10) / 10,
    });
  });
});

describe('damaged and lossy recordings', () => {
  it('analyzes the complete batches of a truncated recording and warns once', () => {
    const cut = join(dir, 'cut.skbtrail');
    copyFileSync(rec, cut);
    truncateSync(cut, statSync(rec).size - 200);
    const r = skbtrail('drops', cut, '--format', 'json');
    expect(r.code).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^skbtrail: warning: recording was not closed cleanly/);
    expect((JSON.parse(r.stdout) as { count: number }[]).map((d) => d.count)).toEqual([2, 1]);
  });

  it('warns that counts may be short when the recorder lost events', () => {
    const lossy = join(dir, 'lossy.skbtrail');
    writeScenario(lossy, { lost: 3 });
    const r = skbtrail('drops', lossy);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('skbtrail: warning: the recorder lost 3 events (ring buffer full): counts may be short\n');
  });
});

describe('bad input', () => {
  const oneLine = (r: Run) => {
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^skbtrail: .+ — .+$/);
    return lines[0];
  };

  it('exits 1 with one line for a missing file', () => {
    const r = skbtrail('drops', join(dir, 'nope.skbtrail'));
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(`skbtrail: ${join(dir, 'nope.skbtrail')}: no such file — check the path`);
  });

  it('exits 1 for a file that is not a recording', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const r = skbtrail('info', text);
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(/not an skbtrail recording .* — pass a file written by skbtrail record$/);
  });

  it("exits 1 with DuckDB's first message line for bad SQL", () => {
    const r = skbtrail('query', rec, 'SELEC 1');
    expect(r.code).toBe(1);
    expect(oneLine(r)).toMatch(/^skbtrail: Parser Error: syntax error at or near "SELEC" — /);
    const unknown = skbtrail('query', rec, 'SELECT * FROM nope');
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown)).toMatch(/^skbtrail: Catalog Error: Table with name nope does not exist! — /);
  });

  it('exits 2 for usage errors: unknown flag, bad --format, missing argument, unknown command', () => {
    const cases: [string[], RegExp][] = [
      [['drops', rec, '--bogus'], /unknown option '--bogus' — see skbtrail drops --help/],
      [['drops', rec, '--format', 'xml'], /'xml' is invalid.*table, json, csv.* — see skbtrail drops --help/],
      [['query', rec], /missing required argument 'sql'/],
      [['show', rec, '--limit', 'many'], /--limit.*expected a whole number/],
      [['frobnicate', rec], /unknown command 'frobnicate' — see skbtrail --help/],
    ];
    for (const [args, message] of cases) {
      const r = skbtrail(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneLine(r)).toMatch(message);
    }
  });

  it('lists every command in skbtrail --help, recording included', () => {
    const r = skbtrail('--help');
    expect(r.code).toBe(0);
    for (const command of ['info', 'drops', 'show', 'paths', 'diff', 'latency', 'query', 'shell']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(r.stdout).toMatch(/skbtrail record \[options\] \[pcap-filter\.\.\.\] \(see skbtrail record --help\)/);
  });

  it('prints a stack trace only with --debug', () => {
    expect(skbtrail('query', rec, 'SELEC 1').stderr).not.toMatch(/\n\s+at /);
    expect(skbtrail('query', rec, 'SELEC 1', '--debug').stderr).toMatch(/\n\s+at /);
  });

  it('stops quietly with exit 0 when the reader of its output goes away', () => {
    const big = join(dir, 'big.skbtrail');
    spawnSync(process.execPath, [join(ROOT, 'bench/synth.mjs'), big, '20000']);
    const err = join(dir, 'epipe.err');
    const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" show "${big}" 2>"${err}" | head -1; echo "exit \${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
    });
    const [first, status] = piped.stdout.trim().split('\n');
    expect(first).toMatch(/^SKB +CPU PROCESS/);
    expect(status).toBe('exit 0');
    expect(statSync(err).size).toBe(0);
  });
});
