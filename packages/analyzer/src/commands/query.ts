// skbtrail query: the user's SQL against the views of one or more recordings.
import { type CommandIo, type FormatOptions, renderSqlAs, withSession } from './common.js';

export async function query(files: string[], sql: string, opts: FormatOptions, io: CommandIo): Promise<void> {
  await withSession(files, io, (session) => renderSqlAs(session, sql, opts.format, io));
}
