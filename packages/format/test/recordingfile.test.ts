// openRecordingFile reads columns on demand; for every file it must tell the same story as
// openRecording (which reads the whole file): same batches, values, warnings and refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, ReadBuffers, RecordingWriter, openRecordingFile } from '../src/index.js';
import { expectSameStory } from './story.js';
import { sampleEnd, sampleMeta, sampleTables, syntheticBatch } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'skbtrail-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NEW_COMMS = [['swapper/0'], [], ['ping', 'nginx'], ['curl'], []];
const BATCH = 40;

function write(path: string, close: boolean): void {
  const writer = RecordingWriter.create(path, sampleMeta(), { flushEvents: 1 });
  let comms = 0;
  NEW_COMMS.forEach((fresh, i) => {
    comms += fresh.length;
    writer.append(syntheticBatch(i * BATCH, BATCH, comms, fresh));
  });
  if (close) writer.close(sampleEnd(NEW_COMMS.length * BATCH), sampleTables());
}

describe('openRecordingFile', () => {
  const full = join(dir, 'full.skbtrail');
  write(full, true);
  const bytes = readFileSync(full);

  it('reads a complete recording like openRecording', () => {
    expectSameStory(full);
    const rec = openRecordingFile(full);
    expect(rec.comms).toEqual(['swapper/0', 'ping', 'nginx', 'curl']);
    expect(rec.events).toBe(200);
    expect(rec.batches.map((b) => b.firstRow)).toEqual([0, 40, 80, 120, 160]);
    rec.close();
  });

  it('keeps the same batches and warnings wherever the file is cut', () => {
    for (let cut = 0; cut < bytes.length; cut += 23) {
      const path = join(dir, `cut-${cut}.skbtrail`);
      writeFileSync(path, bytes.subarray(0, cut));
      expectSameStory(path);
      rmSync(path);
    }
  });

  it('agrees on recordings killed before close, garbage after them, and files that are no recordings', () => {
    const killed = join(dir, 'killed.skbtrail');
    write(killed, false);
    expectSameStory(killed);
    const garbage = join(dir, 'garbage.skbtrail');
    writeFileSync(garbage, Buffer.concat([readFileSync(killed), Buffer.from('not ipc at all')]));
    expectSameStory(garbage);
    const table = tableFromArrays({ x: Int32Array.of(1, 2, 3) });
    for (const [name, content] of [
      ['table.arrow', tableToIPC(table, 'file')],
      ['table.arrows', tableToIPC(table, 'stream')],
      ['notes.txt', 'hello\n'],
      ['empty', ''],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, content);
      expectSameStory(path);
    }
    expectSameStory(join(dir, 'missing.skbtrail'));
  });

  it('reuses one buffer per column from batch to batch', () => {
    const rec = openRecordingFile(full);
    const buffers = new ReadBuffers();
    const first = rec.readColumn(0, 'ts', buffers);
    const second = rec.readColumn(1, 'ts', buffers);
    expect(second.buffer).toBe(first.buffer);
    expect(second[0]).toBe(1_000_000_000n + 40n * 1000n);
    rec.close();
  });
});

describe('the format constants the lazy reader checks against', () => {
  it('name every events column type as the writer builds it', async () => {
    const { EVENT_COLUMN_TYPES } = await import('../src/constants.js');
    const { eventColumnTypeName } = await import('../src/schema.js');
    for (const name of EVENT_COLUMNS) expect(EVENT_COLUMN_TYPES[name], name).toBe(eventColumnTypeName(name));
  });
});
