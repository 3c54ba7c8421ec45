import { Binary, type DataType, Dictionary, Field, Int32, Int64, List, Schema, Uint16, Uint32, Uint64, Uint8, Utf8 } from 'apache-arrow';
import type { EndMeta, StartMeta } from './types.js';

import {
  COMM_DICTIONARY_ID,
  EVENT_COLUMNS,
  type EventColumnName,
  FORMAT_ID,
  FUNC_DICTIONARY_ID,
  META_KEY,
  RETVAL_COLUMN,
  SKB_DATA_COLUMN,
  type TableName,
} from './constants.js';

export { COMM_DICTIONARY_ID, EVENT_COLUMNS, FORMAT_ID, FORMAT_VERSION, FUNC_DICTIONARY_ID, META_KEY } from './constants.js';
export type { EventColumnName, TableName } from './constants.js';

/** The events table in column order (constants.ts has the same, as type names). */
const EVENT_TYPES: Record<EventColumnName, DataType> = {
  ts: new Uint64(),
  cpu: new Uint16(),
  pid: new Uint32(),
  comm: new Dictionary(new Utf8(), new Int32(), COMM_DICTIONARY_ID),
  skb: new Uint64(),
  func: new Dictionary(new Utf8(), new Uint16(), FUNC_DICTIONARY_ID),
  netns: new Uint32(),
  ifindex: new Uint32(),
  mark: new Uint32(),
  len: new Uint32(),
  mtu: new Uint32(),
  protocol: new Uint16(),
  pkt_type: new Uint8(),
  reason: new Uint32(),
  location: new Uint64(),
  stack_id: new Int32(),
  has_mac: new Uint8(),
  net_off: new Uint16(),
  trans_off: new Uint16(),
  headers: new Binary(),
};


function tableMetadata(table: TableName, version: string, extra: [string, string][] = []): Map<string, string> {
  return new Map([
    [META_KEY.format, FORMAT_ID],
    [META_KEY.version, version],
    [META_KEY.table, table],
    ...extra,
  ]);
}

export function eventsSchema(meta: StartMeta, version: string): Schema {
  const fields = EVENT_COLUMNS.map((name) => new Field(name, EVENT_TYPES[name], false));
  if (meta.probes.some((p) => p.kind === 'fexit' || p.kind === 'kretprobe')) fields.push(new Field(RETVAL_COLUMN, new Int64(), false));
  if (meta.skb) fields.push(new Field(SKB_DATA_COLUMN, new Binary(), false));
  return new Schema(fields, tableMetadata('events', version, [[META_KEY.start, JSON.stringify(meta)]]));
}

export function kallsymsSchema(version: string): Schema {
  const fields = [
    new Field('addr', new Uint64(), false),
    new Field('name', new Utf8(), false),
    new Field('module', new Utf8(), true),
  ];
  return new Schema(fields, tableMetadata('kallsyms', version));
}

export function stacksSchema(version: string): Schema {
  const fields = [
    new Field('stack_id', new Int32(), false),
    new Field('frames', new List(new Field('item', new Uint64(), false)), false),
  ];
  return new Schema(fields, tableMetadata('stacks', version));
}

/** No columns: the stream exists to carry EndMeta, and its presence marks a complete recording. */
export function endSchema(end: EndMeta, version: string): Schema {
  return new Schema([], tableMetadata('end', version, [[META_KEY.end, JSON.stringify(end)]]));
}

/** The expected type of each events column, as Arrow prints it (for checking a file's schema). */
export function eventColumnTypeName(name: EventColumnName): string {
  return String(EVENT_TYPES[name]);
}
