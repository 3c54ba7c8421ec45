// docs/analysis.md is the contract users write queries against: it must list every column of
// every view, in order, and its example queries must run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type Session } from '../src/session.js';
import { writeScenario } from './scenario.js';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/analysis.md', import.meta.url)), 'utf8');

/** `### \`name\`` sections → the first column of their table. */
function documentedColumns(): Map<string, string[]> {
  const views = new Map<string, string[]>();
  for (const section of DOC.split(/^### /m).slice(1)) {
    const name = /^`(\w+)`/.exec(section)?.[1];
    if (!name) continue;
    const columns = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    views.set(name, columns);
  }
  return views;
}

let dir: string;
let session: Session;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skbtrail-docs-'));
  writeScenario(join(dir, 'r.skbtrail'));
  session = await openSession(join(dir, 'r.skbtrail'));
});

afterAll(() => {
  session?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/analysis.md', () => {
  it('documents every view and table, every column, in order', async () => {
    const documented = documentedColumns();
    const tables = (await session.connection.runAndReadAll("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"))
      .getColumnsJson()[0] as string[];
    expect([...documented.keys()].sort()).toEqual([...tables].sort());
    for (const [name, columns] of documented) {
      const described = (await session.connection.runAndReadAll(`SELECT column_name FROM (DESCRIBE ${name})`)).getColumnsJson()[0];
      expect(columns, name).toEqual(described);
    }
  });

  it('has example queries that run', async () => {
    const sql = /## Queries\n+```sql\n([\s\S]*?)```/.exec(DOC)?.[1] ?? '';
    const statements = sql.split(';').map((s) => s.replace(/^--.*$/gm, '').trim()).filter(Boolean);
    expect(statements.length).toBeGreaterThan(3);
    for (const statement of statements) {
      const rows = (await session.connection.runAndReadAll(statement)).getRowObjectsJson();
      expect(rows.length, statement).toBeGreaterThan(0);
    }
  });
});
