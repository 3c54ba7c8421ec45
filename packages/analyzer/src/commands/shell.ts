// skbtrail shell: an interactive SQL prompt over the views, like DuckDB's own shell: statements
// end with `;`, history is kept in ~/.skbtrail_history, and dot commands list the views
// (.tables), describe them (.schema [name]), switch the output (.mode table|json|csv) and quit.
// Piped input works too (no prompt, as DuckDB does); then a failed statement makes the exit code 1.
import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AnalyzerError, errorLine, toAnalyzerError } from '../errors.js';
import { FORMATS, type Format, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import { type CommandIo, queryRows, renderSql, withSession } from './common.js';

const HELP = `.help                 this text
.tables               the views and tables
.schema [name]        their columns (all, or one)
.mode table|json|csv  how results print
.quit                 leave (also .exit, Ctrl-D)
SQL statements end with ; and may span lines.
`;

function shellError(message: string, hint: string): AnalyzerError {
  return new AnalyzerError('USAGE', message, hint);
}

function historyFile(): string {
  return process.env.SKBTRAIL_HISTORY ?? join(homedir(), '.skbtrail_history');
}

/** Saved lines, most recent first (what readline's history option wants). */
function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

function saveHistory(line: string): void {
  try {
    appendFileSync(historyFile(), `${line.replace(/\n/g, ' ')}\n`);
  } catch {
    // a read-only home is no reason to stop the shell
  }
}

async function tableNames(session: Session): Promise<string[]> {
  const rows = await queryRows(session, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1");
  return rows.map((r) => String(r.name));
}

/** Names in columns, like DuckDB's .tables. */
function columnsText(names: string[]): string {
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const perLine = Math.max(1, Math.floor(80 / width));
  let text = '';
  names.forEach((n, i) => (text += (i % perLine === perLine - 1 || i === names.length - 1 ? `${n}\n` : n.padEnd(width))));
  return text;
}

/** CREATE statements showing each view's columns (ENUM member lists shortened to ENUM). */
async function schemaText(session: Session, name: string | undefined): Promise<string> {
  const names = await tableNames(session);
  const wanted = name === undefined ? names : names.filter((n) => n === name);
  if (wanted.length === 0) throw shellError(`no view or table named ${name}`, '.tables lists them');
  const kinds = new Map(
    (await queryRows(session, "SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = 'main'")).map((r) => [
      String(r.name),
      String(r.type),
    ]),
  );
  let text = '';
  for (const n of wanted) {
    const columns = await queryRows(session, `SELECT column_name AS c, column_type AS t FROM (DESCRIBE "${n}")`);
    const list = columns.map((c) => `  ${c.c} ${String(c.t).startsWith('ENUM(') ? 'ENUM' : c.t}`).join(',\n');
    text += `CREATE ${kinds.get(n) === 'VIEW' ? 'VIEW' : 'TABLE'} ${n}(\n${list}\n);\n`;
  }
  return text;
}

export async function shell(files: string[], opts: { format: Format }, io: CommandIo): Promise<number> {
  return withSession(files, io, async (session) => {
    const interactive = process.stdin.isTTY === true;
    let mode: Format = opts.format;
    let failed = false;
    const rl = createInterface({
      input: process.stdin,
      output: interactive ? process.stdout : undefined,
      terminal: interactive,
      history: interactive ? loadHistory() : [],
      historySize: 1000,
      prompt: 'skbtrail> ',
    });
    const report = (err: unknown): void => {
      failed = true;
      io.warn(errorLine(toAnalyzerError(err)));
    };
    if (interactive) {
      await io.out.write(`skbtrail shell over ${files.join(', ')}: ${session.events} events. Enter ".help" for usage hints.\n`);
      rl.prompt();
    }
    let pending = '';
    for await (const line of rl) {
      const trimmed = line.trim();
      if (pending === '' && trimmed.startsWith('.')) {
        if (interactive) saveHistory(trimmed);
        const [command, arg] = trimmed.split(/\s+/);
        try {
          if (command === '.quit' || command === '.exit') break;
          else if (command === '.help') await io.out.write(HELP);
          else if (command === '.tables') await io.out.write(columnsText(await tableNames(session)));
          else if (command === '.schema') await io.out.write(await schemaText(session, arg));
          else if (command === '.mode') {
            if (!(FORMATS as readonly string[]).includes(arg)) throw shellError(`.mode ${arg ?? ''}: not a mode`, `use one of ${FORMATS.join(', ')}`);
            mode = arg as Format;
          } else throw shellError(`unknown command ${command}`, '.help lists them');
        } catch (err) {
          report(err);
        }
      } else if (trimmed !== '' || pending !== '') {
        pending += `${line}\n`;
        if (trimmed.endsWith(';')) {
          const sql = pending;
          pending = '';
          if (interactive) saveHistory(sql.trim());
          try {
            await renderSql(session, sql, sinkFor(mode, io.out));
          } catch (err) {
            report(err);
          }
        }
      }
      if (interactive) rl.setPrompt(pending === '' ? 'skbtrail> ' : '     ...> ');
      if (interactive) rl.prompt();
    }
    if (pending.trim() !== '') {
      try {
        await renderSql(session, pending, sinkFor(mode, io.out));
      } catch (err) {
        report(err);
      }
    }
    rl.close();
    return failed && !interactive ? 1 : 0;
  });
}
