// What the format promises, without loading Arrow: version, metadata keys, column names, and the
// events columns' types as Arrow prints them (schema.ts builds the types; a test keeps both equal).

/** major.minor: a major bump breaks old readers (they refuse the file); a minor bump only adds. */
export const FORMAT_VERSION = '1.1';
export const FORMAT_ID = 'skbtrail-recording';

/** Schema custom-metadata keys, present on every stream of a recording. */
export const META_KEY = {
  format: 'skbtrail.format',
  version: 'skbtrail.version',
  table: 'skbtrail.table',
  start: 'skbtrail.meta',
  end: 'skbtrail.end',
} as const;

export type TableName = 'events' | 'kallsyms' | 'stacks' | 'end';

export const COMM_DICTIONARY_ID = 0;
export const FUNC_DICTIONARY_ID = 1;

/** The events table in column order, each with its Arrow type's printed name. */
export const EVENT_COLUMN_TYPES = {
  ts: 'Uint64',
  cpu: 'Uint16',
  pid: 'Uint32',
  comm: 'Dictionary<Int32, Utf8>',
  skb: 'Uint64',
  func: 'Dictionary<Uint16, Utf8>',
  netns: 'Uint32',
  ifindex: 'Uint32',
  mark: 'Uint32',
  len: 'Uint32',
  mtu: 'Uint32',
  protocol: 'Uint16',
  pkt_type: 'Uint8',
  reason: 'Uint32',
  location: 'Uint64',
  stack_id: 'Int32',
  has_mac: 'Uint8',
  net_off: 'Uint16',
  trans_off: 'Uint16',
  headers: 'Binary',
} as const;

export type EventColumnName = keyof typeof EVENT_COLUMN_TYPES;

/** Optional events column: fexit events' return values, when StartMeta.probes has an fexit probe (--backend fentry). */
export const RETVAL_COLUMN = 'retval' as const;

/** Optional last events column: the raw struct sk_buff of every event, when StartMeta.skb says so (--output-skb). */
export const SKB_DATA_COLUMN = 'skb_data';
export const EVENT_COLUMNS: readonly EventColumnName[] = Object.keys(EVENT_COLUMN_TYPES) as EventColumnName[];
