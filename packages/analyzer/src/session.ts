// A recording opened for analysis: the reader's batches behind an in-process DuckDB with the
// public views. The library entry point; the CLI commands are thin shells over it.
import { statSync } from 'node:fs';
import duckdb from '@duckdb/node-bindings';
import { DuckDBConnection } from '@duckdb/node-api';
import { FormatError, openRecording, type Recording } from '@skbtrail/format';
import { AddressBook } from './addresses.js';
import { fromFormatError } from './errors.js';
import { commNames, namedColumns } from './names.js';
import { prepareBatches, registerEventsScan } from './scan.js';
import { Symbolizer } from './symbols.js';
import { loadTables } from './tables.js';
import { viewsSql } from './views.js';

export interface Session {
  recording: Recording;
  connection: DuckDBConnection;
  fileSize: number;
  /** events in the file */
  events: number;
  /** the reader's warnings, then what the recorder reported losing */
  warnings: string[];
  close(): void;
}

function countEvents(recording: Recording): number {
  return recording.batches.reduce((n, b) => n + b.numRows, 0);
}

function sessionWarnings(recording: Recording): string[] {
  const warnings = [...recording.warnings];
  const lost = recording.end?.lost.total ?? 0;
  if (lost > 0) warnings.push(`the recorder lost ${lost} events (ring buffer full): counts may be short`);
  return warnings;
}

/** key/value rows of the meta table. */
function metaRows(recording: Recording, fileSize: number, events: number, warnings: string[]): [string, string | null][] {
  const { meta, end } = recording;
  const json = (v: unknown): string => JSON.stringify(v);
  return [
    ['file', recording.path],
    ['file_size', String(fileSize)],
    ['format_version', recording.version],
    ['complete', String(recording.complete)],
    ['hostname', meta.host.hostname],
    ['kernel', meta.host.kernel],
    ['machine', meta.host.machine],
    ['recorder_version', meta.recorder.version],
    ['command', json(meta.recorder.argv)],
    ['backend', meta.recorder.backend],
    ['backend_reason', meta.recorder.backendReason],
    ['options', json(meta.recorder.options)],
    ['filters', json(meta.recorder.filters)],
    ['snaplen', String(meta.snaplen)],
    ['probes', meta.probes.map((p) => p.name).join(',')],
    ['boot_to_realtime_ns', meta.clock.bootToRealtimeNs],
    ['started', meta.startedAt],
    ['stopped', end?.stoppedAt ?? null],
    ['stop_reason', end?.stopReason ?? null],
    ['events', String(events)],
    ['events_reported', end ? String(end.events) : null],
    ['lost', end ? String(end.lost.total) : null],
    ['lost_per_cpu', end ? json(end.lost.perCpu) : null],
    ['warnings', json(warnings)],
  ];
}

function open(path: string): Recording {
  try {
    return openRecording(path);
  } catch (err) {
    throw err instanceof FormatError ? fromFormatError(err) : err;
  }
}

/** Opens a recording file for analysis. */
export async function openSession(path: string): Promise<Session> {
  return loadRecording(open(path), statSync(path).size);
}

/** Puts an already opened recording behind DuckDB (its batches are scanned in place, not copied). */
export async function loadRecording(recording: Recording, fileSize: number): Promise<Session> {
  const events = countEvents(recording);
  const warnings = sessionWarnings(recording);
  const db = await duckdb.open(':memory:');
  const raw = await duckdb.connect(db);
  const connection = new DuckDBConnection(raw);
  const close = (): void => {
    connection.closeSync();
    duckdb.close_sync(db);
  };
  try {
    const batches = prepareBatches(recording);
    const symbolizer = new Symbolizer(recording.kallsyms);
    const comms = commNames(recording);
    const addresses = AddressBook.collect(batches);
    registerEventsScan(raw, batches, namedColumns(recording, comms, batches.map((b) => b.keys), symbolizer, addresses));
    await connection.run('CREATE SCHEMA skbtrail');
    await loadTables(connection, recording, { comms, symbolizer, meta: metaRows(recording, fileSize, events, warnings) });
    await connection.run(viewsSql(recording.meta));
  } catch (err) {
    close();
    throw err;
  }
  return { recording, connection, fileSize, events, warnings, close };
}
