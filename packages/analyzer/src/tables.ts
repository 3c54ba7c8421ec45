// The small tables recordings carry beside their events (probes, drop reasons, namespaces,
// interfaces, symbols, stacks, metadata), loaded with appenders: strings from the file never
// become SQL text. Each row names its recording, so tables of several recordings stay apart.
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { RecordingFile } from '@skbtrail/format/file';
import { ifacesOf, merged, netnsOf } from './names.js';
import type { Symbolizer } from './symbols.js';

type Cell = string | number | bigint | null;

async function fill(con: DuckDBConnection, table: string, rows: Iterable<Cell[]>, append: (a: DuckDBAppender, row: Cell[]) => void): Promise<void> {
  const appender = await con.createAppender(table);
  for (const row of rows) {
    append(appender, row);
    appender.endRow();
  }
  appender.closeSync();
}

function varchar(a: DuckDBAppender, v: Cell): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(String(v));
}

export interface RecordingTables {
  recording: RecordingFile;
  label: string;
  symbolizer: Symbolizer;
  meta: [string, string | null][];
}

export async function createTables(con: DuckDBConnection): Promise<void> {
  await con.run(`
    CREATE TABLE comms (id INTEGER, name VARCHAR, recording VARCHAR);
    CREATE TABLE funcs (id USMALLINT, name VARCHAR, kind VARCHAR, target VARCHAR, recording VARCHAR);
    CREATE TABLE reasons (value UINTEGER, name VARCHAR, recording VARCHAR);
    CREATE TABLE netns (inode UINTEGER, name VARCHAR, source VARCHAR, recording VARCHAR);
    CREATE TABLE ifaces (netns UINTEGER, ifindex UINTEGER, name VARCHAR, mtu UINTEGER, recording VARCHAR);
    CREATE TABLE kallsyms (addr UBIGINT, name VARCHAR, module VARCHAR, recording VARCHAR);
    CREATE TABLE stacks (stack_id INTEGER, depth INTEGER, addr UBIGINT, symbol VARCHAR, recording VARCHAR);
    CREATE TABLE meta (key VARCHAR, value VARCHAR, recording VARCHAR);
  `);
}

export async function loadTables(con: DuckDBConnection, t: RecordingTables): Promise<void> {
  const { recording: rec, label } = t;
  const { meta: start } = rec;
  await fill(con, 'comms', rec.comms.map((name, id) => [id, name, label]), (a, [id, ...text]) => {
    a.appendInteger(id as number);
    text.forEach((v) => varchar(a, v));
  });
  await fill(con, 'funcs', start.probes.map((p) => [p.id, p.name, p.kind, p.target, label]), (a, [id, ...text]) => {
    a.appendUSmallInt(id as number);
    text.forEach((v) => varchar(a, v));
  });
  const reasons = merged(start.dropReasons, [], (r) => String(r.value));
  await fill(con, 'reasons', reasons.map((r) => [r.value, r.name, label]), (a, [value, ...text]) => {
    a.appendUInteger(value as number);
    text.forEach((v) => varchar(a, v));
  });
  await fill(con, 'netns', netnsOf(rec).map((n) => [n.inode, n.name, n.source, label]), (a, [inode, ...text]) => {
    a.appendUInteger(inode as number);
    text.forEach((v) => varchar(a, v));
  });
  await fill(con, 'ifaces', ifacesOf(rec).map((i) => [i.netns, i.ifindex, i.name, i.mtu ?? null, label]), (a, [ns, ifindex, name, mtu, l]) => {
    a.appendUInteger(ns as number);
    a.appendUInteger(ifindex as number);
    varchar(a, name);
    if (mtu === null) a.appendNull();
    else a.appendUInteger(mtu as number);
    varchar(a, l);
  });
  await fill(con, 'kallsyms', t.symbolizer.symbols.map((k) => [k.addr, k.name, k.module, label]), (a, [addr, ...text]) => {
    a.appendUBigInt(addr as bigint);
    text.forEach((v) => varchar(a, v));
  });
  const frames: Cell[][] = [];
  const stacks = [...(rec.stacks ?? [])].sort(([a], [b]) => a - b);
  for (const [id, stack] of stacks) stack.forEach((addr, depth) => frames.push([id, depth, addr, t.symbolizer.text(addr), label]));
  await fill(con, 'stacks', frames, (a, [id, depth, addr, ...text]) => {
    a.appendInteger(id as number);
    a.appendInteger(depth as number);
    a.appendUBigInt(addr as bigint);
    text.forEach((v) => varchar(a, v));
  });
  await fill(con, 'meta', t.meta.map(([k, v]) => [k, v, label]), (a, row) => row.forEach((v) => varchar(a, v)));
}
