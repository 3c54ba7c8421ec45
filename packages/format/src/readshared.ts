// What both readers (reader.ts reads the whole file, recordingfile.ts reads on demand) decide
// the same way: is this a recording they can read, what its tables hold, what a cut file lost.
// No Arrow values are imported here: each reader passes in what it decoded with its own Arrow.
import type { Table, Uint64, Vector } from 'apache-arrow';
import { EVENT_COLUMNS, EVENT_COLUMN_TYPES, FORMAT_ID, FORMAT_VERSION, META_KEY, RETVAL_COLUMN, type TableName } from './constants.js';
import { FormatError } from './errors.js';
import type { KallsymsTable, StartMeta } from './types.js';

const READS_MAJOR = Number(FORMAT_VERSION.split('.')[0]);
const ARROW_FILE_MAGIC = 'ARROW1';

/** Why the file holds no stream at all; head: its first bytes (at least 6 when the file has them). */
export function noStreamError(path: string, size: number, head: Uint8Array, stop: 'end-of-file' | 'partial' | 'garbage'): FormatError {
  if (size === 0) return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (empty file)`);
  if (new TextDecoder().decode(head.subarray(0, 6)) === ARROW_FILE_MAGIC) {
    return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (an Arrow IPC file, not an skbtrail stream)`);
  }
  const startsLikeIpc = head.subarray(0, 4).every((b) => b === 0xff);
  if (stop === 'partial' && startsLikeIpc) {
    return new FormatError('CORRUPT', `${path}: truncated inside its first message (${size} bytes): nothing to recover`);
  }
  return new FormatError('NOT_A_RECORDING', `${path}: not an skbtrail recording (no Arrow IPC stream at its start)`);
}

/** The first stream's metadata says it is an skbtrail recording this reader understands. */
/** What checkEventsSchema reads of a schema (apache-arrow's Schema, or flatmessage.ts's). */
interface SchemaLike {
  metadata: Map<string, string>;
  fields: { name: string; type: { toString(): string } }[];
}

export function checkEventsSchema(path: string, schema: SchemaLike): { version: string; meta: StartMeta } {
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
    const want = EVENT_COLUMN_TYPES[name];
    if (!field || String(field.type) !== want) {
      throw new FormatError('CORRUPT', `${path}: events column ${name} is missing or not of type ${want}`);
    }
  }
  const retval = schema.fields.find((f) => f.name === RETVAL_COLUMN);
  if (retval && String(retval.type) !== 'Int64') throw new FormatError('CORRUPT', `${path}: events column ${RETVAL_COLUMN} is not of type Int64`);
  return { version, meta: parseJson<StartMeta>(path, md.get(META_KEY.start), META_KEY.start) };
}

const CODEC_NAMES: Record<number, string> = { 0: 'LZ4_FRAME', 1: 'ZSTD' };

/** A table whose batches use a compression codec other than LZ4_FRAME (Node has no zstd). */
/**
 * The complete streams after the events stream, by their skbtrail.table name. Later minor
 * versions may add streams: a reader takes the ones it knows and skips the rest.
 */
export function tablesByName<S extends { schema: SchemaLike; ended: boolean }>(spans: S[]): Map<string, S> {
  const byName = new Map<string, S>();
  for (const span of spans) {
    const table = span.schema.metadata.get(META_KEY.table);
    if (span.ended && table !== undefined) byName.set(table, span);
  }
  return byName;
}

export function unsupportedCompression(path: string, table: string, codec: number): FormatError {
  return new FormatError(
    'UNSUPPORTED',
    `${path}: ${table} table is ${CODEC_NAMES[codec] ?? `codec-${codec}`}-compressed; this skbtrail reads LZ4_FRAME-compressed or uncompressed recordings only`,
  );
}

export function parseJson<T>(path: string, text: string | undefined, key: string): T {
  try {
    return JSON.parse(text ?? '') as T;
  } catch (err) {
    throw new FormatError('CORRUPT', `${path}: metadata ${key} is not valid JSON`, { cause: err });
  }
}

export function readTable(path: string, bytes: Uint8Array, name: TableName, decode: (bytes: Uint8Array) => Table): Table {
  try {
    return decode(bytes);
  } catch (err) {
    throw new FormatError('CORRUPT', `${path}: ${name} table is damaged: ${(err as Error).message}`, { cause: err });
  }
}

function column<T extends Vector>(table: Table, name: string): T {
  return table.getChild(name) as T;
}

export function kallsymsFrom(table: Table): KallsymsTable {
  return {
    addr: table.numRows > 0 ? column<Vector<Uint64>>(table, 'addr').toArray() : new BigUint64Array(0),
    name: [...column<Vector>(table, 'name')] as string[],
    module: [...column<Vector>(table, 'module')] as (string | null)[],
  };
}

export function stacksFrom(table: Table): Map<number, bigint[]> {
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
export function truncationWarning(
  events: { batches: number; rows: number },
  eventsEnded: boolean,
  unread: { bytes: number; partial: boolean },
  missing: { end: boolean; kallsyms: boolean; stacks: boolean },
): string {
  const { rows } = events;
  const lost: string[] = [];
  if (unread.bytes > 0 && unread.partial) lost.push(`${unread.bytes} bytes of a partial ${eventsEnded ? 'table' : 'batch'}`);
  if (unread.bytes > 0 && !unread.partial) lost.push(`${unread.bytes} unreadable bytes`);
  if (missing.end) lost.push('the stop time, lost-event counts');
  const tables = [missing.kallsyms && 'kallsyms', missing.stacks && 'stacks'].filter((t): t is string => !!t);
  if (tables.length > 0) lost.push(`the ${tables.join('/')} needed to symbolize locations`);
  return (
    `recording was not closed cleanly (recorder killed?): ` +
    `kept ${plural(events.batches, 'complete batch', 'complete batches')} (${plural(rows, 'event', 'events')}); ` +
    `lost ${listPhrase(lost)}`
  );
}

