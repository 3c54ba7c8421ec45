// Recordings written with LZ4_FRAME body compression (the native addon's encoder): both readers
// read them exactly as the uncompressed copy, cut or whole, and refuse what they cannot read.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompressionType, RecordBatchStreamWriter, compressionRegistry, type Data } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../src/flatmessage.js';
import { decodeLz4FrameToNew } from '../src/lz4.js';
import { EVENT_COLUMNS, ReadBuffers, RecordingWriter, openRecording, openRecordingFile, type Lz4FrameEncoder } from '../src/index.js';
import { expectSameStory } from './story.js';
import { sampleEnd, sampleMeta, sampleTables, syntheticBatch } from './synthetic.js';

const addon = fileURLToPath(new URL('../../../native/build/Release/skbtrail_native.node', import.meta.url));
const skipReason = existsSync(addon) ? null : 'native addon not built (npm run build -w native)';
if (skipReason && process.env.CI === 'true') throw new Error(`compressed-recording tests can't run in CI: ${skipReason}`);
const lz4Frame = skipReason ? null : (createRequire(import.meta.url)('@skbtrail/native') as { lz4Frame: Lz4FrameEncoder }).lz4Frame;

const dir = mkdtempSync(join(tmpdir(), 'skbtrail-lz4rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Batches of different sizes; batches 0, 2 and 3 bring new comms (a dictionary message first).
const SIZES = [40, 3000, 40, 5000, 1];
const NEW_COMMS = [['swapper/0'], [], ['ping', 'nginx'], ['curl'], []];
const EVENTS = SIZES.reduce((a, b) => a + b, 0);

/** Writes the recording; returns the file offset where each batch ends. */
function write(path: string, compress: boolean, close = true): number[] {
  const writer = RecordingWriter.create(path, sampleMeta(), { flushEvents: 1, ...(compress ? { lz4Frame: lz4Frame! } : {}) });
  const ends: number[] = [];
  let comms = 0;
  let first = 0;
  SIZES.forEach((n, i) => {
    comms += NEW_COMMS[i].length;
    writer.append(syntheticBatch(first, n, comms, NEW_COMMS[i]));
    first += n;
    ends.push(writer.bytesWritten);
  });
  if (close) writer.close(sampleEnd(EVENTS), sampleTables());
  return ends;
}

interface BufferPlace {
  /** file offset of the buffer's region */
  at: number;
  length: number;
  /** message index in the events stream, buffer index in its batch */
  message: number;
  buffer: number;
  dictionary: boolean;
}

/** Every buffer region of the events stream's batch and dictionary messages, with compression. */
function eventsBuffers(bytes: Uint8Array): { places: BufferPlace[]; compressed: boolean[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const places: BufferPlace[] = [];
  const compressed: boolean[] = [];
  for (let at = 0, message = 0; ; message++) {
    const metadataLength = view.getInt32(at + 4, true);
    if (metadataLength === 0) break; // end of the events stream
    const decoded = decodeMessage(bytes.subarray(at + 8, at + 8 + metadataLength))!;
    const body = at + 8 + metadataLength;
    const batch = decoded.recordBatch ?? decoded.dictionaryBatch?.data;
    if (batch) {
      compressed.push(batch.compression !== null);
      batch.buffers.forEach((b, buffer) => places.push({ at: body + b.offset, length: b.length, message, buffer, dictionary: !decoded.recordBatch }));
    }
    at = body + decoded.bodyLength;
  }
  return { places, compressed };
}

describe.skipIf(skipReason !== null)('an LZ4_FRAME-compressed recording', () => {
  const raw = join(dir, 'raw.skbtrail');
  const lz4 = join(dir, 'lz4.skbtrail');
  write(raw, false);
  const batchEnds = write(lz4, true);
  const bytes = new Uint8Array(readFileSync(lz4));

  it('compresses every events batch and dictionary, and is much smaller', () => {
    const { compressed } = eventsBuffers(bytes);
    expect(compressed.length).toBe(SIZES.length + 4); // 5 batches, func once, comm 3 times
    expect(compressed.every(Boolean)).toBe(true);
    expect(eventsBuffers(new Uint8Array(readFileSync(raw))).compressed.some(Boolean)).toBe(false);
    expect(bytes.byteLength).toBeLessThan(readFileSync(raw).byteLength / 3);
  });

  it('prefixes every compressed buffer with its uncompressed length, as the IPC format says (-1: stored)', () => {
    const { places } = eventsBuffers(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    let stored = 0;
    for (const p of places.filter((q) => q.length > 0)) {
      const prefix = Number(view.getBigInt64(p.at, true));
      const frame = bytes.subarray(p.at + 8, p.at + p.length);
      if (prefix === -1) stored++;
      else expect(decodeLz4FrameToNew(frame).byteLength, `message ${p.message} buffer ${p.buffer}`).toBe(prefix);
    }
    expect(stored).toBeGreaterThan(0); // a 1-event batch's buffers do not shrink
  });

  it('reads back exactly as the uncompressed copy, with both readers', () => {
    const [a, b] = [openRecording(raw), openRecording(lz4)];
    expect({ ...b, path: '', batches: [] }).toEqual({ ...a, path: '', batches: [] });
    expect(b.batches.map((x) => x.numRows)).toEqual(SIZES);
    a.batches.forEach((batch, i) => {
      for (const field of batch.schema.fields) {
        const values = (x: typeof batch, name: string): unknown[] => [...(x.getChild(name) as unknown as Iterable<unknown>)];
        expect(values(b.batches[i], field.name), `${field.name} of batch ${i}`).toEqual(values(batch, field.name));
      }
    });
    const lastComm = (r: typeof a): string[] => [...(r.batches[SIZES.length - 1].getChild('comm')!.data[0] as Data).dictionary!] as string[];
    expect(lastComm(b)).toEqual(['swapper/0', 'ping', 'nginx', 'curl']);

    expectSameStory(lz4);
    const [lr, lc] = [openRecordingFile(raw), openRecordingFile(lz4)];
    expect(lc.comms).toEqual(lr.comms);
    expect([lc.kallsyms, lc.stacks, lc.end, lc.warnings]).toEqual([lr.kallsyms, lr.stacks, lr.end, lr.warnings]);
    const [br, bc] = [new ReadBuffers(), new ReadBuffers()];
    SIZES.forEach((_, i) => {
      for (const name of EVENT_COLUMNS) {
        if (name === 'headers') {
          const [hr, hc] = [lr.readHeaders(i, br), lc.readHeaders(i, bc)];
          expect([...hc.offsets]).toEqual([...hr.offsets]);
          expect(Buffer.from(hc.bytes).equals(Buffer.from(hr.bytes))).toBe(true);
        } else {
          expect([...lc.readColumn(i, name, bc)], `${name} of batch ${i}`).toEqual([...lr.readColumn(i, name, br)]);
        }
      }
    });
    lr.close();
    lc.close();
  });

  it('decodes into the same buffers from batch to batch', () => {
    const rec = openRecordingFile(lz4);
    const buffers = new ReadBuffers();
    const first = rec.readColumn(3, 'ts', buffers); // the largest batch: later ones fit
    const headers = rec.readHeaders(3, buffers);
    for (const i of [0, 1, 2, 4]) {
      expect(rec.readColumn(i, 'ts', buffers).buffer).toBe(first.buffer);
      const h = rec.readHeaders(i, buffers);
      expect([h.offsets.buffer, h.bytes.buffer]).toEqual([headers.offsets.buffer, headers.bytes.buffer]);
    }
    rec.close();
  });

  it('keeps the complete batches of a cut file, with the same warning from both readers', () => {
    const cuts = new Set<number>();
    for (let c = batchEnds[0] - 50; c < bytes.byteLength; c += Math.ceil(bytes.byteLength / 25)) cuts.add(c);
    for (const end of batchEnds) for (const c of [end - 1, end, end + 1]) cuts.add(c);
    for (const cut of [...cuts].sort((x, y) => x - y)) {
      const path = join(dir, `cut-${cut}.skbtrail`);
      writeFileSync(path, bytes.subarray(0, cut));
      expectSameStory(path);
      const rec = openRecording(path);
      const kept = batchEnds.filter((end) => end <= cut).length;
      expect(rec.batches.length, `cut at ${cut}`).toBe(cut >= batchEnds[batchEnds.length - 1] ? SIZES.length : kept);
      expect(rec.warnings[0]).toMatch(/^recording was not closed cleanly \(recorder killed\?\): kept \d+ complete batch/);
      rmSync(path);
    }
  });

  it('reads a killed recorder\'s compressed batches', () => {
    const path = join(dir, 'killed.skbtrail');
    write(path, true, false);
    expectSameStory(path);
    expect(openRecordingFile(path).events).toBe(EVENTS);
  });

  it('says which column of which batch is damaged', () => {
    const { places } = eventsBuffers(bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    // the ts values of the fourth batch (the dictionaries of batches 0, 2, 3 come first)
    const ts = places.filter((p) => !p.dictionary && p.buffer === 1)[3];
    expect(Number(view.getBigInt64(ts.at, true))).toBeGreaterThan(0);
    const damaged = bytes.slice();
    damaged[ts.at + 8] ^= 0xff; // the frame's magic number
    const path = join(dir, 'damaged.skbtrail');
    writeFileSync(path, damaged);
    const rec = openRecordingFile(path);
    expect(() => rec.readColumn(3, 'ts', new ReadBuffers())).toThrow(
      expect.objectContaining({
        code: 'CORRUPT',
        message: `${path}: events table is damaged: column ts of batch 3: LZ4 frame: bad magic number 0x184d22fb at byte 0`,
      }),
    );
    expect([...rec.readColumn(3, 'len', new ReadBuffers())].length).toBe(SIZES[3]);
    rec.close();

    // a length prefix shorter than the column: the check batchPlace makes on uncompressed files
    const short = bytes.slice();
    new DataView(short.buffer).setBigInt64(ts.at, -1n, true); // "stored": the frame's bytes taken as the values
    writeFileSync(path, short);
    const cut = openRecordingFile(path);
    expect(() => cut.readColumn(3, 'ts', new ReadBuffers())).toThrow(`${path}: events table is damaged: column ts is shorter than its batch`);
    cut.close();
  });

  it('refuses a ZSTD-compressed recording with both readers', () => {
    // Arrow checks an encoder by its output's magic number; the refusal comes before any decoding.
    compressionRegistry.set(CompressionType.ZSTD, { encode: (data) => Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, ...data]) });
    const source = openRecording(raw);
    const writer = new RecordBatchStreamWriter({ compressionType: CompressionType.ZSTD });
    writer.reset(undefined, source.schema);
    for (const batch of source.batches) writer.write(batch);
    writer.finish();
    const path = join(dir, 'zstd.skbtrail');
    writeFileSync(path, writer.toUint8Array(true));
    const refusal = { code: 'UNSUPPORTED', message: `${path}: events table is ZSTD-compressed; this skbtrail reads LZ4_FRAME-compressed or uncompressed recordings only` };
    expect(() => openRecordingFile(path)).toThrow(expect.objectContaining(refusal));
    expectSameStory(path);
  });
});
