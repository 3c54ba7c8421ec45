// skbtrail latency: per-packet time between two probes (count, min, exact percentiles, max, and
// a terminal histogram), or without --from/--to, between every consecutive pair of probes a
// packet passed (the per-hop table).
import { type Column, type Format, TableSink, sinkFor } from '../render.js';
import { coarseBuckets, type GroupStats, groupStats } from '../quantiles.js';
import { SPANS_SCAN } from '../spans.js';
import { eventsSelect } from '../views.js';
import type { Session } from '../session.js';
import { durationText } from '../units.js';
import type { Value } from '../values.js';
import {
  type ByField,
  type CommandIo,
  byFields,
  checkProbe,
  condition,
  lacks,
  needsAddresses,
  sqlString,
  withSession,
} from './common.js';

export interface LatencyOptions {
  format: Format;
  from?: string;
  to?: string;
  by?: string;
  where?: string;
}

const LATENCY_BY = ['netns', 'ifname', 'saddr', 'daddr', 'sport', 'dport', 'proto', 'tuple', 'comm', 'cpu', 'mark', 'func', 'probe'];
const STAT_COLUMNS = ['count', 'min_ns', 'p50_ns', 'p90_ns', 'p99_ns', 'max_ns'];

/** Per packet, from its first `from` event to the first `to` event after it (spans.ts). */
export function spansSource(session: Session, from: string, to: string, by: ByField[], where: string | undefined): string {
  const spans = `${SPANS_SCAN}(from_probe := ${sqlString(from)}, to_probe := ${sqlString(to)})`;
  if (by.length === 0 && where === undefined) return spans;
  // --by and --where look at the starting event: join it by its number.
  const events = eventsSelect(session.dataset, { addresses: session.addresses });
  return `(SELECT e.*, s.ns, s.bucket FROM ${spans} s JOIN (${events}) e ON e.recording = s.recording AND e.seq = s.from_seq WHERE ${condition(where)})`;
}

/** Each consecutive probe pair of each packet (--by fields: the later event's). */
export function hopsSource(session: Session, where: string | undefined): string {
  const events = eventsSelect(session.dataset, { addresses: session.addresses, extra: ['gap_bucket'] });
  return `(${events}) WHERE hop > 0 AND ${condition(where)}`;
}

function statsRow(s: GroupStats): Value[] {
  return [...s.key, s.count, s.min, ...s.percentiles, s.max];
}

async function render(names: string[], rows: Value[][], format: Format, io: CommandIo): Promise<void> {
  const table = format === 'table';
  const sink = table ? new TableSink(io.out) : sinkFor(format, io.out);
  const columns: Column[] = names.map((name) => ({
    name: table && name.endsWith('_ns') ? name.slice(0, -3) : name,
    numeric: STAT_COLUMNS.includes(name),
    convert: (v) => v as Value,
  }));
  await sink.begin(columns);
  await sink.rows(table ? rows.map((r) => r.map((v, i) => (names[i].endsWith('_ns') ? durationText(v === null ? null : Number(v)) : v))) : rows);
  await sink.end();
}

/** bcc-style: one line per bucket (4 per power of two), a bar per count. */
export function histogramText(buckets: [number, number, number][]): string {
  if (buckets.length === 0) return '';
  const max = Math.max(...buckets.map((b) => b[2]));
  const ranges = buckets.map(([lo, hi]) => `${durationText(lo)} -> ${durationText(hi)}`);
  const width = Math.max(...ranges.map((r) => r.length), 'range'.length);
  const countWidth = Math.max(5, ...buckets.map((b) => String(b[2]).length));
  let text = `${'range'.padStart(width)} : ${'count'.padStart(countWidth)}   distribution\n`;
  buckets.forEach(([, , n], i) => {
    const bar = '*'.repeat(Math.round((n / max) * 40)).padEnd(40);
    text += `${ranges[i].padStart(width)} : ${String(n).padStart(countWidth)}   |${bar}|\n`;
  });
  return text;
}

async function pairLatency(session: Session, opts: LatencyOptions, by: ByField[], io: CommandIo): Promise<void> {
  const from = opts.from as string;
  const to = opts.to as string;
  checkProbe(session, from);
  checkProbe(session, to);
  const stats = (
    await groupStats(session, { from: spansSource(session, from, to, by, opts.where), groups: by, value: 'ns', bucket: 'bucket' })
  ).sort((a, b) => b.count - a.count);
  const names = [...by.map((f) => f.name), ...STAT_COLUMNS];
  if (stats.length === 0) {
    io.warn(`skbtrail: no packet passed ${from} and then ${to}`);
    await render(names, by.length === 0 ? [[0, null, null, null, null, null]] : [], opts.format, io);
    return;
  }
  await render(names, stats.map(statsRow), opts.format, io);
  if (opts.format !== 'table') return;
  for (const s of stats.slice(0, 10)) {
    const label = by.length ? ` (${by.map((f, i) => `${f.name} ${s.key[i] ?? '-'}`).join(', ')})` : '';
    await io.out.write(`\n${from} -> ${to}${label}, per packet\n${histogramText(coarseBuckets(s.buckets))}`);
  }
}

async function perHop(session: Session, opts: LatencyOptions, by: ByField[], io: CommandIo): Promise<void> {
  const groups = [{ name: 'from', sql: 'prev_func' }, { name: 'to', sql: 'func' }, ...by];
  const stats = await groupStats(session, { from: hopsSource(session, opts.where), groups, value: 'CAST(ts AS BIGINT) - CAST(prev_ts AS BIGINT)', bucket: 'gap_bucket', position: 'hop' });
  if (stats.length === 0) {
    throw lacks('no packet in this recording passed two probes: there is no hop to measure', 'record with more probes, or while traffic crosses the stack');
  }
  // Most frequent first; among equals, in the order packets meet them (their average hop).
  stats.sort((a, b) => b.count - a.count || a.position - b.position);
  const keys = groups.map((g) => g.name);
  await render([...keys, ...STAT_COLUMNS], stats.map(statsRow), opts.format, io);
}

export async function latency(file: string, opts: LatencyOptions, io: CommandIo): Promise<void> {
  const by = byFields(opts.by, LATENCY_BY, 'latency');
  await withSession(
    file,
    io,
    async (session) => {
      const probes = session.recording.meta.probes;
      if (probes.length < 2) {
        throw lacks(
          `latency needs events from two probes, and this recording has one (${probes.map((p) => p.name).join(', ') || 'none'})`,
          'record with more probes (skbtrail record attaches every skb tracepoint unless --filter-func narrows them)',
        );
      }
      if (session.events === 0) throw lacks('this recording has no events to measure', 'record while the traffic flows');
      if (opts.from !== undefined) await pairLatency(session, opts, by, io);
      else await perHop(session, opts, by, io);
    },
    { addresses: needsAddresses(opts.by, opts.where) },
  );
}

