// The recordings a session analyzes, as one sequence of event batches (recording by recording,
// in file order), and a loader that brings one batch's needed columns into reused memory.
import { type ColumnArray, type FixedColumnName, FormatError, ReadBuffers, type RecordingFile, openRecordingFile } from '@skbtrail/format/file';
import type { HeaderSource } from './decode.js';
import { fromFormatError } from './errors.js';

export interface DatasetBatch {
  /** index into Dataset.recordings */
  recording: number;
  /** the batch's index in its recording */
  batch: number;
  rows: number;
  /** number of the batch's first event in the whole dataset (what rows := [...] counts) */
  first: number;
  /** number of the batch's first event in its recording (seq) */
  seq: number;
}

export class Dataset {
  readonly batches: DatasetBatch[] = [];
  readonly total: number;
  /** index in batches of each recording's first batch */
  private readonly starts: number[] = [];

  private constructor(
    readonly recordings: RecordingFile[],
    /** what the recording column shows: the path as given */
    readonly labels: string[],
  ) {
    let first = 0;
    recordings.forEach((rec, recording) => {
      this.starts.push(this.batches.length);
      rec.batches.forEach((b, batch) => {
        this.batches.push({ recording, batch, rows: b.rows, first, seq: b.firstRow });
        first += b.rows;
      });
    });
    this.total = first;
  }

  static open(paths: string[]): Dataset {
    const recordings: RecordingFile[] = [];
    try {
      for (const path of paths) recordings.push(openRecordingFile(path));
    } catch (err) {
      for (const rec of recordings) rec.close();
      throw err instanceof FormatError ? fromFormatError(err) : err;
    }
    // The same file given twice still needs two names to tell its copies apart.
    const labels = paths.map((p, i) => (paths.indexOf(p) === i ? p : `${p} (${paths.slice(0, i + 1).filter((q) => q === p).length})`));
    return new Dataset(recordings, labels);
  }

  /** index in batches of a recording's batch */
  indexOf(recording: number, batch: number): number {
    return this.starts[recording] + batch;
  }

  close(): void {
    for (const rec of this.recordings) rec.close();
  }
}

/** The columns a scan reads from the file. */
export interface ColumnNeeds {
  fields: Set<FixedColumnName>;
  headers: boolean;
}

export function needs(): ColumnNeeds {
  return { fields: new Set(), headers: false };
}

const EMPTY_U32 = new Uint32Array(0);

/** One batch's columns, as far as they were read; the rest are empty arrays. */
export class LoadedBatch {
  constructor(
    readonly index: number,
    readonly info: DatasetBatch,
    private readonly columns: Map<FixedColumnName, ColumnArray>,
    readonly headers: HeaderSource,
  ) {}

  get rows(): number {
    return this.info.rows;
  }

  field<T extends ColumnArray>(name: FixedColumnName): T {
    return (this.columns.get(name) ?? EMPTY_U32) as T;
  }

  /** a 64-bit column as little-endian 32-bit word pairs (no BigInt per row) */
  words(name: 'ts' | 'skb' | 'location'): Uint32Array {
    const column = this.columns.get(name);
    return column ? new Uint32Array(column.buffer, column.byteOffset, column.length * 2) : EMPTY_U32;
  }
}

/**
 * Reads batches for one scan: each needed column of the batch into this loader's own buffers
 * (a batch replaces the previous one), so a scan over the whole recording touches fresh
 * memory once per column, not once per batch.
 */
export class BatchLoader {
  private readonly buffers = new ReadBuffers();
  private current: LoadedBatch | null = null;

  constructor(
    private readonly dataset: Dataset,
    private readonly wanted: ColumnNeeds,
  ) {}

  load(index: number): LoadedBatch {
    if (this.current?.index === index) return this.current;
    const info = this.dataset.batches[index];
    const rec = this.dataset.recordings[info.recording];
    const columns = new Map<FixedColumnName, ColumnArray>();
    for (const name of this.wanted.fields) columns.set(name, rec.readColumn(info.batch, name, this.buffers));
    const headers = this.wanted.headers ? rec.readHeaders(info.batch, this.buffers) : { offsets: new Int32Array(1), bytes: new Uint8Array(0) };
    const field = <T extends ColumnArray>(name: FixedColumnName): T => (columns.get(name) ?? EMPTY_U32) as T;
    this.current = new LoadedBatch(index, info, columns, {
      bytes: headers.bytes,
      offsets: headers.offsets,
      protocol: field<Uint16Array>('protocol'),
      hasMac: field<Uint8Array>('has_mac'),
      netOff: field<Uint16Array>('net_off'),
    });
    return this.current;
  }
}
