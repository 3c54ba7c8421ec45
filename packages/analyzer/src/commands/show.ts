// skbtrail show: the recording replayed in time order, one line per event, in pwru's columns.
import type { StartMeta } from '@skbtrail/format';
import type { Output } from '../output.js';
import { type Format, type Sink, sinkFor } from '../render.js';
import type { Value } from '../values.js';
import { eventsSelect } from '../views.js';
import { type CommandIo, querySeqs, renderSql, withSession } from './common.js';

export interface ShowOptions {
  format: Format;
  limit?: number;
  where?: string;
}

/** Columns of the JSON/CSV rows, named as in the events view. */
const SHOW_COLUMNS = [
  'ts', 'time', 'skb', 'cpu', 'comm', 'pid', 'netns', 'netns_name', 'mark', 'ifindex', 'ifname',
  'ethertype', 'mtu', 'len', 'proto', 'family', 'saddr', 'sport', 'daddr', 'dport', 'func', 'reason',
] as const;

type ShowRow = { [K in (typeof SHOW_COLUMNS)[number]]: Value };

function whereClause(where: string | undefined): string {
  return where ? `WHERE (${where})` : '';
}

/** The matching events in time order, in one query. */
export function showSql(opts: { limit?: number; where?: string }): string {
  const limit = opts.limit === undefined ? '' : ` LIMIT ${opts.limit}`;
  return `SELECT ${SHOW_COLUMNS.join(', ')} FROM events ${whereClause(opts.where)} ORDER BY ts, seq${limit}`;
}

/** The first `limit` matching events' numbers: chosen on (ts, seq) alone, so no text is built for the others. */
export function pickSql(opts: { limit: number; where?: string }): string {
  return `SELECT seq FROM events ${whereClause(opts.where)} ORDER BY ts, seq LIMIT ${opts.limit}`;
}

/** The picked events' columns, built for those rows only. */
export function pickedSql(meta: StartMeta, seqs: number[]): string {
  const events = eventsSelect(meta, `[${seqs.join(', ')}]::UBIGINT[]`);
  return `SELECT ${SHOW_COLUMNS.join(', ')} FROM (${events}) ORDER BY ts, seq`;
}

const HEADER = ['SKB', 'CPU', 'PROCESS', 'NETNS', 'MARK/x', 'IFACE', 'PROTO', 'MTU', 'LEN', 'TUPLE', 'FUNC'];
/** pwru's widths, the least each column gets. */
const MIN_WIDTHS = [18, 3, 16, 10, 6, 6, 6, 5, 5, 5, 0];

function hex(v: Value, pad = 0): string {
  if (v === null) return '';
  return BigInt(v as number | string).toString(16).padStart(pad, '0');
}

function endpoint(addr: Value, port: Value, family: Value): string {
  const host = family === 6 ? `[${addr}]` : String(addr);
  return `${host}:${port ?? 0}`;
}

/** One event as pwru prints it. */
function pwruCells(r: ShowRow): string[] {
  const comm = r.comm === null || r.comm === '' ? '<empty>' : String(r.comm);
  const ifindex = Number(r.ifindex);
  const iface = ifindex === 0 ? '0' : r.ifname !== null ? `${r.ifname}:${ifindex}` : String(ifindex);
  const tuple =
    r.family === null ? '' : `${endpoint(r.saddr, r.sport, r.family)}->${endpoint(r.daddr, r.dport, r.family)}(${r.proto})`;
  const reason = r.reason === null ? '' : /^\d+$/.test(String(r.reason)) ? `(${r.reason})` : `(SKB_DROP_REASON_${r.reason})`;
  return [
    `0x${hex(r.skb, 16)}`,
    String(r.cpu),
    `${comm}:${r.pid}`,
    String(r.netns_name ?? r.netns),
    hex(r.mark),
    iface,
    `0x${hex(r.ethertype, 4)}`,
    String(r.mtu),
    String(r.len),
    tuple,
    `${r.func}${reason}`,
  ];
}

/** pwru's plain aligned text; widths settle on the first chunk so output streams. */
class PwruSink implements Sink {
  private widths: number[] | null = null;
  constructor(private readonly out: Output) {}

  async begin(): Promise<void> {}

  async rows(rows: Value[][]): Promise<void> {
    const lines = rows.map((row) => {
      const obj = {} as ShowRow;
      SHOW_COLUMNS.forEach((name, i) => (obj[name] = row[i]));
      return pwruCells(obj);
    });
    let text = '';
    if (!this.widths) {
      this.widths = HEADER.map((h, i) => Math.max(h.length, MIN_WIDTHS[i], ...lines.map((cells) => cells[i].length)));
      text += this.line(HEADER);
    }
    for (const cells of lines) text += this.line(cells);
    await this.out.write(text);
  }

  async end(): Promise<void> {
    if (!this.widths) await this.out.write(this.line(HEADER));
  }

  private line(cells: string[]): string {
    const widths = this.widths ?? MIN_WIDTHS;
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(' ') + '\n';
  }
}

/** Above this many picked rows the list literal gets unwieldy: one plain query instead. */
const MAX_PICKED = 100_000;

export async function show(file: string, opts: ShowOptions, io: CommandIo): Promise<void> {
  await withSession(file, io, async (session) => {
    const sink = opts.format === 'table' ? new PwruSink(io.out) : sinkFor(opts.format, io.out);
    if (opts.limit === undefined || opts.limit > MAX_PICKED) {
      await renderSql(session, showSql(opts), sink);
      return;
    }
    const seqs = await querySeqs(session, pickSql({ limit: opts.limit, where: opts.where }));
    await renderSql(session, pickedSql(session.recording.meta, seqs), sink);
  });
}
