// The committed recordings made by fixtures/scenarios/*.sh on a 6.18 kernel (tracepoint
// backend): the analyzer must give the exact answers a network engineer would check.
import { spawnSync } from 'node:child_process';
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
