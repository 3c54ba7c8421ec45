// skbtrail show: the recording replayed in time order, one line per event, with every pwru
// output option (meta, tuple, stack, caller, tcp flags, timestamps), and selection by SQL,
// packet, netns or a pcap-filter expression over the recorded headers.
import type { Output } from '../output.js';
import { type Column, type Format, type Sink, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import { type Stacks, callerOf, hasStacks, loadStacks } from '../stackframes.js';
import type { Value } from '../values.js';
import { skbDumper } from '../skb-pretty.js';
import { eventsSelect } from '../views.js';
import { type CommandIo, condition, lacks, queryNumbers, renderSql, sqlString, withSession } from './common.js';

export const TIMESTAMPS = ['none', 'current', 'relative', 'absolute'] as const;

export interface ShowOptions {
  format: Format;
  limit?: number;
  where?: string;
  packet?: number[];
  netns?: string;
  outputMeta?: boolean;
  outputTuple?: boolean;
  outputStack?: boolean;
  outputSkb?: boolean;
  outputCaller?: boolean;
  outputTcpFlags?: boolean;
  timestamp?: (typeof TIMESTAMPS)[number];
  /** pcap-filter expression, as words */
  filter?: string[];
  /** --output-skb: an event's struct sk_buff as text, by seq (skb-pretty.ts) */
  skbDump?: (seq: Value) => string | null;
}

/** Columns of the JSON/CSV rows, named as in the events view. */
const SHOW_COLUMNS = [
  'ts', 'time', 'skb', 'cpu', 'comm', 'pid', 'netns', 'netns_name', 'mark', 'ifindex', 'ifname',
  'ethertype', 'mtu', 'len', 'proto', 'family', 'saddr', 'sport', 'daddr', 'dport', 'func', 'reason', 'retval', 'packet',
] as const;
/** What the rendering reads besides them. */
const HELPER_COLUMNS = ['stack_id', 'location', 'tcp_flags', 'prev_ts', 'seq'] as const;
const SELECTED = [...SHOW_COLUMNS, ...HELPER_COLUMNS];

type Row = Record<(typeof SELECTED)[number], Value>;

/** The selection as one condition on the events view. */
function selection(opts: ShowOptions): string {
  const parts = [condition(opts.where)];
  if (opts.packet?.length) parts.push(`packet IN (${opts.packet.join(', ')})`);
  if (opts.netns !== undefined) parts.push(`(netns_name = ${sqlString(opts.netns)} OR CAST(netns AS VARCHAR) = ${sqlString(opts.netns)})`);
  return parts.join(' AND ');
}

/** The matching events in time order, in one query. */
export function showSql(source: string, opts: ShowOptions): string {
  const limit = opts.limit === undefined ? '' : ` LIMIT ${opts.limit}`;
  return `SELECT ${SELECTED.join(', ')} FROM ${source} WHERE ${selection(opts)} ORDER BY ts, seq${limit}`;
}

/** The first `limit` matching events' numbers: chosen on (ts, seq) alone, so no text is built for the others. */
export function pickSql(source: string, opts: ShowOptions & { limit: number }): string {
  return `SELECT seq FROM ${source} WHERE ${selection(opts)} ORDER BY ts, seq LIMIT ${opts.limit}`;
}

/** The picked events' columns, built for those rows only. */
export function pickedSql(session: Session, seqs: number[]): string {
  const events = eventsSelect(session.dataset, { rows: `[${seqs.join(', ')}]::UBIGINT[]`, addresses: session.addresses });
  return `SELECT ${SELECTED.join(', ')} FROM (${events}) ORDER BY ts, seq`;
}

const MIN_WIDTHS: Record<string, number> = { TIME: 26, SKB: 18, CPU: 3, PROCESS: 16, TIMESTAMP: 16, NETNS: 10, 'MARK/x': 6, IFACE: 6, PROTO: 6, MTU: 5, LEN: 5, TUPLE: 5 };

function hex(v: Value, pad = 0): string {
  if (v === null) return '';
  return BigInt(v as number | string).toString(16).padStart(pad, '0');
}

function endpoint(addr: Value, port: Value, family: Value): string {
  const host = family === 6 ? `[${addr}]` : String(addr);
  return `${host}:${port ?? 0}`;
}

/** ISO time with all nine fraction digits, so the column keeps its width. */
function nanoTime(v: Value): string {
  const text = String(v ?? '').replace(/Z$/, '');
  const [whole, fraction = ''] = text.split('.');
  return whole ? `${whole}.${fraction.padEnd(9, '0')}` : '';
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];

function tcpFlagText(flags: number): string {
  return TCP_FLAG_NAMES.filter((_, i) => flags & (1 << i)).join('|');
}

/** saddr:sport->daddr:dport(proto), as pwru prints it; '' when the headers are not IP. */
export function tupleText(r: Partial<Record<'family' | 'saddr' | 'sport' | 'daddr' | 'dport' | 'proto' | 'tcp_flags', Value>>, tcpFlags = false): string {
  if (r.family === null || r.family === undefined) return '';
  const l4 = tcpFlags && r.proto === 'tcp' && r.tcp_flags ? `tcp:${tcpFlagText(Number(r.tcp_flags))}` : String(r.proto);
  return `${endpoint(r.saddr ?? null, r.sport ?? null, r.family)}->${endpoint(r.daddr ?? null, r.dport ?? null, r.family)}(${l4})`;
}

/** The probe, with the drop reason in parentheses for drops, as pwru prints it; a return value after fexit. */
export function funcText(func: Value, reason: Value, retval: Value = null): string {
  if (retval !== null) return `${func} ret=${retval}`;
  if (reason === null) return String(func);
  return /^\d+$/.test(String(reason)) ? `${func}(${reason})` : `${func}(SKB_DROP_REASON_${reason})`;
}

/** pwru's plain aligned text; widths settle on the first chunk so output streams. */
class PwruSink implements Sink {
  private widths: number[] | null = null;
  private header: string[] = [];

  constructor(
    private readonly out: Output,
    private readonly opts: ShowOptions,
    private readonly stacks: Stacks,
  ) {
    const ts = opts.timestamp ?? 'none';
    this.header = [
      ...(ts === 'absolute' ? ['TIME'] : []),
      'SKB',
      'CPU',
      'PROCESS',
      ...(ts !== 'none' ? ['TIMESTAMP'] : []),
      ...(opts.outputMeta !== false ? ['NETNS', 'MARK/x', 'IFACE', 'PROTO', 'MTU', 'LEN'] : []),
      ...(opts.outputTuple !== false ? ['TUPLE'] : []),
      'FUNC',
      ...(opts.outputCaller ? ['CALLER'] : []),
    ];
  }

  async begin(): Promise<void> {}

  private cells(r: Row): string[] {
    const opts = this.opts;
    const ts = opts.timestamp ?? 'none';
    const comm = r.comm === null || r.comm === '' ? '<empty>' : String(r.comm);
    const ifindex = Number(r.ifindex);
    const cells: string[] = [];
    if (ts === 'absolute') cells.push(nanoTime(r.time));
    cells.push(`0x${hex(r.skb, 16)}`, String(r.cpu), `${comm}:${r.pid}`);
    if (ts === 'relative') cells.push(String(r.prev_ts === null ? 0 : BigInt(r.ts as string | number) - BigInt(r.prev_ts as string | number)));
    else if (ts !== 'none') cells.push(String(r.ts));
    if (opts.outputMeta !== false) {
      const iface = ifindex === 0 ? '0' : r.ifname !== null ? `${r.ifname}:${ifindex}` : String(ifindex);
      cells.push(String(r.netns_name ?? r.netns), hex(r.mark), iface, `0x${hex(r.ethertype, 4)}`, String(r.mtu), String(r.len));
    }
    if (opts.outputTuple !== false) cells.push(tupleText(r, opts.outputTcpFlags));
    cells.push(funcText(r.func, r.reason, r.retval));
    if (opts.outputCaller) cells.push(callerOf(r.location as string | null, r.stack_id === null ? undefined : this.stacks.get(Number(r.stack_id))) ?? '');
    return cells;
  }

  async rows(rows: Value[][]): Promise<void> {
    const objects = rows.map((row) => Object.fromEntries(SELECTED.map((name, i) => [name, row[i]])) as Row);
    const lines = objects.map((r) => this.cells(r));
    let text = '';
    if (!this.widths) {
      this.widths = this.header.map((h, i) => Math.max(h.length, MIN_WIDTHS[h] ?? 0, ...lines.map((cells) => cells[i].length)));
      text += this.line(this.header);
    }
    objects.forEach((r, k) => {
      text += this.line(lines[k]);
      if (this.opts.outputStack && r.stack_id !== null) for (const frame of this.stacks.get(Number(r.stack_id)) ?? []) text += `${frame}\n`;
      if (this.opts.skbDump) text += this.opts.skbDump(r.seq) ?? '';
    });
    await this.out.write(text);
  }

  async end(): Promise<void> {
    if (!this.widths) {
      this.widths = this.header.map((h) => Math.max(h.length, MIN_WIDTHS[h] ?? 0));
      await this.out.write(this.line(this.header));
    }
  }

  /** The last column is never padded; the others to their width (a long value widens the rest of the line, as in pwru). */
  private line(cells: string[]): string {
    const widths = this.widths as number[];
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(' ') + '\n';
  }
}

/** JSON/CSV rows: the events view's columns, plus the stack and caller when asked for. */
class ShowRowsSink implements Sink {
  constructor(
    private readonly inner: Sink,
    private readonly opts: ShowOptions,
    private readonly stacks: Stacks,
  ) {}

  async begin(columns: Column[]): Promise<void> {
    const out = columns.filter((c) => (SHOW_COLUMNS as readonly string[]).includes(c.name));
    const extra = (name: string): Column => ({ name, numeric: false, convert: (v) => v as Value });
    await this.inner.begin([...out, ...(this.opts.outputStack ? [extra('stack')] : []), ...(this.opts.outputCaller ? [extra('caller')] : []), ...(this.opts.skbDump ? [extra('sk_buff')] : [])]);
  }

  async rows(rows: Value[][]): Promise<void> {
    await this.inner.rows(
      rows.map((row) => {
        const r = Object.fromEntries(SELECTED.map((name, i) => [name, row[i]])) as Row;
        const frames = r.stack_id === null ? undefined : this.stacks.get(Number(r.stack_id));
        return [
          ...SHOW_COLUMNS.map((name) => r[name]),
          ...(this.opts.outputStack ? [frames ?? null] : []),
          ...(this.opts.outputCaller ? [callerOf(r.location as string | null, frames)] : []),
          ...(this.opts.skbDump ? [this.opts.skbDump(r.seq)] : []),
        ];
      }),
    );
  }

  async end(): Promise<void> {
    await this.inner.end();
  }
}

/** The data an option needs that the recording may lack: one line, exit 1. */
function checkOptions(session: Session, opts: ShowOptions): void {
  const record = 'record again with skbtrail record --output-stack';
  if (opts.outputSkb && !session.recording.meta.skb) {
    throw lacks('this recording has no raw sk_buff contents to print (--output-skb): it was recorded without --output-skb', 'record again with skbtrail record --output-skb; meanwhile use --output-meta');
  }
  if (opts.outputStack && !hasStacks(session)) throw lacks('this recording has no kernel stacks (it was recorded without --output-stack)', record);
  if (opts.outputCaller && !hasStacks(session) && session.recording.meta.recorder.options?.outputCaller !== true) {
    throw lacks('this recording has no caller information (callers come from kernel stacks; it was recorded without --output-stack or --output-caller)', `${record} or --output-caller`);
  }
}

/** Above this many picked rows the list literal gets unwieldy: one plain query instead. */
const MAX_PICKED = 100_000;

export async function show(file: string, opts: ShowOptions, io: CommandIo): Promise<void> {
  const expression = (opts.filter ?? []).join(' ').trim();
  await withSession(file, io, async (session) => {
    checkOptions(session, opts);
    if (opts.outputSkb) opts = { ...opts, skbDump: await skbDumper(session.recording.path, session.recording.meta) };
    const stacks = opts.outputStack || opts.outputCaller ? await loadStacks(session) : new Map<number, string[]>();
    const source = expression ? `(${eventsSelect(session.dataset, { pcap: session.compilePcap(expression), addresses: session.addresses })})` : 'events';
    const sink = opts.format === 'table' ? new PwruSink(io.out, opts, stacks) : new ShowRowsSink(sinkFor(opts.format, io.out), opts, stacks);
    if (opts.limit === undefined || opts.limit > MAX_PICKED) {
      await renderSql(session, showSql(source, opts), sink);
      return;
    }
    const seqs = await queryNumbers(session, pickSql(source, { ...opts, limit: opts.limit }));
    await renderSql(session, pickedSql(session, seqs), sink);
  });
}
