/**
 * The user's story, on the real kernel: record while packets die in a namespace, then ask the
 * analyzer why and where. Root only; on CI these must run.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecording } from '@skbtrail/format';
import { Netlab, cli, liveSkipReason, startRecorder } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live drop tests: ${skip}`);

interface DropRow { reason: string; location: string; netns: string; ifname: string | null; count: number }
interface ShowRow { skb: string; func: string; netns_name: string; ifname: string | null; saddr: string | null; daddr: string | null; proto: string | null; reason: string | null }

describe.skipIf(skip)('recording drops on this kernel', () => {
  const lab = new Netlab();
  let a = '';
  let b = '';
  beforeAll(() => {
    a = lab.ns('a');
    b = lab.ns('b');
    lab.veth(a, '10.241.0.1', b, '10.241.0.2', ['veth-a', 'veth-b']);
  });
  afterAll(() => lab.destroy());

  it('drops echo requests in netns b and reports NETFILTER_DROP at nft_do_chain, with the path from a to b', async () => {
    lab.nft(b, 'table inet skbt { chain input { type filter hook input priority 0; policy accept; icmp type echo-request drop; }; }');
    const file = path.join(lab.dir, 'icmp.skbtrail');
    const rec = await startRecorder(file);
    const ping = lab.run(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', '10.241.0.2']);
    expect(ping.stdout).toContain('3 packets transmitted, 0 received');
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited).toBe(130);
    lab.exec(b, 'nft', ['delete', 'table', 'inet', 'skbt']);

    const drops = cli(['drops', file, '--format', 'json']);
    expect(drops.code, drops.stderr).toBe(0);
    const rows = (JSON.parse(drops.stdout) as DropRow[]).filter((r) => r.netns === b && r.reason === 'NETFILTER_DROP');
    expect(rows).toHaveLength(1);
    expect(rows[0].count).toBe(3);
    expect(rows[0].location).toMatch(/^nft_do_chain\+0x[0-9a-f]+$/);
    expect(rows[0].ifname).toBe('veth-b');

    const show = cli(['show', file, '--format', 'json']);
    expect(show.code, show.stderr).toBe(0);
    const events = JSON.parse(show.stdout) as ShowRow[];
    const dropped = events.filter((e) => e.func === 'kfree_skb' && e.reason === 'NETFILTER_DROP' && e.netns_name === b);
    expect(dropped).toHaveLength(3);
    // One packet's lifetime: its skb's events up to the drop, after the address was last freed.
    const sameSkb = events.filter((e) => e.skb === dropped[0].skb);
    const end = sameSkb.indexOf(dropped[0]);
    const freed = sameSkb.slice(0, end).map((e) => e.func === 'kfree_skb' || e.func === 'consume_skb').lastIndexOf(true);
    const trail = sameSkb.slice(freed + 1, end + 1);
    const transmit = trail.find((e) => e.func === 'net_dev_queue' || e.func === 'net_dev_start_xmit');
    expect(transmit).toMatchObject({ netns_name: a, ifname: 'veth-a', saddr: '10.241.0.1', daddr: '10.241.0.2', proto: 'icmp' });
    const receive = trail.find((e) => e.func === 'netif_receive_skb' || e.func === 'netif_rx');
    expect(receive).toMatchObject({ netns_name: b, ifname: 'veth-b', saddr: '10.241.0.1', daddr: '10.241.0.2', proto: 'icmp' });
    expect(trail.indexOf(transmit!)).toBeLessThan(trail.indexOf(receive!));
  });

  it('compresses the events by default (LZ4_FRAME), and --compress none gives the same answers', async () => {
    lab.nft(b, 'table inet skbt { chain input { type filter hook input priority 0; policy accept; icmp type echo-request drop; }; }');
    const drops: Record<string, DropRow[]> = {};
    for (const compress of ['default', 'none']) {
      const file = path.join(lab.dir, `compress-${compress}.skbtrail`);
      const rec = await startRecorder(file, compress === 'none' ? ['--compress', 'none'] : []);
      lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.241.0.2']);
      await new Promise((r) => setTimeout(r, 300));
      rec.child.kill('SIGINT');
      expect(await rec.exited).toBe(130);
      expect(openRecording(file).meta.recorder.options.compress).toBe(compress === 'none' ? 'none' : 'lz4');
      const r = cli(['drops', file, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      // two recordings of two pings each: the same rows but for their times
      drops[compress] = (JSON.parse(r.stdout) as DropRow[])
        .filter((d) => d.netns === b && d.reason === 'NETFILTER_DROP')
        .map(({ reason, location, netns, ifname, count }) => ({ reason, location, netns, ifname, count }));
    }
    lab.exec(b, 'nft', ['delete', 'table', 'inet', 'skbt']);
    expect(drops.default.map((d) => d.count)).toEqual([2]);
    expect(drops.none).toEqual(drops.default);
  });

  it('reports UDP to a closed port as NO_SOCKET in netns b', async () => {
    const file = path.join(lab.dir, 'udp.skbtrail');
    const rec = await startRecorder(file);
    for (let i = 0; i < 3; i++) lab.exec(a, 'bash', ['-c', `echo probe-${i} > /dev/udp/10.241.0.2/9999`]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGTERM');
    await rec.exited;

    const drops = cli(['drops', file, '--format', 'json']);
    expect(drops.code, drops.stderr).toBe(0);
    const rows = (JSON.parse(drops.stdout) as DropRow[]).filter((r) => r.netns === b && r.reason === 'NO_SOCKET');
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(3);
  });
});
