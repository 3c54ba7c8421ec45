import { RecordBatch, RecordBatchReader, Schema, Table, Uint64, Vector, tableFromIPC } from 'apache-arrow';
import { FormatError } from './errors.js';
import { type IpcScan, type IpcStreamSpan, scanIpcStreams } from './framing.js';
import { readWholeFile } from './readfile.js';
import { EVENT_COLUMNS, FORMAT_ID, FORMAT_VERSION, META_KEY, type TableName, eventColumnTypeName } from './schema.js';
import type { EndMeta, KallsymsTable, Recording, StartMeta } from './types.js';

const READS_MAJOR = Number(FORMAT_VERSION.split('.')[0]);
const ARROW_FILE_MAGIC = 'ARROW1';

/** Why the file holds no stream at all. */
function noStreamError(path: string, bytes: Uint8Array, scan: IpcScan): FormatError {
  if (bytes.byteLength === 0) return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (empty file)`);
  if (new TextDecoder().decode(bytes.subarray(0, 6)) === ARROW_FILE_MAGIC) {
    return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (an Arrow IPC file, not an skbtrail stream)`);
  }
  const startsLikeIpc = bytes.subarray(0, 4).every((b) => b === 0xff);
  if (scan.stop === 'partial' && startsLikeIpc) {
    return new FormatError('CORRUPT', `${path}: truncated inside its first message (${bytes.byteLength} bytes): nothing to recover`);
  }
  return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (no Arrow IPC stream at its start)`);
}

/** The first stream's metadata says it is an skbtrail recording this reader understands. */
function checkEventsSchema(path: string, schema: Schema): { version: string; meta: StartMeta } {
  const md = schema.metadata;
  if (md.get(META_KEY.format) !== FORMAT_ID || md.get(META_KEY.table) !== 'events') {
    throw new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (an Arrow stream without skbtrail metadata)`);
  }
  const version = md.get(META_KEY.version) ?? '';
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new FormatError('CORRUPT', `${path}: unreadable recording format version "${version}"`);
  const major = Number(match[1]);
  if (major > READS_MAJOR) {
    throw new FormatError(
      'NEWER_VERSION',
      `${path}: recording format ${major}.x is newer than this skbtrail (reads ${READS_MAJOR}.x): upgrade skbtrail`,
    );
  }
  if (major < READS_MAJOR) throw new FormatError('CORRUPT', `${path}: unknown recording format version ${version}`);
  for (const name of EVENT_COLUMNS) {
    const field = schema.fields.find((f) => f.name === name);
    const want = eventColumnTypeName(name);
    if (!field || String(field.type) !== want) {
      throw new FormatError('CORRUPT', `${path}: events column ${name} is missing or not of type ${want}`);
    }
  }
  return { version, meta: parseJson<StartMeta>(path, md.get(META_KEY.start), META_KEY.start) };
}

function parseJson<T>(path: string, text: string | undefined, key: string): T {
  try {
    return JSON.parse(text ?? '') as T;
  } catch (err) {
    throw new FormatError('CORRUPT', `${path}: metadata ${key} is not valid JSON`, { cause: err });
  }
}

function streamBytes(bytes: Uint8Array, span: IpcStreamSpan): Uint8Array {
  return bytes.subarray(span.start, span.end);
}

/** The events batches, as Arrow views over the file buffer (the empty-stream placeholder dropped). */
function readEventBatches(path: string, bytes: Uint8Array, span: IpcStreamSpan): RecordBatch[] {
  try {
    const reader = RecordBatchReader.from(streamBytes(bytes, span));
    const batches: RecordBatch[] = [];
    for (const batch of reader) if (batch.numRows > 0) batches.push(batch);
    return batches;
  } catch (err) {
    throw new FormatError('CORRUPT', `${path}: events table is damaged: ${(err as Error).message}`, { cause: err });
  }
}

function readTable(path: string, bytes: Uint8Array, span: IpcStreamSpan, name: TableName): Table {
  try {
    return tableFromIPC(streamBytes(bytes, span));
  } catch (err) {
    throw new FormatError('CORRUPT', `${path}: ${name} table is damaged: ${(err as Error).message}`, { cause: err });
  }
}

function column<T extends Vector>(table: Table, name: string): T {
  return table.getChild(name) as T;
}

function kallsymsFrom(table: Table): KallsymsTable {
  return {
    addr: table.numRows > 0 ? column<Vector<Uint64>>(table, 'addr').toArray() : new BigUint64Array(0),
    name: [...column<Vector>(table, 'name')] as string[],
    module: [...column<Vector>(table, 'module')] as (string | null)[],
  };
}

function stacksFrom(table: Table): Map<number, bigint[]> {
  const ids = column<Vector>(table, 'stack_id');
  const frames = column<Vector>(table, 'frames');
  const stacks = new Map<number, bigint[]>();
  for (let i = 0; i < table.numRows; i++) stacks.set(ids.get(i) as number, [...(frames.get(i) as Vector<Uint64>).toArray()]);
  return stacks;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function listPhrase(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What a recording that was not closed cleanly lost, in one sentence. */
function truncationWarning(
  events: RecordBatch[],
  eventsEnded: boolean,
  unread: { bytes: number; partial: boolean },
  missing: { end: boolean; kallsyms: boolean; stacks: boolean },
): string {
  const rows = events.reduce((n, b) => n + b.numRows, 0);
  const lost: string[] = [];
  if (unread.bytes > 0 && unread.partial) lost.push(`${unread.bytes} bytes of a partial ${eventsEnded ? 'table' : 'batch'}`);
  if (unread.bytes > 0 && !unread.partial) lost.push(`${unread.bytes} unreadable bytes`);
  if (missing.end) lost.push('the stop time, lost-event counts');
  const tables = [missing.kallsyms && 'kallsyms', missing.stacks && 'stacks'].filter((t): t is string => !!t);
  if (tables.length > 0) lost.push(`the ${tables.join('/')} needed to symbolize locations`);
  return (
    `recording was not closed cleanly (recorder killed?): ` +
    `kept ${plural(events.length, 'complete batch', 'complete batches')} (${plural(rows, 'event', 'events')}); ` +
    `lost ${listPhrase(lost)}`
  );
}

/**
 * Opens a recording: validates it, returns its events as Arrow RecordBatches (no per-row
 * objects) with the metadata and symbol tables. A truncated file yields its complete
 * batches and a warning saying what was lost.
 */
export function openRecording(path: string): Recording {
  const bytes = readWholeFile(path);
  const scan = scanIpcStreams(bytes);
  const [eventsSpan, ...tableSpans] = scan.streams;
  if (!eventsSpan) throw noStreamError(path, bytes, scan);
  const { version, meta } = checkEventsSchema(path, eventsSpan.schema);
  const batches = readEventBatches(path, bytes, eventsSpan);

  // Later minor versions may add streams; read the known ones, skip the rest.
  const spans = new Map<string, IpcStreamSpan>();
  for (const span of tableSpans) {
    const table = span.schema.metadata.get(META_KEY.table);
    if (span.ended && table !== undefined) spans.set(table, span);
  }
  const kallsymsSpan = spans.get('kallsyms');
  const stacksSpan = spans.get('stacks');
  const endSpan = spans.get('end');
  const kallsyms = kallsymsSpan ? kallsymsFrom(readTable(path, bytes, kallsymsSpan, 'kallsyms')) : null;
  const stacks = stacksSpan ? stacksFrom(readTable(path, bytes, stacksSpan, 'stacks')) : null;
  const end = endSpan ? parseJson<EndMeta>(path, endSpan.schema.metadata.get(META_KEY.end), META_KEY.end) : null;
  const complete = end !== null && kallsyms !== null && stacks !== null && eventsSpan.ended;

  const unread = bytes.byteLength - scan.stoppedAt;
  const warnings: string[] = [];
  if (!complete) {
    const missing = { end: end === null, kallsyms: kallsyms === null, stacks: stacks === null };
    const partial = scan.stop === 'partial';
    warnings.push(truncationWarning(batches, eventsSpan.ended, { bytes: unread, partial }, missing));
  } else if (unread > 0) {
    warnings.push(`ignored ${unread} bytes after the end of the recording`);
  }
  return { path, version, meta, end, complete, warnings, schema: eventsSpan.schema, batches, kallsyms, stacks };
}
