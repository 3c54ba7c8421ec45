// skbtrail info: what a recording is (host, kernel, backend, probes, time span, counts, health).
import { type Column, TableSink, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import type { Value } from '../values.js';
import { type CommandIo, type FormatOptions, withSession } from './common.js';

/** Seconds between two ISO times, to the millisecond; null when either is missing or unreadable. */
function seconds(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.round(ms) / 1000 : null;
}

async function eventSpan(session: Session): Promise<{ first: Value; last: Value }> {
  const reader = await session.connection.runAndReadAll('SELECT min(time) AS first, max(time) AS last FROM events');
  const [first, last] = reader.getRowsJson()[0] as (string | null)[];
  const iso = (t: string | null): Value => (t === null ? null : `${t.replace(' ', 'T')}Z`);
  return { first: iso(first), last: iso(last) };
}

async function infoRow(session: Session): Promise<[string, Value][]> {
  const { recording: rec, events } = session;
  const fileSize = rec.size;
  const { meta, end } = rec;
  const span = await eventSpan(session);
  return [
    ['file', rec.path],
    ['format_version', rec.version],
    ['complete', rec.complete],
    ['host', meta.host.hostname],
    ['kernel', meta.host.kernel],
    ['machine', meta.host.machine],
    ['backend', meta.recorder.backend],
    ['backend_reason', meta.recorder.backendReason],
    ['recorder_version', meta.recorder.version],
    ['command', meta.recorder.argv.join(' ')],
    ['probes', meta.probes.map((p) => p.name).join(', ')],
    ['snaplen', meta.snaplen],
    ['started', meta.startedAt],
    ['stopped', end?.stoppedAt ?? null],
    ['duration_s', seconds(meta.startedAt, end?.stoppedAt)],
    ['stop_reason', end?.stopReason ?? null],
    ['first_event', span.first],
    ['last_event', span.last],
    ['events', events],
    ['lost', end ? end.lost.total : null],
    ['warnings', session.warnings.length > 0 ? session.warnings.join('; ') : null],
    ['file_size', fileSize],
    ['bytes_per_event', events > 0 ? Math.round((fileSize / events) * 10) / 10 : null],
  ];
}

export async function info(file: string, opts: FormatOptions, io: CommandIo): Promise<void> {
  await withSession(
    file,
    io,
    async (session) => {
      const fields = await infoRow(session);
      const columns: Column[] = fields.map(([name, v]) => ({ name, numeric: typeof v === 'number', convert: (x) => x as Value }));
      const sink = opts.format === 'table' ? new TableSink(io.out, true) : sinkFor(opts.format, io.out);
      await sink.begin(columns);
      await sink.rows([fields.map(([, v]) => v)]);
      await sink.end();
    },
    { addresses: false },
  );
}
