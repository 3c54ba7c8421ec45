import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, openRecording, writeRecording } from '../src/index.js';
import type { InternalWriterOptions } from '../src/writer.js';
import { sampleEnd, sampleMeta, sampleTables, syntheticBatch } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'skbtrail-refuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(path: string): FormatError {
  try {
    openRecording(path);
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw err;
  }
  throw new Error(`${path} was opened`);
}

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function recordingAtVersion(name: string, formatVersion: string): string {
  const path = join(dir, name);
  const opts: InternalWriterOptions = { formatVersion };
  writeRecording(path, sampleMeta(), [syntheticBatch(0, 10, 1, ['a'])], sampleEnd(10), sampleTables(), opts);
  return path;
}

describe('files that are not skbtrail recordings', () => {
  const table = tableFromArrays({ x: Int32Array.of(1, 2, 3) });

  it('refuses an Arrow IPC file', () => {
    const err = refusal(file('table.arrow', tableToIPC(table, 'file')));
    expect(err.code).toBe('NOT_A_RECORDING');
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/table\.arrow: not an skbtrail recording \(an Arrow IPC file/);
  });

  it('refuses an Arrow stream without skbtrail metadata', () => {
    const err = refusal(file('table.arrows', tableToIPC(table, 'stream')));
    expect(err.code).toBe('NOT_A_RECORDING');
    expect(err.message).toMatch(/not an skbtrail recording \(an Arrow stream without skbtrail metadata\)/);
  });

  it('refuses random bytes, text and an empty file', () => {
    const random = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    for (const [name, bytes] of [['random.bin', random], ['notes.txt', 'hello\n'], ['empty', '']] as const) {
      const err = refusal(file(name, bytes));
      expect(err.code, name).toBe('NOT_A_RECORDING');
      expect(err.message).toMatch(/not an skbtrail recording/);
    }
  });

  it('reports a missing path and an unreadable one', () => {
    expect(refusal(join(dir, 'nope.skbtrail'))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no such file/) });
    expect(refusal(dir)).toMatchObject({ code: 'UNREADABLE' });
  });
});

describe('format versions', () => {
  it('refuses a newer major version and says to upgrade', () => {
    const err = refusal(recordingAtVersion('v2.skbtrail', '2.0'));
    expect(err.code).toBe('NEWER_VERSION');
    expect(err.message).toMatch(/recording format 2\.x is newer than this skbtrail \(reads 1\.x\): upgrade skbtrail$/);
  });

  it('reads a newer minor version of the same major', () => {
    const rec = openRecording(recordingAtVersion('v1.7.skbtrail', '1.7'));
    expect(rec.version).toBe('1.7');
    expect(rec.complete).toBe(true);
    expect(rec.batches[0].numRows).toBe(10);
  });
});
