// skbtrail query: the user's SQL against the views.
import { type CommandIo, type FormatOptions, renderSqlAs, withSession } from './common.js';

export async function query(file: string, sql: string, opts: FormatOptions, io: CommandIo): Promise<void> {
  await withSession(file, io, (session) => renderSqlAs(session, sql, opts.format, io));
}
