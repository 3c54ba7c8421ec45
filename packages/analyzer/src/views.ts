// The public SQL surface: the events view over the events_raw scan, with no joins: names and
// addresses arrive as ENUMs from the scan, and what's left here is cheap per-row arithmetic.
// packets, paths and path_hops come from the packet pass (packets.ts).
// docs/analysis.md lists every column; names stay stable once released.
import type { RecordingFile } from '@skbtrail/format/file';
import type { Dataset } from './dataset.js';
import { PACKETS_SCAN, PATHS_SCAN, PATH_HOPS_SCAN } from './packets.js';
import { EVENTS_SCAN } from './scan.js';
import { SPANS_SCAN } from './spans.js';

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

/** bootToRealtimeNs as a SQL integer literal, or NULL when the recording's value is unusable. */
function clockOffsetLiteral(rec: RecordingFile): string {
  const text = rec.meta.clock?.bootToRealtimeNs;
  return typeof text === 'string' && /^-?\d{1,19}$/.test(text) ? text : 'NULL';
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Wall-clock time of a ts column, per recording (each has its own boot-to-realtime offset). */
export function wallClock(dataset: Dataset, ts: string, recordingId: string): string {
  const offsets = dataset.recordings.map(clockOffsetLiteral);
  if (offsets.every((o) => o === offsets[0])) return offsets[0] === 'NULL' ? 'CAST(NULL AS TIMESTAMP_NS)' : `make_timestamp_ns(CAST(${ts} AS BIGINT) + ${offsets[0]})`;
  return `make_timestamp_ns(CAST(${ts} AS BIGINT) + ([${offsets.join(', ')}]::BIGINT[])[${recordingId} + 1])`;
}

export interface EventsSelectOptions {
  /** the scan's rows := parameter: a SQL list of dataset row numbers, or NULL for all */
  rows?: string;
  /** the scan's pcap := parameter: a compiled filter's id */
  pcap?: number;
  /** the scan's drops := true: only drops */
  drops?: boolean;
  /** false: the session did not collect addresses; saddr/daddr must not be used */
  addresses: boolean;
  /** events_raw columns to add after the view's own (internal helpers such as gap_bucket) */
  extra?: string[];
}

/**
 * The events view's SELECT over the scan, for all events or just some (rows, pcap): commands
 * that have picked their rows get the same columns cheaply.
 */
export function eventsSelect(dataset: Dataset, opts: EventsSelectOptions): string {
  const params = [
    `rows := ${opts.rows ?? 'NULL'}`,
    ...(opts.pcap === undefined ? [] : [`pcap := ${opts.pcap}`]),
    ...(opts.drops ? ['drops := true'] : []),
  ];
  const address = (column: string): string =>
    opts.addresses
      ? `nullif(${column}_text, '')`
      : `CAST(CASE WHEN family <> 0 THEN error('internal: ${column} needs a session opened with addresses') END AS VARCHAR)`;
  return `SELECT
  seq,
  ts,
  ${wallClock(dataset, 'ts', 'recording_id')} AS time,
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
  ${address('saddr')} AS saddr,
  ${address('daddr')} AS daddr,
  CASE WHEN l4 & 1 <> 0 THEN sport END AS sport,
  CASE WHEN l4 & 1 <> 0 THEN dport END AS dport,
  CASE WHEN dropped = 1 THEN coalesce(nullif(CAST(reason_name AS VARCHAR), ''), CAST(reason AS VARCHAR)) END AS reason,
  CASE WHEN location <> 0 THEN location_sym END AS location,
  CASE WHEN stack_id >= 0 THEN stack_id END AS stack_id,
  CASE WHEN CAST(kind AS VARCHAR) IN ('fexit', 'kretprobe') THEN retval END AS retval,
  ethertype,
  pkt_type,
  CASE WHEN family <> 0 THEN ip_proto END AS ip_proto,
  CASE WHEN l4 & 2 <> 0 THEN icmp_type END AS icmp_type,
  CASE WHEN l4 & 2 <> 0 THEN icmp_code END AS icmp_code,
  CASE WHEN l4 & 4 <> 0 THEN tcp_flags END AS tcp_flags,
  reason AS reason_code,
  CASE WHEN location <> 0 THEN location END AS location_addr,
  packet,
  hop,
  CASE WHEN hop > 0 THEN prev_func END AS prev_func,
  CASE WHEN hop > 0 THEN prev_ts END AS prev_ts,
  recording${(opts.extra ?? []).map((c) => `,\n  ${c}`).join('')}
FROM ${EVENTS_SCAN}(${params.join(', ')})`;
}

/** packets: one row per packet, from the packet pass. */
function packetsSelect(dataset: Dataset): string {
  const offsets = dataset.recordings.map(clockOffsetLiteral);
  const labels = dataset.labels;
  const offset =
    offsets.every((o) => o === offsets[0]) ? offsets[0] : `CASE CAST(recording AS VARCHAR) ${labels.map((l, i) => `WHEN ${sqlString(l)} THEN ${offsets[i]}`).join(' ')} END`;
  const time = (ts: string): string => (offset === 'NULL' ? 'CAST(NULL AS TIMESTAMP_NS)' : `make_timestamp_ns(CAST(${ts} AS BIGINT) + ${offset})`);
  return `SELECT
  packet,
  skb,
  nullif(parent, 4294967295) AS parent,
  events,
  first_seq,
  last_seq,
  first_ts,
  last_ts,
  last_ts - first_ts AS duration,
  ${time('first_ts')} AS first_time,
  path,
  fate,
  CASE WHEN fate = 'dropped' THEN coalesce(nullif(CAST(reason_name AS VARCHAR), ''), CAST(reason_code AS VARCHAR)) END AS reason,
  last_func,
  recording
FROM ${PACKETS_SCAN}()`;
}

/** Macros (schema skbtrail) and views, created once the scans are registered. */
export function viewsSql(dataset: Dataset, addresses: boolean): string {
  return [
    protoNameMacro(),
    `CREATE VIEW events_raw AS SELECT * FROM ${EVENTS_SCAN}();`,
    `CREATE VIEW events AS ${eventsSelect(dataset, { addresses })};`,
    `CREATE VIEW packets AS ${packetsSelect(dataset)};`,
    `CREATE VIEW paths AS SELECT path, hops, trajectory, recording FROM ${PATHS_SCAN}();`,
    `CREATE MACRO spans(from_probe, to_probe) AS TABLE SELECT packet, from_seq, to_seq, ns, recording FROM ${SPANS_SCAN}(from_probe := from_probe, to_probe := to_probe);`,
    `CREATE VIEW path_hops AS SELECT path, hop, func, netns, netns_name, ifindex, ifname, reason, recording FROM ${PATH_HOPS_SCAN}();`,
  ].join('\n');
}
