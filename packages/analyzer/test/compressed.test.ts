// The analyzer gives the same answers on an LZ4_FRAME-compressed recording as on the
// uncompressed copy of the same events (the CLI as users run it, against the built dist).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Lz4FrameEncoder } from '@skbtrail/format';
import { writeScenario } from './scenario.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/skbtrail.js');
const skipReason = existsSync(join(ROOT, 'native/build/Release/skbtrail_native.node')) ? null : 'native addon not built (npm run build -w native)';
if (skipReason && process.env.CI === 'true') throw new Error(`compressed-recording tests can't run in CI: ${skipReason}`);

function skbtrail(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(skipReason !== null)('a compressed recording', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skbtrail-analyzer-lz4-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const raw = join(dir, 'raw.skbtrail');
  const lz4 = join(dir, 'lz4.skbtrail');
  if (!skipReason) {
    writeScenario(raw);
    writeScenario(lz4, { lz4Frame: (createRequire(import.meta.url)('@skbtrail/native') as { lz4Frame: Lz4FrameEncoder }).lz4Frame });
  }

  it('is written compressed', () => {
    expect(statSync(lz4).size).not.toBe(statSync(raw).size);
  });

  const analyses: [string, string[]][] = [
    ['drops', ['drops']],
    ['query', ['query', 'SELECT count(*), sum(len), string_agg(DISTINCT comm, \',\' ORDER BY comm), max(saddr) FROM events']],
    ['show', ['show', '--limit', '100']],
    ['paths', ['paths']],
  ];
  for (const [name, [command, ...args]] of analyses) {
    it(`gives the same ${name} output`, () => {
      const [a, b] = [skbtrail(command, raw, ...args), skbtrail(command, lz4, ...args)];
      expect(a.code, a.stderr).toBe(0);
      expect(b).toEqual({ ...a, stdout: a.stdout.replaceAll(raw, lz4), stderr: a.stderr.replaceAll(raw, lz4) });
    });
  }
});
