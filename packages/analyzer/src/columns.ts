// The columns of events_raw (the scan over the recording's Arrow batches) and where each comes from.
import duckdb from '@duckdb/node-bindings';
import type { DecodedSlice } from './decode.js';
import type { NamedKey } from './names.js';

type DecodedKey = { [K in keyof DecodedSlice]: DecodedSlice[K] extends ArrayBufferView ? K : never }[keyof DecodedSlice];

type ColumnSource =
  /** an Arrow column of the events table, copied as it is (dictionary columns: their indices) */
  | { kind: 'arrow'; field: string }
  /** a column of the header decoder */
  | { kind: 'decoded'; key: DecodedKey }
  /** an ENUM of names looked up from other columns (names.ts) */
  | { kind: 'named'; key: NamedKey }
  /** the event's number in recording order */
  | { kind: 'seq' }
  /** the captured header bytes, as BLOB (row by row: only when a query asks for them) */
  | { kind: 'headers' };

interface RawColumn {
  name: string;
  /** ENUM: its members and width come from the recording */
  type: duckdb.Type;
  /** bytes per value in DuckDB's vector (0: not fixed width or, for ENUM, known at registration) */
  width: number;
  source: ColumnSource;
}

const T = duckdb.Type;
const arrow = (name: string, type: duckdb.Type, width: number, field = name): RawColumn => ({
  name,
  type,
  width,
  source: { kind: 'arrow', field },
});
const decoded = (name: string, type: duckdb.Type, width: number, key: DecodedKey): RawColumn => ({
  name,
  type,
  width,
  source: { kind: 'decoded', key },
});

const named = (name: NamedKey): RawColumn => ({ name, type: T.ENUM, width: 0, source: { kind: 'named', key: name } });

export const RAW_COLUMNS: readonly RawColumn[] = [
  { name: 'seq', type: T.UBIGINT, width: 8, source: { kind: 'seq' } },
  arrow('ts', T.UBIGINT, 8),
  arrow('cpu', T.USMALLINT, 2),
  arrow('pid', T.UINTEGER, 4),
  arrow('comm_id', T.INTEGER, 4, 'comm'),
  named('comm'),
  arrow('skb', T.UBIGINT, 8),
  arrow('func_id', T.USMALLINT, 2, 'func'),
  named('func'),
  named('kind'),
  arrow('netns', T.UINTEGER, 4),
  named('netns_name'),
  arrow('ifindex', T.UINTEGER, 4),
  named('ifname'),
  arrow('mark', T.UINTEGER, 4),
  arrow('len', T.UINTEGER, 4),
  arrow('mtu', T.UINTEGER, 4),
  arrow('ethertype', T.USMALLINT, 2, 'protocol'),
  arrow('pkt_type', T.UTINYINT, 1),
  arrow('reason', T.UINTEGER, 4),
  named('reason_name'),
  arrow('location', T.UBIGINT, 8),
  named('location_sym'),
  arrow('stack_id', T.INTEGER, 4),
  arrow('has_mac', T.UTINYINT, 1),
  arrow('net_off', T.USMALLINT, 2),
  arrow('trans_off', T.USMALLINT, 2),
  { name: 'headers', type: T.BLOB, width: 0, source: { kind: 'headers' } },
  decoded('family', T.UTINYINT, 1, 'family'),
  decoded('ip_proto', T.UTINYINT, 1, 'ipProto'),
  decoded('saddr', T.UHUGEINT, 16, 'saddr'),
  decoded('daddr', T.UHUGEINT, 16, 'daddr'),
  named('saddr_text'),
  named('daddr_text'),
  decoded('sport', T.USMALLINT, 2, 'sport'),
  decoded('dport', T.USMALLINT, 2, 'dport'),
  decoded('icmp_type', T.UTINYINT, 1, 'icmpType'),
  decoded('icmp_code', T.UTINYINT, 1, 'icmpCode'),
  decoded('tcp_flags', T.UTINYINT, 1, 'tcpFlags'),
  decoded('l4', T.UTINYINT, 1, 'l4'),
];
