/**
 * The user's story with a pcap-filter, on the real kernel: ping, a TCP exchange and UDP to
 * two ports cross a veth pair between two namespaces while `skbtrail record 'udp and dst
 * port 5555'` runs. The recording holds the datagrams to port 5555, seen leaving netns a
 * and arriving in netns b, and nothing else. Root only; on CI these must run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { openRecording } from '@skbtrail/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlab, cli, liveSkipReason, startRecorder } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live pcap-filter tests: ${skip}`);

const ADDR_A = '10.243.0.1';
const ADDR_B = '10.243.0.2';
const SPORTS = [40001, 40002, 40003, 40004, 40005];

interface Row { func: string; netns_name: string | null; proto: string | null; saddr: string | null; daddr: string | null; sport: number | null; dport: number | null }

// Listeners in netns b: TCP 8080 (echoes) and UDP 5555; prints "ready" once both listen.
const SERVER = `
const net = require('node:net'), dgram = require('node:dgram');
const tcp = net.createServer((s) => s.pipe(s));
const udp = dgram.createSocket('udp4');
let up = 0; const ready = () => { if (++up === 2) console.log('ready'); };
tcp.listen(8080, '${ADDR_B}', ready);
udp.bind(5555, '${ADDR_B}', ready);`;

// In netns a: a TCP exchange, five datagrams to 5555 (one per source port) and two to 5556.
const CLIENT = `
const net = require('node:net'), dgram = require('node:dgram');
const send = (sport, dport) => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  s.bind(sport, '${ADDR_A}', () => s.send('datagram from ' + sport, dport, '${ADDR_B}', (err) => { s.close(); err ? reject(err) : resolve(); }));
});
(async () => {
  await new Promise((resolve, reject) => {
    const c = net.connect(8080, '${ADDR_B}', () => c.end('hello over tcp'));
    c.on('data', () => {}); c.on('close', resolve); c.on('error', reject);
  });
  for (const sport of ${JSON.stringify(SPORTS)}) await send(sport, 5555);
  await send(41001, 5556); await send(41002, 5556);
})().catch((err) => { console.error(err); process.exit(1); });`;

describe.skipIf(skip)('recording with a pcap-filter', () => {
  const lab = new Netlab();
  let a = '';
  let b = '';
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    a = lab.ns('a');
    b = lab.ns('b');
    lab.veth(a, ADDR_A, b, ADDR_B, ['veth-fa', 'veth-fb']);
    server = spawn('ip', ['netns', 'exec', b, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      server!.on('exit', (code) => reject(new Error(`listener in ${b} exited (${code})`)));
    });
  });
  afterAll(() => {
    server?.kill('SIGKILL');
    lab.destroy();
  });

  it("records only the datagrams to port 5555, each seen leaving a and arriving in b", async () => {
    const expression = 'udp and dst port 5555';
    const file = path.join(lab.dir, 'udp5555.skbtrail');
    const rec = await startRecorder(file, [expression]);
    const ping = lab.run(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', ADDR_B]);
    expect(ping.stdout).toContain('3 packets transmitted, 3 received');
    lab.exec(a, process.execPath, ['-e', CLIENT]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);

    expect(openRecording(file).meta.recorder.filters).toMatchObject({ pcap: expression });
    const q = cli(['query', file, 'SELECT func, netns_name, proto, saddr, daddr, sport, dport FROM events ORDER BY ts', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = JSON.parse(q.stdout) as Row[];
    expect(rows.length).toBeGreaterThan(0);

    const strays = rows.filter((r) => r.proto !== 'udp' || r.dport !== 5555);
    expect(strays, 'events the filter should have rejected').toEqual([]);
    for (const sport of SPORTS) {
      const mine = rows.filter((r) => r.sport === sport && r.saddr === ADDR_A && r.daddr === ADDR_B);
      expect(mine.filter((r) => r.netns_name === a).map((r) => r.func), `datagram from port ${sport} leaving ${a}`).toContain('net_dev_queue');
      expect(mine.filter((r) => r.netns_name === b).map((r) => r.func), `datagram from port ${sport} arriving in ${b}`).toContain('netif_receive_skb');
    }
  });

  it('filters a packet without a link-layer header on its network header (dropped by nft before it had one)', async () => {
    lab.nft(a, 'table inet skbtf { chain output { type filter hook output priority 0; policy accept; udp dport 5557 drop; }; }');
    const file = path.join(lab.dir, 'l3.skbtrail');
    const rec = await startRecorder(file, ['udp dst port 5557']);
    for (const port of [5557, 5558, 5557, 5558, 5557]) lab.run(a, 'bash', ['-c', `echo probe > /dev/udp/${ADDR_B}/${port}`]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGINT');
    await rec.exited;
    lab.exec(a, 'nft', ['delete', 'table', 'inet', 'skbtf']);

    const sql = 'SELECT e.func, e.reason, e.netns_name, e.dport, r.has_mac FROM events e JOIN events_raw r USING (ts, skb)';
    const q = cli(['query', file, sql, '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const rows = JSON.parse(q.stdout) as { func: string; reason: string | null; netns_name: string; dport: number; has_mac: number }[];
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toMatchObject({ func: 'kfree_skb', reason: 'NETFILTER_DROP', netns_name: a, dport: 5557, has_mac: 0 });
  });

  it('records the ping and the TCP exchange too when the filter selects them, and not the UDP', async () => {
    const expression = `icmp or (tcp and port 8080)`;
    const file = path.join(lab.dir, 'icmp-tcp.skbtrail');
    const rec = await startRecorder(file, ['icmp', 'or', '(tcp', 'and', 'port', '8080)']);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', ADDR_B]);
    lab.exec(a, process.execPath, ['-e', CLIENT]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGTERM');
    await rec.exited;

    expect(openRecording(file).meta.recorder.filters).toMatchObject({ pcap: expression });
    const q = cli(['query', file, 'SELECT proto, count(*)::INTEGER AS n FROM events GROUP BY proto ORDER BY proto', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const counts = Object.fromEntries((JSON.parse(q.stdout) as { proto: string | null; n: number }[]).map((r) => [r.proto, r.n]));
    expect(Object.keys(counts).sort()).toEqual(['icmp', 'tcp']);
    const tcp = cli(['query', file, "SELECT count(*)::INTEGER AS n FROM events WHERE proto = 'tcp' AND (sport = 8080 OR dport = 8080) AND func = 'netif_receive_skb'", '--format', 'json']);
    // The handshake, data and teardown in both directions: at least 6 segments received.
    expect((JSON.parse(tcp.stdout) as { n: number }[])[0].n).toBeGreaterThanOrEqual(6);
  });
});
