import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Data, type RecordBatch, type Vector, tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS, FORMAT_VERSION, type EventColumns, RecordingWriter, openRecording, writeRecording } from '../src/index.js';
import { EventConcatenator } from '../src/concat.js';
import { sampleEnd, sampleMeta, sampleTables, syntheticBatch } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'skbtrail-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One column over all batches, from its value buffers (indices for dictionaries). */
function columnValues(batches: RecordBatch[], name: string): unknown[] {
  const values = (d: Data) => [...(d.values as Uint8Array).subarray(d.offset, d.offset + d.length)];
  return batches.flatMap((b) => (b.getChild(name) as Vector).data.flatMap(values));
}

const SOURCE: Record<string, keyof EventColumns> = { func: 'probe' };

describe('a recording written and read back', () => {
  const path = join(dir, 'roundtrip.skbtrail');
  const comms = ['swapper/0', 'ping', 'nginx', 'curl', 'kworker/1:2'];
  const input = [
    syntheticBatch(0, 1000, 2, comms.slice(0, 2)),
    syntheticBatch(1000, 700, 2),
    syntheticBatch(1700, 1300, 4, comms.slice(2, 4)),
    syntheticBatch(3000, 10, 5, comms.slice(4)),
  ];
  const all = new EventConcatenator().concat(input);
  const writer = RecordingWriter.create(path, sampleMeta(), { flushEvents: 1 });
  for (const batch of input) writer.append(batch);
  writer.close(sampleEnd(all.length), sampleTables());
  const rec = openRecording(path);

  it('is complete, with no warnings, at the current format version', () => {
    expect(rec.complete).toBe(true);
    expect(rec.warnings).toEqual([]);
    expect(rec.version).toBe(FORMAT_VERSION);
    expect(writer.eventsWritten).toBe(all.length);
  });

  it('keeps one Arrow batch per flush, with every column in contract order', () => {
    expect(rec.batches.map((b) => b.numRows)).toEqual([1000, 700, 1300, 10]);
    expect(rec.schema.fields.map((f) => f.name)).toEqual(EVENT_COLUMNS);
    expect(rec.schema.fields.every((f) => !f.nullable)).toBe(true);
  });

  it('returns every fixed-width column unchanged', () => {
    for (const name of EVENT_COLUMNS.filter((n) => n !== 'headers')) {
      const source = all[SOURCE[name] ?? (name as keyof EventColumns)] as Iterable<unknown>;
      expect(columnValues(rec.batches, name), name).toEqual([...source]);
    }
  });

  it('decodes comm through a dictionary that grew across batches', () => {
    const last = rec.batches[rec.batches.length - 1].getChild('comm')!;
    expect([...last.data[0].dictionary!]).toEqual(comms);
    const decoded = rec.batches.flatMap((b) => [...b.getChild('comm')!]);
    expect(decoded).toEqual([...all.comm].map((i) => comms[i]));
  });

  it('names func by probe id from the start metadata', () => {
    const names = sampleMeta().probes.map((p) => p.name);
    const decoded = rec.batches.flatMap((b) => [...b.getChild('func')!]);
    expect(decoded).toEqual([...all.probe].map((id) => names[id]));
  });

  it('returns the captured header bytes per event', () => {
    const headers = rec.batches.flatMap((b) => [...b.getChild('headers')!] as Uint8Array[]);
    expect(headers).toHaveLength(all.length);
    for (const i of [0, 1, 60, 61, 999, 1000, 2500, all.length - 1]) {
      expect(headers[i], `event ${i}`).toEqual(all.headers.subarray(all.headerOffsets[i], all.headerOffsets[i + 1]));
    }
  });

  it('opens as a plain Arrow stream of the events, without skbtrail code', () => {
    const table = tableFromIPC(readFileSync(path));
    expect(table.numRows).toBe(all.length);
    expect(table.schema.metadata.get('skbtrail.table')).toBe('events');
    expect(JSON.parse(table.schema.metadata.get('skbtrail.meta')!)).toEqual(sampleMeta());
    expect(table.get(all.length - 1)?.toJSON()).toMatchObject({ comm: comms[all.comm[all.length - 1]], len: all.len[all.length - 1] });
  });

  it('returns the start and end metadata and the symbol tables', () => {
    expect(rec.meta).toEqual(sampleMeta());
    expect(rec.end).toEqual(sampleEnd(all.length));
    expect(rec.kallsyms).toEqual(sampleTables().kallsyms);
    expect(rec.stacks).toEqual(new Map([[0, [0xffffffff81000010n]], [7, [1n, 2n, 3n]]]));
  });
});

describe('batching', () => {
  it('buffers appends until flushEvents are reached and writes the rest at close', () => {
    const path = join(dir, 'batching.skbtrail');
    const writer = RecordingWriter.create(path, sampleMeta(), { flushEvents: 2500, flushMs: 60_000 });
    const sizes = [1000, 1000, 1000, 300, 2200, 50];
    let first = 0;
    sizes.forEach((n, i) => {
      writer.append(syntheticBatch(first, n, 1, i === 0 ? ['a'] : []));
      first += n;
    });
    expect(writer.eventsWritten).toBe(5500);
    writer.close(sampleEnd(first), sampleTables());
    expect(openRecording(path).batches.map((b) => b.numRows)).toEqual([3000, 2500, 50]);
  });

  it('flushes on append once flushMs have passed since the last write', async () => {
    const path = join(dir, 'timed.skbtrail');
    // Generous times: a loaded 2-core machine may take tens of ms between two statements.
    const writer = RecordingWriter.create(path, sampleMeta(), { flushMs: 500 });
    writer.append(syntheticBatch(0, 10, 1, ['a']));
    expect(writer.eventsWritten).toBe(0);
    await new Promise((r) => setTimeout(r, 600));
    writer.append(syntheticBatch(10, 10, 1));
    expect(writer.eventsWritten).toBe(20);
    writer.close(sampleEnd(20), sampleTables());
  });

  it('refuses a comm index the dictionary does not hold and a probe id without a name', () => {
    const writer = RecordingWriter.create(join(dir, 'bad.skbtrail'), sampleMeta());
    expect(() => writer.append(syntheticBatch(0, 10, 3, ['a', 'b']))).toThrow(/comm index 2 at row 2/);
    const bad = syntheticBatch(0, 10, 1, ['a']);
    bad.probe[5] = 9;
    expect(() => writer.append(bad)).toThrow(/probe index 9 at row 5/);
  });
});

describe('an empty recording', () => {
  it('round-trips with zero events and its metadata', () => {
    const path = join(dir, 'empty.skbtrail');
    writeRecording(path, sampleMeta(), [], sampleEnd(0), {
      kallsyms: { addr: new BigUint64Array(0), name: [], module: [] },
      stacks: { id: new Int32Array(0), frames: [] },
    });
    const rec = openRecording(path);
    expect(rec.complete).toBe(true);
    expect(rec.warnings).toEqual([]);
    expect(rec.batches).toEqual([]);
    expect(rec.schema.fields.map((f) => f.name)).toEqual(EVENT_COLUMNS);
    expect(rec.meta).toEqual(sampleMeta());
    expect(rec.end).toEqual(sampleEnd(0));
    expect(rec.kallsyms).toEqual({ addr: new BigUint64Array(0), name: [], module: [] });
    expect(rec.stacks).toEqual(new Map());
  });
});
