// What every analysis command shares: its options, opening the recording (warnings to stderr
// once), and running SQL whose failures are the user's to fix.
import { fromSqlError, isSqlError } from '../errors.js';
import type { Output } from '../output.js';
import { type Format, type Sink, renderResult, sinkFor } from '../render.js';
import { type Session, openSession } from '../session.js';

export interface CommandIo {
  out: Output;
  /** one diagnostic line on stderr */
  warn(line: string): void;
}

export interface FormatOptions {
  format: Format;
}

export async function withSession<T>(file: string, io: CommandIo, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(file);
  try {
    for (const warning of session.warnings) io.warn(`skbtrail: warning: ${warning}`);
    return await fn(session);
  } finally {
    session.close();
  }
}

/** DuckDB's errors (while preparing or while streaming) become SQL errors, exit 1; ours pass. */
async function asSql<T>(work: () => Promise<T>): Promise<T> {
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

/** Runs SQL whose one column is event numbers (seq). */
export async function querySeqs(session: Session, sql: string): Promise<number[]> {
  return asSql(async () => (await session.connection.runAndReadAll(sql)).getColumnsJson()[0]?.map(Number) ?? []);
}

export async function renderSqlAs(session: Session, sql: string, format: Format, io: CommandIo): Promise<void> {
  await renderSql(session, sql, sinkFor(format, io.out));
}
