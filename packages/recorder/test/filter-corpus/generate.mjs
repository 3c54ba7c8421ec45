#!/usr/bin/env node
// Generates packets.json, the packet corpus of the pcap-filter differential test
// (filter-differential.test.ts): crafted Ethernet frames (IPv4, IPv6 with extension
// headers, TCP, UDP, ICMP, ICMPv6, ARP, VLAN and QinQ, fragments, options, odd and
// malformed headers), truncated captures of them, and the same packets as raw IP (what
// the recorder filters when an skb has no mac header). Deterministic: running it again
// gives the same file, and the test checks that the committed file is up to date.
//
//   node packages/recorder/test/filter-corpus/generate.mjs [--check]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bytes the recorder's filter sees at most (SKBTRAIL_FILTER_BYTES). */
export const CAPTURE_MAX = 256;

const u16 = (n) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ascii = (s) => [...Buffer.from(s, 'latin1')];
const fill = (n, byte = 0xab) => new Array(n).fill(byte);
const mac = (s) => s.split(':').map((h) => parseInt(h, 16));
const ip4 = (s) => s.split('.').map(Number);
function ip6(s) {
  const [head, tail] = s.split('::');
  const words = (part) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap(u16);
}

function checksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

const MAC_A = '02:00:00:00:00:01';
const MAC_B = '02:00:00:00:00:02';
const MAC_C = '00:11:22:33:44:55';
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const MCAST4 = '01:00:5e:00:00:01';
const MCAST6 = '33:33:00:00:00:01';

const ETH_IP = 0x0800;
const ETH_IP6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_LLDP = 0x88cc;

function ether({ dst = MAC_B, src = MAC_A, type, vlans = [] }, payload) {
  // vlans, outermost first: [{ tpid, vid, pcp }]; each tag is TPID, TCI, then the next type.
  const tags = [];
  vlans.forEach((v, i) => {
    if (i === 0) tags.push(...u16(v.tpid ?? ETH_VLAN));
    const inner = i + 1 < vlans.length ? vlans[i + 1].tpid ?? ETH_VLAN : type;
    tags.push(...u16(((v.pcp ?? 0) << 13) | v.vid), ...u16(inner));
  });
  return [...mac(dst), ...mac(src), ...(vlans.length ? tags : u16(type)), ...payload];
}

function ipv4({ src = '10.0.0.2', dst = '10.0.0.1', proto, ttl = 64, id = 1, df = false, mf = false, frag = 0, tos = 0, options = [], totalLength }, payload) {
  const ihl = 5 + options.length / 4;
  const len = totalLength ?? ihl * 4 + payload.length;
  const flags = (df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (frag & 0x1fff);
  const h = [0x40 | ihl, tos, ...u16(len), ...u16(id), ...u16(flags), ttl, proto, 0, 0, ...ip4(src), ...ip4(dst), ...options];
  const sum = checksum(h);
  h[10] = sum >> 8;
  h[11] = sum & 0xff;
  return [...h, ...payload];
}

// IPv6 with extension headers: ext = [{ type: 0|43|44|60, ... }] in order; the last one's next header is proto.
function ipv6({ src = '2001:db8::2', dst = '2001:db8::1', proto, hop = 64, ext = [], flow = 0 }, payload) {
  const chain = [];
  const types = ext.map((e) => e.type);
  ext.forEach((e, i) => {
    const next = i + 1 < ext.length ? types[i + 1] : proto;
    if (e.type === 44) {
      const off = ((e.offset ?? 0) << 3) | (e.more ? 1 : 0);
      chain.push(next, 0, ...u16(off), ...u32(e.id ?? 0x1234));
    } else if (e.type === 43) {
      chain.push(next, 2, 0, 1, 0, 0, 0, 0, ...ip6('2001:db8::99')); // type 0-like routing header, 24 bytes
    } else {
      chain.push(next, 0, 1, 4, 0, 0, 0, 0); // hop-by-hop / destination options: PadN, 8 bytes
    }
  });
  const first = ext.length > 0 ? types[0] : proto;
  const body = [...chain, ...payload];
  return [0x60 | (flow >> 16 & 0xf), (flow >> 8) & 0xff, flow & 0xff, 0, ...u16(body.length), first, hop, ...ip6(src), ...ip6(dst), ...body];
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

function tcp({ sport = 40000, dport = 80, flags = TCP_ACK, seq = 1, ack = 0, options = [] }, payload = []) {
  const doff = 5 + options.length / 4;
  return [...u16(sport), ...u16(dport), ...u32(seq), ...u32(ack), doff << 4, flags, ...u16(65535), 0, 0, 0, 0, ...options, ...payload];
}
const udp = ({ sport = 40000, dport = 53 }, payload = []) => [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
const icmp = (type, code, rest = [0, 0, 0, 0], payload = []) => [type, code, 0, 0, ...rest, ...payload];
const icmp6 = (type, code, rest = [0, 0, 0, 0], payload = []) => [type, code, 0, 0, ...rest, ...payload];
const arp = (op, sha, spa, tha, tpa) => [0, 1, 8, 0, 6, 4, 0, op, ...mac(sha), ...ip4(spa), ...mac(tha), ...ip4(tpa)];

const ether4 = (eth, ip, l4) => ether({ type: ETH_IP, ...eth }, ipv4(ip, l4));
const ether6 = (eth, ip, l4) => ether({ type: ETH_IP6, ...eth }, ipv6(ip, l4));

/** Full packets by name; wirelen is the bytes length unless a bigger one is given. */
function fullPackets() {
  const list = [];
  const add = (name, bytes, wirelen) => list.push({ name, bytes, wirelen: wirelen ?? bytes.length });

  // IPv4 TCP: hosts, ports, flags.
  const hosts4 = [
    ['10.0.0.2', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.2'],
    ['192.168.1.10', '10.1.2.3'],
    ['192.168.7.7', '172.20.0.5'],
    ['172.31.255.1', '8.8.8.8'],
  ];
  const flagSets = [['syn', TCP_SYN], ['synack', TCP_SYN | TCP_ACK], ['ack', TCP_ACK], ['psh-ack', TCP_PSH | TCP_ACK], ['fin-ack', TCP_FIN | TCP_ACK], ['rst', TCP_RST]];
  for (const [src, dst] of hosts4) {
    for (const dport of [80, 443, 22, 8080]) {
      add(`ipv4-tcp-${src}-${dst}-dport${dport}-syn`, ether4({}, { src, dst, proto: 6 }, tcp({ sport: 1234, dport, flags: TCP_SYN })));
    }
  }
  for (const [name, flags] of flagSets) {
    add(`ipv4-tcp-80-${name}`, ether4({}, { proto: 6 }, tcp({ sport: 40001, dport: 80, flags })));
    add(`ipv4-tcp-from80-${name}`, ether4({}, { src: '10.0.0.1', dst: '10.0.0.2', proto: 6 }, tcp({ sport: 80, dport: 40001, flags })));
  }
  // Port edges for portrange 1000-2000 and 8000-8100.
  for (const port of [999, 1000, 1500, 2000, 2001, 7999, 8000, 8100, 8101]) {
    add(`ipv4-tcp-dport${port}`, ether4({}, { proto: 6 }, tcp({ sport: 50000, dport: port })));
    add(`ipv4-udp-sport${port}`, ether4({}, { proto: 17 }, udp({ sport: port, dport: 50000 })));
  }
  // TCP with options and an HTTP request.
  const mss = [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 1, 1, 0];
  add('ipv4-tcp-syn-options', ether4({}, { proto: 6 }, tcp({ dport: 80, flags: TCP_SYN, options: mss })));
  add('ipv4-tcp-http-get', ether4({}, { proto: 6 }, tcp({ dport: 80, flags: TCP_PSH | TCP_ACK }, ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))));
  add('ipv4-tcp-http-get-options', ether4({}, { proto: 6 }, tcp({ dport: 80, flags: TCP_PSH | TCP_ACK, options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }, ascii('GET /index.html HTTP/1.0\r\n\r\n'))));
  add('ipv4-tcp-http-post', ether4({}, { proto: 6 }, tcp({ dport: 80, flags: TCP_PSH | TCP_ACK }, ascii('POST / HTTP/1.1\r\n\r\n'))));
  add('ipv4-tcp-big-wire', ether4({}, { proto: 6, totalLength: 1500 }, tcp({ dport: 80 }, fill(180))), 1514);
  add('ipv4-tcp-capture-max', ether4({}, { proto: 6 }, tcp({ dport: 443 }, fill(CAPTURE_MAX - 54))));

  // IPv4 UDP.
  for (const [dport, payload] of [[53, [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]], [5555, ascii('hello')], [5353, fill(20, 0)], [123, fill(48, 0)], [22, []]]) {
    add(`ipv4-udp-dport${dport}`, ether4({}, { proto: 17 }, udp({ sport: 40000, dport }, payload)));
    add(`ipv4-udp-sport${dport}`, ether4({}, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp({ sport: dport, dport: 40000 }, payload)));
  }
  add('ipv4-udp-magic-payload', ether4({}, { proto: 17 }, udp({ dport: 9000 }, [0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4])));
  add('ipv4-udp-other-payload', ether4({}, { proto: 17 }, udp({ dport: 9000 }, [0x12, 0x34, 0x56, 0x79])));
  add('ipv4-udp-src1234-dst443', ether4({}, { proto: 17 }, udp({ sport: 1234, dport: 443 })));
  add('ipv4-udp-big-wire', ether4({}, { proto: 17, totalLength: 9000 }, udp({ dport: 5555 }, fill(100))), 9014);
  add('ipv4-udp-multicast', ether4({ dst: MCAST4 }, { dst: '224.0.0.1', proto: 17, ttl: 1 }, udp({ dport: 5353 }, fill(12, 0))));
  add('ipv4-udp-broadcast', ether4({ dst: BROADCAST }, { dst: '255.255.255.255', proto: 17 }, udp({ sport: 68, dport: 67 }, fill(40, 0))));

  // ICMP.
  for (const [name, type, code] of [['echo', 8, 0], ['echoreply', 0, 0], ['unreach-port', 3, 3], ['timeexceeded', 11, 0], ['redirect', 5, 1]]) {
    const inner = type === 3 || type === 11 ? ipv4({ proto: 17 }, udp({ dport: 33434 })).slice(0, 28) : fill(16, 0x61);
    add(`ipv4-icmp-${name}`, ether4({}, { proto: 1 }, icmp(type, code, [0, 1, 0, 1], inner)));
    add(`ipv4-icmp-${name}-to-10.0.0.2`, ether4({}, { src: '10.0.0.1', dst: '10.0.0.2', proto: 1 }, icmp(type, code, [0, 1, 0, 2], inner)));
  }

  // IPv4: other protocols, TTLs for the shift and division expressions, options, odd headers.
  add('ipv4-gre', ether4({}, { proto: 47 }, [0, 0, 0x08, 0x00, ...ipv4({ proto: 1 }, icmp(8, 0))]));
  add('ipv4-esp', ether4({}, { proto: 50 }, [...u32(0x100), ...u32(1), ...fill(24)]));
  add('ipv4-sctp', ether4({}, { proto: 132 }, [...u16(5000), ...u16(80), ...fill(8, 0)]));
  add('ipv4-igmp', ether4({ dst: MCAST4 }, { dst: '224.0.0.22', proto: 2, ttl: 1 }, [0x22, 0, 0, 0, 0, 0, 0, 0]));
  for (const ttl of [0, 1, 3, 31, 32, 33, 63, 64, 128, 255]) {
    add(`ipv4-udp-ttl${ttl}-tos16`, ether4({}, { proto: 17, ttl, tos: 0x10 }, udp({ dport: 5555 }, fill(ttl % 40))));
  }
  for (const proto of [0, 1, 6, 17, 31, 32, 33]) {
    add(`ipv4-proto${proto}-ttl5`, ether4({}, { proto, ttl: 5 }, fill(20, 0x11)));
  }
  add('ipv4-options-ihl6', ether4({}, { proto: 6, options: [1, 1, 1, 0] }, tcp({ dport: 80, flags: TCP_SYN })));
  add('ipv4-options-ihl8-rr', ether4({}, { proto: 17, options: [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, udp({ dport: 53 })));
  add('ipv4-options-ihl15', ether4({}, { proto: 6, options: [1, ...fill(38, 1), 0] }, tcp({ dport: 80 })));
  add('ipv4-tos-ecn', ether4({}, { proto: 17, tos: 0xb8 }, udp({ dport: 5555 })));
  const bad4 = ether4({}, { proto: 6 }, tcp({ dport: 80 }));
  bad4[14] = 0x44; // IHL 4: shorter than the header itself
  add('ipv4-bad-ihl4', bad4);
  const wrongVersion = ether4({}, { proto: 17 }, udp({ dport: 53 }));
  wrongVersion[14] = 0x65; // version 6 in an IPv4 ethertype
  add('ipv4-ethertype-version6', wrongVersion);
  add('ipv4-totlen-short', ether4({}, { proto: 17, totalLength: 20 }, udp({ dport: 53 }, fill(30))));
  add('ipv4-df', ether4({}, { proto: 6, df: true }, tcp({ dport: 443 })));

  // IPv4 fragments: first (MF), middle and last (payload that looks like a TCP header to port 80).
  const fakeTcp = tcp({ sport: 1234, dport: 80, flags: TCP_SYN });
  add('ipv4-frag-first-tcp80', ether4({}, { proto: 6, mf: true, id: 77 }, [...fakeTcp, ...fill(20)]));
  add('ipv4-frag-middle', ether4({}, { proto: 6, mf: true, frag: 5, id: 77 }, [...fakeTcp, ...fill(20)]));
  add('ipv4-frag-last', ether4({}, { proto: 6, frag: 10, id: 77 }, fakeTcp));
  add('ipv4-frag-first-udp53', ether4({}, { proto: 17, mf: true, id: 78 }, udp({ dport: 53 }, fill(32))));
  add('ipv4-frag-last-udp', ether4({}, { proto: 17, frag: 185, id: 78 }, udp({ dport: 53 })));
  add('ipv4-frag-df-mf', ether4({}, { proto: 1, df: true, mf: true }, icmp(8, 0)));

  // IPv6: TCP, UDP, ICMPv6, extension headers, fragments.
  const hosts6 = [['2001:db8::2', '2001:db8::1'], ['2001:db8::1', '2001:db8::2'], ['fe80::1', 'ff02::1'], ['2001:db9::5', '2001:db8:1::7'], ['fd00::1', 'fd00::2']];
  for (const [src, dst] of hosts6) {
    add(`ipv6-tcp-${src}-${dst}-dport80`, ether6({ dst: dst.startsWith('ff') ? MCAST6 : MAC_B }, { src, dst, proto: 6 }, tcp({ dport: 80, flags: TCP_SYN })));
    add(`ipv6-udp-${src}-${dst}-dport53`, ether6({ dst: dst.startsWith('ff') ? MCAST6 : MAC_B }, { src, dst, proto: 17 }, udp({ dport: 53 }, fill(12, 0))));
  }
  for (const [name, flags] of flagSets) add(`ipv6-tcp-443-${name}`, ether6({}, { proto: 6 }, tcp({ dport: 443, flags })));
  add('ipv6-tcp-http-get', ether6({}, { proto: 6 }, tcp({ dport: 80, flags: TCP_PSH | TCP_ACK }, ascii('GET / HTTP/1.1\r\n\r\n'))));
  add('ipv6-udp-5555', ether6({}, { proto: 17 }, udp({ sport: 1234, dport: 5555 }, ascii('hi'))));
  add('ipv6-udp-portrange', ether6({}, { proto: 17 }, udp({ sport: 1500, dport: 2500 })));
  for (const [name, type, code, rest] of [['echo', 128, 0, [0, 1, 0, 1]], ['echoreply', 129, 0, [0, 1, 0, 1]], ['ns', 135, 0, [0, 0, 0, 0]], ['na', 136, 0, [0x60, 0, 0, 0]], ['rs', 133, 0, [0, 0, 0, 0]], ['ra', 134, 0, [64, 0, 0, 0]], ['unreach', 1, 4, [0, 0, 0, 0]], ['toobig', 2, 0, [0, 0, 5, 0]]]) {
    const payload = type === 135 || type === 136 ? ip6('2001:db8::1') : type < 128 ? ipv6({ proto: 17 }, udp({ dport: 53 })).slice(0, 48) : fill(8, 0x62);
    add(`ipv6-icmp6-${name}`, ether6({ dst: type === 133 || type === 134 ? MCAST6 : MAC_B }, { proto: 58, dst: type === 133 ? 'ff02::2' : '2001:db8::1', hop: 255 }, icmp6(type, code, rest, payload)));
  }
  add('ipv6-hbh-icmp6-mld', ether6({ dst: MCAST6 }, { proto: 58, dst: 'ff02::16', hop: 1, ext: [{ type: 0 }] }, icmp6(143, 0, [0, 0, 0, 1], fill(20, 0))));
  add('ipv6-hbh-tcp80', ether6({}, { proto: 6, ext: [{ type: 0 }] }, tcp({ dport: 80, flags: TCP_SYN })));
  add('ipv6-routing-udp53', ether6({}, { proto: 17, ext: [{ type: 43 }] }, udp({ dport: 53 })));
  add('ipv6-dstopts-tcp80', ether6({}, { proto: 6, ext: [{ type: 60 }] }, tcp({ dport: 80 })));
  add('ipv6-hbh-routing-dstopts-udp', ether6({}, { proto: 17, ext: [{ type: 0 }, { type: 43 }, { type: 60 }] }, udp({ dport: 5555 })));
  add('ipv6-frag-first-tcp80', ether6({}, { proto: 6, ext: [{ type: 44, offset: 0, more: true }] }, [...tcp({ dport: 80, flags: TCP_SYN }), ...fill(16)]));
  add('ipv6-frag-first-udp53', ether6({}, { proto: 17, ext: [{ type: 44, offset: 0, more: true }] }, udp({ dport: 53 }, fill(16))));
  add('ipv6-frag-later-tcp80-lookalike', ether6({}, { proto: 6, ext: [{ type: 44, offset: 100, more: false }] }, tcp({ dport: 80 })));
  add('ipv6-frag-icmp6-echo', ether6({}, { proto: 58, ext: [{ type: 44, offset: 0, more: true }] }, icmp6(128, 0, [0, 1, 0, 1], fill(16))));
  add('ipv6-hbh-frag-udp', ether6({}, { proto: 17, ext: [{ type: 0 }, { type: 44, offset: 0, more: true }] }, udp({ dport: 53 })));
  add('ipv6-no-next-header', ether6({}, { proto: 59 }, []));
  add('ipv6-esp', ether6({}, { proto: 50 }, [...u32(0x200), ...u32(1), ...fill(24)]));
  add('ipv6-big-wire', ether6({}, { proto: 6 }, tcp({ dport: 80 }, fill(100))), 1514);
  add('ipv6-flowlabel', ether6({}, { proto: 17, flow: 0xabcde }, udp({ dport: 5555 })));
  const wrong6 = ether6({}, { proto: 6 }, tcp({ dport: 80 }));
  wrong6[14] = 0x45; // version 4 in an IPv6 ethertype
  add('ipv6-ethertype-version4', wrong6);

  // VLAN (802.1Q), QinQ (802.1ad outer), priority bits.
  add('vlan100-ipv4-tcp80', ether4({ vlans: [{ vid: 100 }] }, { proto: 6 }, tcp({ dport: 80, flags: TCP_SYN })));
  add('vlan100-ipv4-udp53', ether4({ vlans: [{ vid: 100 }] }, { proto: 17 }, udp({ dport: 53 })));
  add('vlan200-ipv4-tcp80-host10.0.0.1', ether4({ vlans: [{ vid: 200 }] }, { dst: '10.0.0.1', proto: 6 }, tcp({ dport: 80 })));
  add('vlan100-pcp5-ipv4-icmp', ether4({ vlans: [{ vid: 100, pcp: 5 }] }, { proto: 1 }, icmp(8, 0)));
  add('vlan100-ipv6-tcp80', ether6({ vlans: [{ vid: 100 }] }, { proto: 6 }, tcp({ dport: 80 })));
  add('vlan4095-arp', ether({ type: ETH_ARP, dst: BROADCAST, vlans: [{ vid: 4095 }] }, arp(1, MAC_A, '10.0.0.2', '00:00:00:00:00:00', '10.0.0.1')));
  add('qinq-300-100-ipv4-tcp80', ether4({ vlans: [{ tpid: ETH_QINQ, vid: 300 }, { vid: 100 }] }, { proto: 6 }, tcp({ dport: 80 })));
  add('qinq-300-200-ipv4-udp', ether4({ vlans: [{ tpid: ETH_QINQ, vid: 300 }, { vid: 200 }] }, { proto: 17 }, udp({ dport: 5555 })));
  add('vlan-in-vlan-100-300', ether4({ vlans: [{ vid: 100 }, { vid: 300 }] }, { dst: '10.0.0.1', proto: 6 }, tcp({ dport: 80 })));
  add('vlan0-priority-ipv4-tcp', ether4({ vlans: [{ vid: 0, pcp: 3 }] }, { proto: 6 }, tcp({ dport: 443 })));

  // ARP, LLDP, and frames the expressions must reject.
  add('arp-request', ether({ type: ETH_ARP, dst: BROADCAST }, arp(1, MAC_A, '10.0.0.2', '00:00:00:00:00:00', '10.0.0.1')));
  add('arp-reply', ether({ type: ETH_ARP, src: MAC_B, dst: MAC_A }, arp(2, MAC_B, '10.0.0.1', MAC_A, '10.0.0.2')));
  add('lldp', ether({ type: ETH_LLDP, dst: '01:80:c2:00:00:0e', src: MAC_C }, [2, 7, 4, ...mac(MAC_C), 4, 2, 7, 0x31, 0, 0]));
  add('ether-802.3-length', ether({ type: 46 }, fill(46, 0)));
  add('ether-src-c-ipv4', ether4({ src: MAC_C, dst: MAC_A }, { proto: 17 }, udp({ dport: 53 })));
  add('ether-to-a-ipv6', ether6({ src: MAC_C, dst: MAC_A }, { proto: 58 }, icmp6(128, 0)));
  add('ether-broadcast-ipv4', ether4({ dst: BROADCAST }, { proto: 17, dst: '10.0.0.255' }, udp({ dport: 137 })));
  add('ether-multicast6-icmp6', ether6({ dst: MCAST6 }, { proto: 58, dst: 'ff02::1' }, icmp6(134, 0)));
  add('ether-runt', [...mac(MAC_B), ...mac(MAC_A), ...u16(ETH_IP)]);
  return list;
}

/** The network-layer part of a frame (after Ethernet and VLAN tags), when it carries IPv4 or IPv6. */
function networkPart(bytes) {
  let at = 12;
  for (;;) {
    if (at + 2 > bytes.length) return null;
    const type = (bytes[at] << 8) | bytes[at + 1];
    if (type === ETH_VLAN || type === ETH_QINQ) {
      at += 4;
      continue;
    }
    return type === ETH_IP || type === ETH_IP6 ? bytes.slice(at + 2) : null;
  }
}

/** Where captures of a packet get cut: inside or at the edge of each header. */
const ETHER_CUTS = [0, 1, 13, 14, 15, 17, 23, 24, 25, 29, 33, 34, 35, 37, 38, 40, 41, 47, 53, 54, 55, 58, 60, 61];
const RAW_CUTS = [0, 1, 9, 10, 19, 20, 21, 23, 24, 33, 39, 40, 41, 43, 44, 47, 48, 53, 54, 55];
/** Packets whose truncated captures join the corpus. */
const TRUNCATE = ['ipv4-tcp-80-syn', 'ipv6-frag-first-tcp80', 'vlan100-ipv4-tcp80', 'ipv4-tcp-http-get', 'ipv6-hbh-routing-dstopts-udp', 'ipv4-options-ihl6', 'ipv4-icmp-echo', 'ipv6-icmp6-echo'];

export function generate() {
  const full = fullPackets();
  const ether = [];
  const raw = [];
  const hex = (bytes) => Buffer.from(bytes).toString('hex');
  const push = (out, name, bytes, wirelen) => {
    if (bytes.length > CAPTURE_MAX) throw new Error(`${name}: ${bytes.length} bytes is more than the filter's ${CAPTURE_MAX}`);
    if (out.some((p) => p.name === name)) throw new Error(`duplicate packet name ${name}`);
    out.push({ name, hex: hex(bytes), wirelen });
  };
  for (const p of full) {
    push(ether, p.name, p.bytes, p.wirelen);
    const l3 = networkPart(p.bytes);
    if (l3) push(raw, p.name, l3, p.wirelen - (p.bytes.length - l3.length));
  }
  for (const name of TRUNCATE) {
    const p = full.find((q) => q.name === name);
    if (!p) throw new Error(`no packet ${name} to truncate`);
    for (const cut of ETHER_CUTS) if (cut < p.bytes.length) push(ether, `${name}-cut${cut}`, p.bytes.slice(0, cut), p.wirelen);
    const l3 = networkPart(p.bytes);
    const l3wire = p.wirelen - (p.bytes.length - l3.length);
    for (const cut of RAW_CUTS) if (cut < l3.length) push(raw, `${name}-cut${cut}`, l3.slice(0, cut), l3wire);
  }
  return {
    comment: 'Generated by generate.mjs: do not edit. Packets as hex; wirelen is the length on the wire (more than the bytes when truncated).',
    ether,
    raw,
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const CORPUS_PATH = path.join(here, 'packets.json');

export function render(corpus) {
  // One packet a line: diffs stay readable.
  const list = (items) => items.map((p) => `    ${JSON.stringify(p)}`).join(',\n');
  return `{\n  "comment": ${JSON.stringify(corpus.comment)},\n  "ether": [\n${list(corpus.ether)}\n  ],\n  "raw": [\n${list(corpus.raw)}\n  ]\n}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = render(generate());
  if (process.argv.includes('--check')) {
    const same = fs.existsSync(CORPUS_PATH) && fs.readFileSync(CORPUS_PATH, 'utf8') === text;
    console.log(same ? 'packets.json is up to date' : 'packets.json is stale: run generate.mjs');
    process.exit(same ? 0 : 1);
  }
  fs.writeFileSync(CORPUS_PATH, text);
  const corpus = JSON.parse(text);
  console.log(`wrote ${CORPUS_PATH}: ${corpus.ether.length} Ethernet frames, ${corpus.raw.length} raw IP packets`);
}
