// Recordings opened for analysis: their event batches behind an in-process DuckDB with the
// public views. The library entry point; the CLI commands are thin shells over it.
import type duckdbTypes from '@duckdb/node-bindings';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdb, duckdbApi } from './cjs.js';
import { BatchLoader, Dataset } from './dataset.js';
import { AddressBook } from './addresses.js';
import { DropRule } from './droprule.js';
import { namedColumns } from './names.js';
import { type PacketContext, registerPacketsScan, registerPathScans } from './packets.js';
import { type PcapFilter, compilePcap } from './pcap.js';
import { registerEventsScan } from './scan.js';
import { registerSpansScan } from './spans.js';
import { Symbolizer } from './symbols.js';
import { createTables, loadTables } from './tables.js';
import { CLONING_PROBES, FREEING_PROBES, PathTrie, RELEASING_PROBES, probeFlags } from './tracker.js';
import { viewsSql } from './views.js';
import type { RecordingFile } from '@skbtrail/format/file';

export interface SessionOptions {
  /**
   * Collect the recordings' IP addresses so saddr/daddr work (default true). Reading every
   * header once costs ~0.3 s per 10 million events; commands that never look at addresses
   * skip it.
   */
  addresses?: boolean;
}

export interface Session {
  dataset: Dataset;
  /** the first (often only) recording */
  recording: RecordingFile;
  connection: DuckDBConnection;
  /** events in all recordings */
  events: number;
  /** the readers' warnings, then what the recorders reported losing */
  warnings: string[];
  /** addresses were collected: saddr and daddr can be used */
  addresses: boolean;
  packetContext: PacketContext;
  /** Compiles a pcap-filter expression for the scan's pcap := parameter; returns its id. */
  compilePcap(expression: string): number;
  close(): void;
}

function recordingWarnings(rec: RecordingFile, label: string | null): string[] {
  const warnings = [...rec.warnings];
  const lost = rec.end?.lost.total ?? 0;
  if (lost > 0) warnings.push(`the recorder lost ${lost} events (ring buffer full): counts may be short`);
  return label === null ? warnings : warnings.map((w) => `${label}: ${w}`);
}

/** key/value rows of the meta table. */
function metaRows(rec: RecordingFile, warnings: string[]): [string, string | null][] {
  const { meta, end } = rec;
  const json = (v: unknown): string => JSON.stringify(v);
  return [
    ['file', rec.path],
    ['file_size', String(rec.size)],
    ['format_version', rec.version],
    ['complete', String(rec.complete)],
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
    ['events', String(rec.events)],
    ['events_reported', end ? String(end.events) : null],
    ['lost', end ? String(end.lost.total) : null],
    ['lost_per_cpu', end ? json(end.lost.perCpu) : null],
    ['warnings', json(warnings)],
  ];
}

/** Opens recording files for analysis (several: a `recording` column tells their rows apart). */
export async function openSession(paths: string | string[], opts: SessionOptions = {}): Promise<Session> {
  const files = typeof paths === 'string' ? [paths] : paths;
  const dataset = Dataset.open(files);
  const addresses = opts.addresses ?? true;
  let db: duckdbTypes.Database | null = null;
  let connection: DuckDBConnection | null = null;
  const close = (): void => {
    connection?.closeSync();
    if (db) duckdb.close_sync(db);
    dataset.close();
  };
  try {
    db = await duckdb.open(':memory:');
    const raw = await duckdb.connect(db);
    connection = new duckdbApi.DuckDBConnection(raw);
    const recs = dataset.recordings;
    const symbolizers = recs.map((r) => new Symbolizer(r.kallsyms));
    const locationLoader = new BatchLoader(dataset, { fields: new Set(['location']), headers: false });
    const named = namedColumns({
      dataset,
      symbolizers,
      addresses: addresses ? AddressBook.collect(dataset) : null,
      locations: (r, b) => locationLoader.load(dataset.indexOf(r, b)).words('location'),
    });
    const dropRules = recs.map((r) => new DropRule(r));
    const frees = recs.map((r) => probeFlags(r.meta.probes, FREEING_PROBES));
    const releases = recs.map((r) => probeFlags(r.meta.probes, RELEASING_PROBES, true));
    const pcapFilters = new Map<number, PcapFilter>();
    registerEventsScan(raw, { dataset, named, dropRules, frees, releases, pcapFilters });
    const packetContext: PacketContext = {
      dataset,
      named,
      dropRules,
      frees,
      releases,
      clones: recs.map((r) => probeFlags(r.meta.probes, CLONING_PROBES)),
      tries: recs.map(() => new PathTrie()),
    };
    registerPacketsScan(raw, packetContext);
    registerPathScans(raw, packetContext);
    registerSpansScan(raw, packetContext);
    await connection.run('CREATE SCHEMA skbtrail');
    await createTables(connection);
    const several = recs.length > 1;
    const warnings: string[] = [];
    for (const [i, rec] of recs.entries()) {
      const own = recordingWarnings(rec, several ? dataset.labels[i] : null);
      warnings.push(...own);
      await loadTables(connection, { recording: rec, label: dataset.labels[i], symbolizer: symbolizers[i], meta: metaRows(rec, recordingWarnings(rec, null)) });
    }
    await connection.run(viewsSql(dataset, addresses));
    let nextFilter = 1;
    return {
      dataset,
      recording: recs[0],
      connection,
      events: dataset.total,
      warnings,
      addresses,
      packetContext,
      compilePcap(expression) {
        const id = nextFilter++;
        pcapFilters.set(id, compilePcap(expression, Math.max(...recs.map((r) => r.meta.snaplen))));
        return id;
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}
