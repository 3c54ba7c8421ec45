// skbtrail drops: why and where packets died, most frequent first; --timeline: when.
import { type Column, type Sink, TableSink, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import type { Value } from '../values.js';
import { eventsSelect, wallClock } from '../views.js';
import { type ByField, type CommandIo, type FormatOptions, byFields, condition, lacks, needsAddresses, queryRows, renderSql, withSession } from './common.js';

export interface DropsOptions extends FormatOptions {
  by?: string;
  /** true: pick the bucket width; a string: the width (100ms, 1s, 5m) */
  timeline?: boolean | string;
  where?: string;
}

const DROP_BY = ['reason', 'location', 'func', 'probe', 'netns', 'ifname', 'saddr', 'daddr', 'sport', 'dport', 'proto', 'tuple', 'comm', 'cpu', 'mark'];
const DEFAULT_BY = ['reason', 'location', 'netns', 'ifname'];
/** Probes whose events carry drop reasons. */
const DROP_PROBES = new Set(['kfree_skb', 'kfree_skb_reason', 'sk_skb_reason_drop']);

function dropsSql(by: ByField[], where: string | undefined, source = 'events'): string {
  const keys = by.map((f) => `${f.sql} AS ${f.name}`);
  const order = ['count DESC', ...by.map((f) => `${f.name} NULLS LAST`)];
  return `SELECT ${[...keys, 'count(*) AS count', 'min(time) AS first', 'max(time) AS last'].join(', ')}
FROM ${source}
WHERE reason IS NOT NULL AND ${condition(where)}
${by.length > 0 ? 'GROUP BY ALL' : ''}
ORDER BY ${order.join(', ')}`;
}

/** The drops only, as the events view has them: the scan skips the other events before naming anything. */
export function dropsSource(session: Session): string {
  return `(${eventsSelect(session.dataset, { drops: true, addresses: session.addresses })})`;
}

/** What `skbtrail drops` runs by default, over a session's drops (the library's export). */
export function dropsQuery(session: Session): string {
  return dropsSql(byFields(undefined, DROP_BY, 'drops', DEFAULT_BY), undefined, dropsSource(session));
}

/** The same over the events view. */
export const DROPS_SQL = dropsSql(byFields(undefined, DROP_BY, 'drops', DEFAULT_BY), undefined);

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** "250ms" → 250000000; null when it is no width. */
export function parseWidth(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)$/.exec(text.trim());
  if (!m) return null;
  const ns = Math.round(Number(m[1]) * UNITS[m[2]]);
  return ns > 0 ? ns : null;
}

/** A round bucket width that cuts span into at most 40 buckets. */
function autoWidth(span: number): number {
  const steps = [1, 2, 5];
  for (let scale = 1e3; ; scale *= 10) for (const s of steps) if (span / (s * scale) <= 40) return s * scale;
}

function widthText(ns: number): string {
  for (const [unit, size] of [['h', 3600e9], ['m', 60e9], ['s', 1e9], ['ms', 1e6], ['µs', 1e3]] as const) {
    if (ns >= size && ns % size === 0) return `${ns / size}${unit}`;
  }
  return `${ns}ns`;
}

/** A table sink that draws each row's count as a bar. */
class BarSink implements Sink {
  private readonly inner: TableSink;
  private columns: Column[] = [];
  private rowsSeen: Value[][] = [];

  constructor(io: CommandIo) {
    this.inner = new TableSink(io.out);
  }

  async begin(columns: Column[]): Promise<void> {
    this.columns = columns;
  }

  async rows(rows: Value[][]): Promise<void> {
    this.rowsSeen.push(...rows);
  }

  async end(): Promise<void> {
    const at = this.columns.findIndex((c) => c.name === 'count');
    const max = Math.max(1, ...this.rowsSeen.map((r) => Number(r[at])));
    await this.inner.begin([...this.columns, { name: 'bar', numeric: false, convert: (v) => v as Value }]);
    await this.inner.rows(this.rowsSeen.map((r) => [...r, '█'.repeat(Math.max(1, Math.round((Number(r[at]) / max) * 40)))]));
    await this.inner.end();
  }
}

async function timeline(session: Session, opts: DropsOptions, by: ByField[], io: CommandIo): Promise<void> {
  const where = condition(opts.where);
  const [span] = await queryRows(session, `SELECT min(ts) AS first, max(ts) AS last FROM ${dropsSource(session)} WHERE reason IS NOT NULL AND ${where}`);
  if (span.first === null) {
    await renderSql(session, `SELECT NULL::TIMESTAMP_NS AS time, 0 AS count WHERE false`, opts.format === 'table' ? new BarSink(io) : sinkFor(opts.format, io.out));
    return;
  }
  const first = BigInt(span.first as string | number);
  const width =
    typeof opts.timeline === 'string' ? (parseWidth(opts.timeline) as number) : autoWidth(Number(BigInt(span.last as string | number) - first));
  if (opts.format === 'table') io.warn(`skbtrail: drops per ${widthText(width)}`);
  const bucket = `(ts - (ts - ${first}) % ${width})`;
  const keys = by.map((f) => `${f.sql} AS ${f.name}`);
  const sql = `SELECT ${[`${wallClock(session.dataset, bucket, 'recording_id')} AS time`, ...keys, 'count(*) AS count'].join(', ')}
FROM ${dropsSource(session)} WHERE reason IS NOT NULL AND ${where}
GROUP BY ALL ORDER BY time${by.map((f) => `, ${f.name} NULLS LAST`).join('')}`;
  await renderSql(session, sql, opts.format === 'table' ? new BarSink(io) : sinkFor(opts.format, io.out));
}

export async function drops(file: string, opts: DropsOptions, io: CommandIo): Promise<void> {
  const by = byFields(opts.by, DROP_BY, 'drops', opts.timeline ? [] : DEFAULT_BY);
  await withSession(
    file,
    io,
    async (session) => {
      const probes = session.recording.meta.probes.map((p) => p.name);
      if (!probes.some((p) => DROP_PROBES.has(p))) {
        throw lacks(
          `this recording has no probe that reports drops (it has ${probes.join(', ')})`,
          'record with the skb:kfree_skb tracepoint (skbtrail record attaches it by default)',
        );
      }
      if (opts.timeline) await timeline(session, opts, by, io);
      else await renderSql(session, dropsSql(by, opts.where, dropsSource(session)), sinkFor(opts.format, io.out));
    },
    { addresses: needsAddresses(opts.by, opts.where) },
  );
}
