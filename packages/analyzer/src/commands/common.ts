// What every analysis command shares: its options, opening the recordings (warnings to stderr
// once), running SQL whose failures are the user's to fix, and the --by field lists.
import { AnalyzerError, fromSqlError, isSqlError, usageError } from '../errors.js';
import type { Output } from '../output.js';
import { type Format, type Sink, renderResult, sinkFor } from '../render.js';
import { type Session, type SessionOptions, openSession } from '../session.js';
import type { Value } from '../values.js';

export interface CommandIo {
  out: Output;
  /** one diagnostic line on stderr */
  warn(line: string): void;
}

export interface FormatOptions {
  format: Format;
}

export async function withSession<T>(
  files: string | string[],
  io: CommandIo,
  fn: (session: Session) => Promise<T>,
  opts: SessionOptions = {},
): Promise<T> {
  const session = await openSession(files, opts);
  try {
    for (const warning of session.warnings) io.warn(`skbtrail: warning: ${warning}`);
    return await fn(session);
  } finally {
    session.close();
  }
}

/** DuckDB's errors (while preparing or while streaming) become SQL errors, exit 1; ours pass. */
export async function asSql<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isSqlError(err) ? fromSqlError(err) : err;
  }
}

/** Runs SQL and renders its result. */
export async function renderSql(session: Session, sql: string, sink: Sink): Promise<void> {
  await asSql(async () => renderResult(await session.connection.stream(sql), sink));
}

export async function renderSqlAs(session: Session, sql: string, format: Format, io: CommandIo): Promise<void> {
  await renderSql(session, sql, sinkFor(format, io.out));
}

/** Runs SQL whose one column is numbers (event or packet numbers). */
export async function queryNumbers(session: Session, sql: string): Promise<number[]> {
  return asSql(async () => (await session.connection.runAndReadAll(sql)).getColumnsJson()[0]?.map(Number) ?? []);
}

/** Runs SQL and returns its rows as objects (JSON-friendly values). */
export async function queryRows(session: Session, sql: string): Promise<Record<string, Value>[]> {
  return asSql(async () => (await session.connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, Value>[]);
}

/** A string as a SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `--where` text as a parenthesized condition, or TRUE. */
export function condition(where: string | undefined): string {
  return where ? `(${where})` : 'TRUE';
}

/** A field a --by list may name: its SQL over the events view and its output column. */
export interface ByField {
  name: string;
  sql: string;
}

export const BY_FIELDS: Record<string, ByField[]> = {
  reason: [{ name: 'reason', sql: 'reason' }],
  location: [{ name: 'location', sql: 'location' }],
  func: [{ name: 'func', sql: 'func' }],
  probe: [{ name: 'func', sql: 'func' }],
  netns: [{ name: 'netns', sql: 'coalesce(netns_name, CAST(netns AS VARCHAR))' }],
  ifname: [{ name: 'ifname', sql: 'coalesce(ifname, CASE WHEN ifindex <> 0 THEN CAST(ifindex AS VARCHAR) END)' }],
  saddr: [{ name: 'saddr', sql: 'saddr' }],
  daddr: [{ name: 'daddr', sql: 'daddr' }],
  sport: [{ name: 'sport', sql: 'sport' }],
  dport: [{ name: 'dport', sql: 'dport' }],
  proto: [{ name: 'proto', sql: 'proto' }],
  comm: [{ name: 'comm', sql: 'comm' }],
  cpu: [{ name: 'cpu', sql: 'cpu' }],
  mark: [{ name: 'mark', sql: 'mark' }],
  tuple: ['saddr', 'daddr', 'sport', 'dport', 'proto'].map((f) => ({ name: f, sql: f })),
};

const ADDRESS_FIELDS = new Set(['saddr', 'daddr', 'tuple']);

/** The --by list ("netns,ifname,tuple") as fields, without duplicates; usage error for unknown names. */
export function byFields(list: string | undefined, allowed: string[], command: string, fallback: string[] = []): ByField[] {
  const names = list === undefined ? fallback : list.split(',').map((s) => s.trim()).filter(Boolean);
  const fields: ByField[] = [];
  for (const name of names) {
    if (!allowed.includes(name)) throw usageError(`--by ${name}: not a field to group by (one of ${allowed.join(', ')})`, command);
    for (const f of BY_FIELDS[name]) if (!fields.some((g) => g.name === f.name)) fields.push(f);
  }
  return fields;
}

/** Whether grouping by these names needs the session's address collection. */
export function needsAddresses(list: string | undefined, where?: string): boolean {
  if (where !== undefined) return true;
  return (list ?? '').split(',').some((n) => ADDRESS_FIELDS.has(n.trim()));
}

export function lacks(message: string, hint: string): AnalyzerError {
  return new AnalyzerError('LACKS', message, hint);
}

export function noSuch(message: string, hint: string): AnalyzerError {
  return new AnalyzerError('NO_SUCH', message, hint);
}

/** The recording's probes by name; a named probe it lacks is a failure naming the ones it has. */
export function checkProbe(session: Session, name: string): void {
  const probes = session.recording.meta.probes.map((p) => p.name);
  if (!probes.includes(name)) {
    throw noSuch(`${name} is not a probe of this recording (it has ${probes.join(', ')})`, 'pick one of its probes');
  }
}
