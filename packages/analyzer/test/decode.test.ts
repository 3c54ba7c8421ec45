import { describe, expect, it } from 'vitest';
import { ipv4Text, ipv6Text } from '../src/addresses.js';
import { DecodedSlice, L4_ICMP, L4_PORTS, L4_TCP_FLAGS } from '../src/decode.js';

interface Packet {
  bytes: number[];
  protocol: number;
  hasMac?: boolean;
  netOff?: number;
}

/** Decodes packets as one slice; returns the decoded columns of each row. */
function decode(...packets: Packet[]) {
  const offsets = new Int32Array(packets.length + 1);
  packets.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.bytes.length));
  const bytes = new Uint8Array(offsets[packets.length]);
  packets.forEach((p, i) => bytes.set(p.bytes, offsets[i]));
  const slice = new DecodedSlice();
  slice.decode(
    {
      bytes,
      offsets,
      protocol: Uint16Array.from(packets, (p) => p.protocol),
      hasMac: Uint8Array.from(packets, (p) => (p.hasMac ? 1 : 0)),
      netOff: Uint16Array.from(packets, (p) => p.netOff ?? (p.hasMac ? 14 : 0)),
    },
    0,
    packets.length,
  );
  return packets.map((_, i) => ({
    family: slice.family[i],
    proto: slice.ipProto[i],
    saddr: slice.family[i] === 4 ? ipv4Text(slice.saddr[i * 4]) : slice.family[i] === 6 ? ipv6Text(slice.saddr.subarray(i * 4, i * 4 + 4)) : '',
    daddr: slice.family[i] === 4 ? ipv4Text(slice.daddr[i * 4]) : slice.family[i] === 6 ? ipv6Text(slice.daddr.subarray(i * 4, i * 4 + 4)) : '',
    sport: slice.sport[i],
    dport: slice.dport[i],
    icmp: [slice.icmpType[i], slice.icmpCode[i]],
    tcpFlags: slice.tcpFlags[i],
    l4: slice.l4[i],
  }));
}

const MACS = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
const ipv4 = (proto: number, opts: { ihl?: number; frag?: number } = {}) => {
  const ihl = opts.ihl ?? 5;
  const frag = opts.frag ?? 0;
  return [0x40 | ihl, 0, 0, 40, 0, 0, (frag >> 8) & 0x1f, frag & 255, 64, proto, 0, 0, 10, 0, 1, 1, 10, 0, 1, 2, ...new Array((ihl - 5) * 4).fill(1)];
};
const tcp = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0];
const udp = [0x14, 0xe9, 0, 53, 0, 8, 0, 0];
const echo = [8, 0, 0, 0, 0, 1, 0, 1];
const v6addr = (last: number) => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last];
const ipv6 = (next: number) => [0x60, 0, 0, 0, 0, 8, next, 64, ...v6addr(1), ...v6addr(2)];

describe('header decoding', () => {
  it('reads no IP header from an skb with neither protocol nor headers set (a netlink message), but does from one saying IP', () => {
    const netlink = [0x4c, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0];
    const [nl, ip] = decode({ bytes: netlink, protocol: 0, netOff: 0xffff }, { bytes: [...ipv4(17), ...udp], protocol: 0x0800, netOff: 0xffff });
    expect(nl).toMatchObject({ family: 0, saddr: '', daddr: '' });
    expect(ip).toMatchObject({ family: 4, saddr: '10.0.1.1', daddr: '10.0.1.2', dport: 53 });
  });

  it('reads an IPv4 TCP segment after an Ethernet header', () => {
    const [row] = decode({ bytes: [...MACS, 0x08, 0x00, ...ipv4(6), ...tcp], protocol: 0x0800, hasMac: true });
    expect(row).toMatchObject({ family: 4, proto: 6, saddr: '10.0.1.1', daddr: '10.0.1.2', sport: 40000, dport: 80, tcpFlags: 0x12 });
    expect(row.l4).toBe(L4_PORTS | L4_TCP_FLAGS);
  });

  it('skips IPv4 options to reach the transport header', () => {
    const [row] = decode({ bytes: [...ipv4(17, { ihl: 7 }), ...udp], protocol: 0x0800 });
    expect(row).toMatchObject({ family: 4, proto: 17, sport: 5353, dport: 53, l4: L4_PORTS });
  });

  it('reads ICMP type and code, and no ports', () => {
    const [row] = decode({ bytes: [...ipv4(1), ...echo], protocol: 0x0800 });
    expect(row).toMatchObject({ proto: 1, icmp: [8, 0], sport: 0, dport: 0, l4: L4_ICMP });
  });

  it('tells the IP version from the header when skb->protocol is not set yet (local output)', () => {
    const [v4, v6] = decode({ bytes: [...ipv4(1), ...echo], protocol: 0 }, { bytes: [...ipv6(17), ...udp], protocol: 0 });
    expect([v4.family, v6.family]).toEqual([4, 6]);
  });

  it('looks through VLAN tags for the network header', () => {
    const tagged = [...MACS, 0x81, 0x00, 0, 10, 0x08, 0x00, ...ipv4(6), ...tcp];
    const [row] = decode({ bytes: tagged, protocol: 0x8100, hasMac: true, netOff: 0xffff });
    expect(row).toMatchObject({ family: 4, saddr: '10.0.1.1', sport: 40000 });
  });

  it('walks IPv6 extension headers to the upper layer', () => {
    const hopByHop = [17, 0, 1, 4, 0, 0, 0, 0];
    const [row] = decode({ bytes: [...ipv6(0), ...hopByHop, ...udp], protocol: 0x86dd });
    expect(row).toMatchObject({ family: 6, proto: 17, saddr: '2001:db8::1', daddr: '2001:db8::2', sport: 5353, dport: 53 });
  });

  it('has no ports for a non-first fragment', () => {
    const [row] = decode({ bytes: [...ipv4(17, { frag: 185 }), ...udp], protocol: 0x0800 });
    expect(row).toMatchObject({ family: 4, proto: 17, l4: 0, sport: 0 });
  });

  it('decodes what was captured and no more', () => {
    const [short, arp] = decode(
      { bytes: [...ipv4(6), 0x9c, 0x40], protocol: 0x0800 },
      { bytes: [...MACS, 0x08, 0x06, 0, 1, 8, 0], protocol: 0x0806, hasMac: true },
    );
    expect(short).toMatchObject({ family: 4, saddr: '10.0.1.1', l4: 0 });
    expect(arp).toMatchObject({ family: 0, l4: 0 });
  });
});

describe('address text', () => {
  const words = (...groups: number[]) => {
    const w = new Uint32Array(4);
    for (let i = 0; i < 4; i++) w[3 - i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
    return w;
  };

  it('prints IPv6 the RFC 5952 way', () => {
    expect(ipv6Text(words(0, 0, 0, 0, 0, 0, 0, 0))).toBe('::');
    expect(ipv6Text(words(0, 0, 0, 0, 0, 0, 0, 1))).toBe('::1');
    expect(ipv6Text(words(0xfe80, 0, 0, 0, 0x1, 0x2, 0x3, 0x4))).toBe('fe80::1:2:3:4');
    expect(ipv6Text(words(1, 0, 0, 2, 0, 0, 0, 3))).toBe('1:0:0:2::3');
    expect(ipv6Text(words(1, 0, 0, 2, 0, 0, 3, 4))).toBe('1::2:0:0:3:4');
    expect(ipv6Text(words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe('2001:db8:0:1:1:1:1:1');
    expect(ipv6Text(words(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0101))).toBe('::ffff:10.0.1.1');
  });

  it('prints IPv4 dotted', () => {
    expect(ipv4Text(0xc0a80101)).toBe('192.168.1.1');
  });
});
