// Both readers must tell the same story about a file: openRecordingFile (columns on demand)
// and openRecording (the whole file through Arrow).
import type { Data } from 'apache-arrow';
import { expect } from 'vitest';
import { EVENT_COLUMNS, ReadBuffers, openRecording, openRecordingFile, type FixedColumnName } from '../src/index.js';

function outcome<T>(fn: () => T): { value: T } | { error: { code: unknown; message: string } } {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: { code: (err as { code?: unknown }).code, message: (err as Error).message } };
  }
}

/** Both readers agree on this file: metadata, warnings, every column of every batch, or the refusal. */
export function expectSameStory(path: string): void {
  const eager = outcome(() => openRecording(path));
  const lazy = outcome(() => openRecordingFile(path));
  if ('error' in eager) {
    expect(lazy, path).toEqual(eager);
    return;
  }
  if (!('value' in lazy)) throw new Error(`${path}: lazy reader refused: ${lazy.error.message}`);
  const [e, l] = [eager.value, lazy.value];
  try {
    expect({ version: l.version, meta: l.meta, end: l.end, complete: l.complete, warnings: l.warnings }).toEqual({
      version: e.version,
      meta: e.meta,
      end: e.end,
      complete: e.complete,
      warnings: e.warnings,
    });
    expect(l.kallsyms).toEqual(e.kallsyms);
    expect(l.stacks).toEqual(e.stacks);
    expect(l.batches.map((b) => b.rows)).toEqual(e.batches.map((b) => b.numRows));
    expect(l.events).toBe(e.batches.reduce((n, b) => n + b.numRows, 0));
    const buffers = new ReadBuffers();
    e.batches.forEach((batch, i) => {
      const child = (name: string): Data => batch.data.children[batch.schema.fields.findIndex((f) => f.name === name)];
      for (const name of EVENT_COLUMNS) {
        if (name === 'headers') {
          const data = child(name);
          const got = l.readHeaders(i, buffers);
          const offsets = (data.valueOffsets as Int32Array).subarray(data.offset, data.offset + batch.numRows + 1);
          expect([...got.offsets]).toEqual([...offsets]);
          expect(Buffer.from(got.bytes).equals(Buffer.from((data.values as Uint8Array).subarray(0, offsets[batch.numRows])))).toBe(true);
        } else {
          const data = child(name);
          expect([...l.readColumn(i, name as FixedColumnName, buffers)], name).toEqual([...(data.values as ArrayLike<unknown>)].slice(0, batch.numRows));
        }
      }
      const dictionary = child('comm').dictionary;
      if (i === e.batches.length - 1 && dictionary) expect([...l.comms]).toEqual([...dictionary]);
    });
  } finally {
    l.close();
  }
}
