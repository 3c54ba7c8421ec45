import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingWriter, openRecording } from '../src/index.js';
import { sampleEnd, sampleMeta, sampleTables, syntheticBatch } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'skbtrail-trunc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Five batches of 40 events; batches 0, 2 and 3 bring new comms (a dictionary message first).
const BATCH = 40;
const NEW_COMMS = [['swapper/0'], [], ['ping', 'nginx'], ['curl'], []];

/** Writes the recording, noting the file offset where each part ends. */
function writeNoted(path: string, close: boolean): { header: number; batchEnds: number[]; eventsEnd: number } {
  const writer = RecordingWriter.create(path, sampleMeta(), { flushEvents: 1 });
  const header = writer.bytesWritten;
  const batchEnds: number[] = [];
  let comms = 0;
  NEW_COMMS.forEach((fresh, i) => {
    comms += fresh.length;
    writer.append(syntheticBatch(i * BATCH, BATCH, comms, fresh));
    batchEnds.push(writer.bytesWritten);
  });
  if (close) writer.close(sampleEnd(NEW_COMMS.length * BATCH), sampleTables());
  return { header, batchEnds, eventsEnd: batchEnds[batchEnds.length - 1] + 8 };
}

function truncatedCopy(bytes: Uint8Array, cut: number): string {
  const path = join(dir, `cut-${cut}.skbtrail`);
  writeFileSync(path, bytes.subarray(0, cut));
  return path;
}

describe('a recording cut short', () => {
  const full = join(dir, 'full.skbtrail');
  const { header, batchEnds, eventsEnd } = writeNoted(full, true);
  const bytes = readFileSync(full);
  const boundaries = [header, ...batchEnds, eventsEnd, bytes.length];
  const cuts = new Set<number>();
  for (let c = header; c < bytes.length; c += 37) cuts.add(c);
  for (const b of boundaries) for (const c of [b - 1, b, b + 1]) if (c >= header && c < bytes.length) cuts.add(c);

  it('keeps exactly the batches written completely before each cut, and says what was lost', () => {
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const rec = openRecording(truncatedCopy(bytes, cut));
      const kept = batchEnds.filter((end) => end <= cut).length;
      expect(rec.batches.length, `cut at ${cut}`).toBe(kept);
      expect(rec.complete).toBe(false);
      expect(rec.end).toBeNull();
      expect(rec.warnings).toHaveLength(1);
      const warning = rec.warnings[0];
      const batches = kept === 1 ? 'batch' : 'batches';
      expect(warning).toMatch(
        `recording was not closed cleanly (recorder killed?): kept ${kept} complete ${batches} (${kept * BATCH} events); lost `,
      );
      expect(warning).toMatch(/the stop time, lost-event counts/);
      if (cut < eventsEnd) {
        expect(warning, `cut at ${cut}`).toMatch(/and the kallsyms\/stacks needed to symbolize locations$/);
        // a cut between a batch's dictionary message and its record batch message drops no partial bytes
        const partial = /lost (\d+) bytes of a partial batch/.exec(warning);
        const lastBoundary = Math.max(...boundaries.filter((b) => b <= cut));
        if (cut === lastBoundary) expect(partial, `cut at ${cut}`).toBeNull();
        if (partial) expect(Number(partial[1])).toBeLessThanOrEqual(cut - lastBoundary);
      }
    }
  });

  it('counts the bytes of the partial batch it dropped', () => {
    // batch 1 brings no new comm, so its bytes are a single message
    const cut = batchEnds[0] + 100;
    expect(openRecording(truncatedCopy(bytes, cut)).warnings[0]).toBe(
      'recording was not closed cleanly (recorder killed?): kept 1 complete batch (40 events); ' +
        'lost 100 bytes of a partial batch, the stop time, lost-event counts ' +
        'and the kallsyms/stacks needed to symbolize locations',
    );
  });

  it('keeps every event and the tables already written when cut after the events stream', () => {
    const rec = openRecording(truncatedCopy(bytes, bytes.length - 1));
    expect(rec.batches).toHaveLength(NEW_COMMS.length);
    expect(rec.kallsyms).toEqual(sampleTables().kallsyms);
    expect(rec.stacks?.size).toBe(2);
    expect(rec.warnings[0]).toMatch(/lost \d+ bytes of a partial table and the stop time, lost-event counts$/);
  });

  it('reads the uncut file as complete', () => {
    const rec = openRecording(full);
    expect(rec.complete).toBe(true);
    expect(rec.warnings).toEqual([]);
  });

  it('refuses a file cut inside its first message: there is nothing to recover', () => {
    for (const cut of [1, 7, 8, header - 1]) {
      expect(() => openRecording(truncatedCopy(bytes, cut))).toThrow(
        expect.objectContaining({ code: 'CORRUPT', message: expect.stringMatching(/truncated inside its first message/) }),
      );
    }
  });
});

describe('a recorder killed before close()', () => {
  it('leaves a file whose flushed batches read back, with a warning', () => {
    const path = join(dir, 'killed.skbtrail');
    writeNoted(path, false);
    const rec = openRecording(path);
    expect(rec.batches.map((b) => b.numRows)).toEqual(NEW_COMMS.map(() => BATCH));
    expect([...rec.batches[4].getChild('comm')!.data[0].dictionary!]).toEqual(['swapper/0', 'ping', 'nginx', 'curl']);
    expect(rec.meta).toEqual(sampleMeta());
    expect(rec.complete).toBe(false);
    expect(rec.end).toBeNull();
    expect(rec.kallsyms).toBeNull();
    expect(rec.stacks).toBeNull();
    expect(rec.warnings).toEqual([
      'recording was not closed cleanly (recorder killed?): kept 5 complete batches (200 events); ' +
        'lost the stop time, lost-event counts and the kallsyms/stacks needed to symbolize locations',
    ]);
  });

  it('leaves a readable zero-event file when killed before the first flush', () => {
    const path = join(dir, 'killed-early.skbtrail');
    RecordingWriter.create(path, sampleMeta()).append(syntheticBatch(0, 10, 1, ['a']));
    const rec = openRecording(path);
    expect(rec.batches).toEqual([]);
    expect(rec.meta).toEqual(sampleMeta());
    expect(rec.warnings[0]).toMatch(/kept 0 complete batches \(0 events\)/);
  });

  it('keeps the complete batches when garbage follows them', () => {
    const path = join(dir, 'garbage-tail.skbtrail');
    writeNoted(path, false);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('not ipc at all')]));
    const rec = openRecording(path);
    expect(rec.batches).toHaveLength(5);
    expect(rec.warnings[0]).toMatch(/kept 5 complete batches \(200 events\); lost 14 unreadable bytes, the stop time/);
  });
});
