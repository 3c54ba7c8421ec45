import { closeSync, fsyncSync, openSync, writeSync, writevSync } from 'node:fs';
import type { Schema, Utf8, Vector } from 'apache-arrow';
import { eventsBatch, kallsymsBatch, stacksBatch, utf8Vector } from './batches.js';
import { type Lz4FrameEncoder, registerLz4Encoder } from './codec.js';
import { EventConcatenator } from './concat.js';
import { IpcStreamEncoder, encodeStream } from './ipcout.js';
import { FORMAT_VERSION, endSchema, eventsSchema, kallsymsSchema, stacksSchema } from './schema.js';
import type { EndMeta, EventColumns, ProbeInfo, RecordingTables, StartMeta } from './types.js';

export interface WriterOptions {
  /** write a batch once this many events are buffered (default 65536) */
  flushEvents?: number;
  /** write a batch when an append comes this long after the last write (default 1000) */
  flushMs?: number;
  /**
   * Compress the events stream's batches and dictionaries (Arrow IPC body compression, codec
   * LZ4_FRAME) with this LZ4 frame encoder. The small tables after it stay uncompressed.
   */
  lz4Frame?: Lz4FrameEncoder;
}

/** Tests only: a file claiming another format version, to exercise the reader's version check. */
export interface InternalWriterOptions extends WriterOptions {
  formatVersion?: string;
}

/** The func dictionary: probe names indexed by probe id. */
function probeNames(probes: readonly ProbeInfo[]): string[] {
  const names = new Array<string>(probes.length);
  for (const p of probes) {
    if (!Number.isInteger(p.id) || p.id < 0 || p.id >= probes.length || names[p.id] !== undefined) {
      throw new RangeError(`probe ids must be dense from 0 and unique: ${probes.map((q) => q.id).join(',')}`);
    }
    names[p.id] = p.name;
  }
  return names;
}

function checkIndices(what: string, indices: Int32Array | Uint16Array, length: number, size: number): void {
  for (let i = 0; i < length; i++) {
    const v = indices[i];
    if (v < 0 || v >= size) throw new RangeError(`${what} index ${v} at row ${i} is outside its dictionary (${size} entries)`);
  }
}

/**
 * Writes a recording: the events stream grows by one IPC batch per flush (one write each),
 * so a killed recorder leaves every flushed batch readable. close() appends the tables and
 * the end stream that mark the recording complete.
 */
export class RecordingWriter {
  private readonly fd: number;
  private readonly version: string;
  private readonly schema: Schema;
  private readonly events: IpcStreamEncoder;
  private readonly flushEvents: number;
  private readonly flushMs: number;
  private readonly funcDictionary: Vector<Utf8>;
  private readonly comms: string[] = [];
  /** rebuilt when comms grow; the IPC writer then sends it as a replacement dictionary */
  private commDictionary: Vector<Utf8> = utf8Vector([]);
  private readonly concatenator = new EventConcatenator();
  private pending: EventColumns[] = [];
  private pendingEvents = 0;
  private lastFlush = Date.now();
  private written = 0;
  private bytes = 0;
  private closed = false;

  /** Creates (or truncates) path and writes the events schema, with meta, right away. */
  static create(path: string, meta: StartMeta, opts: WriterOptions = {}): RecordingWriter {
    const fd = openSync(path, 'w');
    try {
      return new RecordingWriter(fd, meta, opts);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private constructor(fd: number, meta: StartMeta, opts: InternalWriterOptions) {
    this.fd = fd;
    this.version = opts.formatVersion ?? FORMAT_VERSION;
    this.flushEvents = opts.flushEvents ?? 65536;
    this.flushMs = opts.flushMs ?? 1000;
    this.funcDictionary = utf8Vector(probeNames(meta.probes));
    this.schema = eventsSchema(meta, this.version);
    if (opts.lz4Frame) registerLz4Encoder(opts.lz4Frame);
    this.events = new IpcStreamEncoder(this.schema, opts.lz4Frame !== undefined);
    this.writeOut(this.events.start());
  }

  /** Events in batches already written to the file. */
  get eventsWritten(): number {
    return this.written;
  }

  get bytesWritten(): number {
    return this.bytes;
  }

  /**
   * Buffers the batch (keeping references to its arrays until the next flush: don't reuse
   * them), then flushes if enough events are buffered or enough time has passed.
   */
  append(batch: EventColumns): void {
    this.assertOpen();
    checkIndices('comm', batch.comm, batch.length, this.comms.length + batch.newComms.length);
    checkIndices('probe', batch.probe, batch.length, this.funcDictionary.length);
    for (const comm of batch.newComms) this.comms.push(comm);
    if (batch.length > 0) {
      this.pending.push(batch);
      this.pendingEvents += batch.length;
    }
    if (this.pendingEvents >= this.flushEvents || Date.now() - this.lastFlush >= this.flushMs) this.flush();
  }

  /** Writes the buffered events as one batch (nothing when none are buffered). */
  flush(): void {
    this.assertOpen();
    this.lastFlush = Date.now();
    if (this.pendingEvents === 0) return;
    const cols = this.concatenator.concat(this.pending);
    this.pending = [];
    this.pendingEvents = 0;
    if (this.commDictionary.length !== this.comms.length) this.commDictionary = utf8Vector(this.comms);
    this.writeOut(this.events.write(eventsBatch(this.schema, cols, this.commDictionary, this.funcDictionary)));
    this.written += cols.length;
  }

  /** Writes the last batch, ends the events stream, appends kallsyms, stacks and end, and syncs. */
  close(end: EndMeta, tables: RecordingTables): void {
    this.flush();
    const { kallsyms, stacks } = tables;
    const kallsymsTable = kallsymsSchema(this.version);
    const stacksTable = stacksSchema(this.version);
    this.writeOut([
      ...this.events.end(),
      ...encodeStream(kallsymsTable, kallsyms.addr.length > 0 ? [kallsymsBatch(kallsymsTable, kallsyms)] : []),
      ...encodeStream(stacksTable, stacks.id.length > 0 ? [stacksBatch(stacksTable, stacks)] : []),
      ...encodeStream(endSchema(end, this.version), []),
    ]);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }

  /** One writev for all chunks (no joining copy); a short write is finished chunk by chunk. */
  private writeOut(chunks: Uint8Array[]): void {
    let skip = writevSync(this.fd, chunks);
    for (const chunk of chunks) {
      this.bytes += chunk.byteLength;
      for (let at = Math.min(skip, chunk.byteLength); at < chunk.byteLength; ) {
        at += writeSync(this.fd, chunk, at, chunk.byteLength - at);
      }
      skip -= Math.min(skip, chunk.byteLength);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('RecordingWriter is closed');
  }
}

/** Writes a whole recording at once (tests, synthetic recordings). */
export function writeRecording(
  path: string,
  meta: StartMeta,
  batches: readonly EventColumns[],
  end: EndMeta,
  tables: RecordingTables,
  opts?: WriterOptions,
): void {
  const writer = RecordingWriter.create(path, meta, opts);
  for (const batch of batches) writer.append(batch);
  writer.close(end, tables);
}
