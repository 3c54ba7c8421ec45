/**
 * DESIGN.md's one-way data flow, checked on the sources: the privileged recorder never loads
 * DuckDB or analyzer code, the analyzer never loads the native addon, and only the format
 * package touches Arrow's IPC layer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './netlab.js';

function importsOf(pkg: string): { file: string; spec: string }[] {
  const dir = path.join(ROOT, 'packages', pkg, 'src');
  const out: { file: string; spec: string }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const src = fs.readFileSync(p, 'utf8');
        for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) out.push({ file: path.relative(ROOT, p), spec: m[1] });
      }
    }
  };
  walk(dir);
  return out;
}

describe('package layering', () => {
  it('keeps DuckDB and the analyzer out of the recorder', () => {
    const bad = importsOf('recorder').filter((i) => /duckdb|@skbtrail\/analyzer|apache-arrow/.test(i.spec));
    expect(bad).toEqual([]);
  });

  it('keeps the native addon and the recorder out of the analyzer', () => {
    const bad = importsOf('analyzer').filter((i) => /@skbtrail\/(native|recorder)/.test(i.spec));
    expect(bad).toEqual([]);
  });

  it('leaves Arrow IPC to the format package', () => {
    const bad = ['analyzer', 'recorder'].flatMap((p) => importsOf(p)).filter((i) => /apache-arrow\/ipc/.test(i.spec));
    expect(bad).toEqual([]);
  });
});
