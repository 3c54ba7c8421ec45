// The columns of events_raw (the scan over the recordings' event batches), where each comes
// from, and which file columns computing it reads.
import type duckdbTypes from '@duckdb/node-bindings';
import { duckdb } from './cjs.js';
import type { FixedColumnName } from '@skbtrail/format/file';
import type { ColumnNeeds } from './dataset.js';
import type { DecodedSlice } from './decode.js';
import type { NamedColumn, NamedKey } from './names.js';

type DecodedKey = { [K in keyof DecodedSlice]: DecodedSlice[K] extends ArrayBufferView ? K : never }[keyof DecodedSlice];
export type TrackedKey = 'packet' | 'hop' | 'prev_ts' | 'gap_bucket';
export type ComputedKey = 'dropped' | 'recording_id';

export type ColumnSource =
  /** a column of the events table, copied as it is (dictionary columns: their indices) */
  | { kind: 'arrow'; field: FixedColumnName }
  /** a column of the header decoder */
  | { kind: 'decoded'; key: DecodedKey }
  /** an ENUM of names looked up from other columns (names.ts) */
  | { kind: 'named'; key: NamedKey }
  /** a value of the packet tracker (tracker.ts) */
  | { kind: 'tracked'; key: TrackedKey }
  /** a small per-row computation: the drop rule, the recording's number */
  | { kind: 'computed'; key: ComputedKey }
  /** the event's number in its recording */
  | { kind: 'seq' }
  /** the captured header bytes, as BLOB (row by row: only when a query asks for them) */
  | { kind: 'headers' };

export interface RawColumn {
  name: string;
  /** ENUM: its members and width come from the recordings */
  type: duckdbTypes.Type;
  /** bytes per value in DuckDB's vector (0: not fixed width or, for ENUM, known at registration) */
  width: number;
  source: ColumnSource;
}

const T = duckdb.Type;
const arrow = (name: string, type: duckdbTypes.Type, width: number, field: FixedColumnName = name as FixedColumnName): RawColumn => ({
  name,
  type,
  width,
  source: { kind: 'arrow', field },
});
const decoded = (name: string, type: duckdbTypes.Type, width: number, key: DecodedKey): RawColumn => ({
  name,
  type,
  width,
  source: { kind: 'decoded', key },
});
const named = (name: NamedKey): RawColumn => ({ name, type: T.ENUM, width: 0, source: { kind: 'named', key: name } });
const tracked = (name: TrackedKey, type: duckdbTypes.Type, width: number): RawColumn => ({ name, type, width, source: { kind: 'tracked', key: name } });
const computed = (name: ComputedKey, type: duckdbTypes.Type, width: number): RawColumn => ({ name, type, width, source: { kind: 'computed', key: name } });

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
  arrow('retval', T.BIGINT, 8),
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
  tracked('packet', T.UINTEGER, 4),
  tracked('hop', T.UINTEGER, 4),
  named('prev_func'),
  tracked('prev_ts', T.UBIGINT, 8),
  tracked('gap_bucket', T.SMALLINT, 2),
  computed('dropped', T.UTINYINT, 1),
  computed('recording_id', T.USMALLINT, 2),
  named('recording'),
];

/** What the header decoder reads. */
const DECODER_FIELDS: FixedColumnName[] = ['protocol', 'has_mac', 'net_off'];
/** What the packet tracker reads. */
export const TRACKER_FIELDS: FixedColumnName[] = ['skb', 'func', 'ts'];

export interface ScanNeeds extends ColumnNeeds {
  decode: boolean;
  track: boolean;
}

/** The file columns and computations a scan of these RAW_COLUMNS indices needs. */
export function scanNeeds(columns: number[], named: Record<NamedKey, NamedColumn>): ScanNeeds {
  const needs: ScanNeeds = { fields: new Set(), headers: false, decode: false, track: false };
  for (const c of columns) {
    const source = RAW_COLUMNS[c]?.source;
    if (!source) continue;
    switch (source.kind) {
      case 'arrow':
        needs.fields.add(source.field);
        break;
      case 'decoded':
        needs.decode = true;
        break;
      case 'named': {
        const column = named[source.key];
        for (const f of column.fields) needs.fields.add(f);
        needs.decode ||= column.decoded === true;
        needs.track ||= column.tracked === true;
        break;
      }
      case 'tracked':
        needs.track = true;
        break;
      case 'computed':
        if (source.key === 'dropped') needs.fields.add('reason').add('func');
        break;
      case 'headers':
        needs.headers = true;
        break;
    }
  }
  if (needs.decode) {
    needs.headers = true;
    for (const f of DECODER_FIELDS) needs.fields.add(f);
  }
  if (needs.track) for (const f of TRACKER_FIELDS) needs.fields.add(f);
  return needs;
}
