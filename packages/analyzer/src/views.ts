// The public SQL surface: the events view over the events_raw scan, with no joins: names and
// addresses arrive as ENUMs from the scan, and what's left here is cheap per-row arithmetic.
// docs/analysis.md lists every column; names stay stable once released.
import type { StartMeta } from '@skbtrail/format';
import { EVENTS_SCAN } from './scan.js';

/** IP protocol numbers → the names proto shows (IANA keywords, as tcpdump and pwru print them). */
const IP_PROTOCOLS: [number, string][] = [
  [1, 'icmp'],
  [2, 'igmp'],
  [4, 'ipip'],
  [6, 'tcp'],
  [17, 'udp'],
  [33, 'dccp'],
  [41, 'ipv6'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [58, 'icmp6'],
  [89, 'ospf'],
  [103, 'pim'],
  [112, 'vrrp'],
  [115, 'l2tp'],
  [132, 'sctp'],
  [136, 'udplite'],
  [137, 'mpls'],
  [143, 'ethernet'],
];

/** proto's text by IP protocol number: the names above, else the number. */
function protoNameMacro(): string {
  const names = Array.from({ length: 256 }, (_, n) => String(n));
  for (const [n, name] of IP_PROTOCOLS) names[n] = name;
  return `CREATE MACRO skbtrail.proto_name(n) AS ([${names.map((t) => `'${t}'`).join(', ')}])[n + 1];`;
}

function idList(ids: number[]): string {
  return ids.map((id) => String(Math.trunc(id))).join(', ');
}

/** bootToRealtimeNs as a SQL integer literal, or null when the recording's value is unusable. */
function clockOffsetLiteral(meta: StartMeta): string | null {
  const text = meta.clock?.bootToRealtimeNs;
  return typeof text === 'string' && /^-?\d{1,19}$/.test(text) ? text : null;
}

/**
 * The events view's SELECT over the scan, for all events (rows = 'NULL') or just the ones numbered
 * in rows (a SQL list of seq): commands that have picked their rows get the same columns cheaply.
 * A drop is an event with a drop reason other than "not dropped"/"consumed",
 * not from a consume_skb probe.
 */
export function eventsSelect(meta: StartMeta, rows: string): string {
  const offset = clockOffsetLiteral(meta);
  const time = offset === null ? 'CAST(NULL AS TIMESTAMP_NS)' : `make_timestamp_ns(CAST(ts AS BIGINT) + ${offset})`;
  const notDrops = [0, ...meta.dropReasons.filter((r) => r.name === 'NOT_DROPPED_YET' || r.name === 'CONSUMED').map((r) => r.value)];
  const consumeProbes = meta.probes.filter((p) => p.name === 'consume_skb').map((p) => p.id);
  const isDrop =
    `reason NOT IN (${idList(notDrops)})` + (consumeProbes.length > 0 ? ` AND func_id NOT IN (${idList(consumeProbes)})` : '');
  return `SELECT
  seq,
  ts,
  ${time} AS time,
  cpu,
  pid,
  comm,
  skb,
  func,
  kind,
  netns,
  nullif(netns_name, '') AS netns_name,
  ifindex,
  nullif(ifname, '') AS ifname,
  mark,
  len,
  mtu,
  CASE WHEN family <> 0 THEN skbtrail.proto_name(ip_proto) END AS proto,
  CASE WHEN family <> 0 THEN family END AS family,
  nullif(saddr_text, '') AS saddr,
  nullif(daddr_text, '') AS daddr,
  CASE WHEN l4 & 1 <> 0 THEN sport END AS sport,
  CASE WHEN l4 & 1 <> 0 THEN dport END AS dport,
  CASE WHEN ${isDrop} THEN coalesce(nullif(CAST(reason_name AS VARCHAR), ''), CAST(reason AS VARCHAR)) END AS reason,
  CASE WHEN location <> 0 THEN location_sym END AS location,
  CASE WHEN stack_id >= 0 THEN stack_id END AS stack_id,
  ethertype,
  pkt_type,
  CASE WHEN family <> 0 THEN ip_proto END AS ip_proto,
  CASE WHEN l4 & 2 <> 0 THEN icmp_type END AS icmp_type,
  CASE WHEN l4 & 2 <> 0 THEN icmp_code END AS icmp_code,
  CASE WHEN l4 & 4 <> 0 THEN tcp_flags END AS tcp_flags,
  reason AS reason_code,
  CASE WHEN location <> 0 THEN location END AS location_addr
FROM ${EVENTS_SCAN}(rows := ${rows})`;
}

/** Macros (schema skbtrail) and views, created once the scan is registered. */
export function viewsSql(meta: StartMeta): string {
  return [
    protoNameMacro(),
    `CREATE VIEW events_raw AS SELECT * FROM ${EVENTS_SCAN}();`,
    `CREATE VIEW events AS ${eventsSelect(meta, 'NULL')};`,
  ].join('\n');
}
