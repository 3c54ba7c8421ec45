// The small tables a recording carries beside its events (probes, drop reasons, namespaces,
// interfaces, symbols, stacks, metadata), loaded with appenders: strings from the file never
// become SQL text.
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import type { IfaceInfo, NetnsInfo, Recording } from '@skbtrail/format';
import { merged } from './names.js';
import type { Symbolizer } from './symbols.js';

type Cell = string | number | bigint | null;

async function fill(
  con: DuckDBConnection,
  table: string,
  rows: Iterable<Cell[]>,
  append: (a: DuckDBAppender, row: Cell[]) => void,
): Promise<void> {
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

export interface TableInputs {
  comms: string[];
  symbolizer: Symbolizer;
  meta: [string, string | null][];
}

export async function loadTables(con: DuckDBConnection, recording: Recording, inputs: TableInputs): Promise<void> {
  const { meta: start, end } = recording;
  await con.run(`
    CREATE TABLE comms (id INTEGER, name VARCHAR);
    CREATE TABLE funcs (id USMALLINT, name VARCHAR, kind VARCHAR, target VARCHAR);
    CREATE TABLE reasons (value UINTEGER, name VARCHAR);
    CREATE TABLE netns (inode UINTEGER, name VARCHAR, source VARCHAR);
    CREATE TABLE ifaces (netns UINTEGER, ifindex UINTEGER, name VARCHAR, mtu UINTEGER);
    CREATE TABLE kallsyms (addr UBIGINT, name VARCHAR, module VARCHAR);
    CREATE TABLE stacks (stack_id INTEGER, depth INTEGER, addr UBIGINT, symbol VARCHAR);
    CREATE TABLE meta (key VARCHAR, value VARCHAR);
  `);
  await fill(con, 'comms', inputs.comms.map((name, id) => [id, name]), (a, [id, name]) => {
    a.appendInteger(id as number);
    varchar(a, name);
  });
  await fill(con, 'funcs', start.probes.map((p) => [p.id, p.name, p.kind, p.target]), (a, [id, ...text]) => {
    a.appendUSmallInt(id as number);
    text.forEach((t) => varchar(a, t));
  });
  const reasons = merged(start.dropReasons, [], (r) => String(r.value));
  await fill(con, 'reasons', reasons.map((r) => [r.value, r.name]), (a, [value, name]) => {
    a.appendUInteger(value as number);
    varchar(a, name);
  });
  const netns = merged<NetnsInfo>(start.netns, end?.netns, (n) => String(n.inode));
  await fill(con, 'netns', netns.map((n) => [n.inode, n.name, n.source]), (a, [inode, ...text]) => {
    a.appendUInteger(inode as number);
    text.forEach((t) => varchar(a, t));
  });
  const ifaces = merged<IfaceInfo>(start.ifaces, end?.ifaces, (i) => `${i.netns}/${i.ifindex}`);
  await fill(con, 'ifaces', ifaces.map((i) => [i.netns, i.ifindex, i.name, i.mtu ?? null]), (a, [ns, ifindex, name, mtu]) => {
    a.appendUInteger(ns as number);
    a.appendUInteger(ifindex as number);
    varchar(a, name);
    if (mtu === null) a.appendNull();
    else a.appendUInteger(mtu as number);
  });
  await fill(con, 'kallsyms', inputs.symbolizer.symbols.map((k) => [k.addr, k.name, k.module]), (a, [addr, name, module]) => {
    a.appendUBigInt(addr as bigint);
    varchar(a, name);
    varchar(a, module);
  });
  const frames: Cell[][] = [];
  const stacks = [...(recording.stacks ?? [])].sort(([a], [b]) => a - b);
  for (const [id, stack] of stacks) stack.forEach((addr, depth) => frames.push([id, depth, addr, inputs.symbolizer.text(addr)]));
  await fill(con, 'stacks', frames, (a, [id, depth, addr, symbol]) => {
    a.appendInteger(id as number);
    a.appendInteger(depth as number);
    a.appendUBigInt(addr as bigint);
    varchar(a, symbol);
  });
  await fill(con, 'meta', inputs.meta, (a, [key, value]) => {
    varchar(a, key);
    varchar(a, value);
  });
}
