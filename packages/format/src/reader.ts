import { RecordBatch, RecordBatchReader, tableFromIPC } from 'apache-arrow';
import { registerLz4Decoder } from './codec.js';
import { META_KEY, type TableName } from './constants.js';
import { FormatError } from './errors.js';
import { type IpcStreamSpan, scanIpcStreams } from './framing.js';
import { readWholeFile } from './readfile.js';
import {
  checkEventsSchema,
  kallsymsFrom,
  noStreamError,
  parseJson,
  readTable,
  stacksFrom,
  tablesByName,
  truncationWarning,
  unsupportedCompression,
} from './readshared.js';
import type { EndMeta, Recording } from './types.js';

registerLz4Decoder();

/** Refuses a stream compressed with a codec that this reader cannot decode, as the on-demand reader does. */
function checkCodec(path: string, span: IpcStreamSpan, table: TableName): void {
  if (span.foreignCodec !== null) throw unsupportedCompression(path, table, span.foreignCodec);
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

/**
 * Opens a recording: validates it, returns its events as Arrow RecordBatches (no per-row
 * objects) with the metadata and symbol tables. A truncated file yields its complete
 * batches and a warning saying what was lost.
 */
export function openRecording(path: string): Recording {
  const bytes = readWholeFile(path);
  const scan = scanIpcStreams(bytes);
  const [eventsSpan, ...tableSpans] = scan.streams;
  if (!eventsSpan) throw noStreamError(path, bytes.byteLength, bytes.subarray(0, 8), scan.stop);
  const { version, meta } = checkEventsSchema(path, eventsSpan.schema);
  checkCodec(path, eventsSpan, 'events');
  const batches = readEventBatches(path, bytes, eventsSpan);

  const spans = tablesByName(tableSpans);
  const kallsymsSpan = spans.get('kallsyms');
  const stacksSpan = spans.get('stacks');
  const endSpan = spans.get('end');
  if (kallsymsSpan) checkCodec(path, kallsymsSpan, 'kallsyms');
  const kallsyms = kallsymsSpan ? kallsymsFrom(readTable(path, streamBytes(bytes, kallsymsSpan), 'kallsyms', tableFromIPC)) : null;
  if (stacksSpan) checkCodec(path, stacksSpan, 'stacks');
  const stacks = stacksSpan ? stacksFrom(readTable(path, streamBytes(bytes, stacksSpan), 'stacks', tableFromIPC)) : null;
  const end = endSpan ? parseJson<EndMeta>(path, endSpan.schema.metadata.get(META_KEY.end), META_KEY.end) : null;
  const complete = end !== null && kallsyms !== null && stacks !== null && eventsSpan.ended;

  const unread = bytes.byteLength - scan.stoppedAt;
  const warnings: string[] = [];
  if (!complete) {
    const missing = { end: end === null, kallsyms: kallsyms === null, stacks: stacks === null };
    const partial = scan.stop === 'partial';
    warnings.push(truncationWarning({ batches: batches.length, rows: batches.reduce((n, b) => n + b.numRows, 0) }, eventsSpan.ended, { bytes: unread, partial }, missing));
  } else if (unread > 0) {
    warnings.push(`ignored ${unread} bytes after the end of the recording`);
  }
  return { path, version, meta, end, complete, warnings, schema: eventsSpan.schema, batches, kallsyms, stacks };
}
