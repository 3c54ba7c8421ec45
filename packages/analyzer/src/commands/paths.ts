// skbtrail paths: the distinct trajectories packets took (probe sequences with their netns and
// interface), how many packets took each; --packet: one packet's path, hop by hop, with the
// time between hops.
import { type Column, type Format, type Sink, TableSink, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import { type Stacks, hasStacks, loadStacks } from '../stackframes.js';
import { durationText } from '../units.js';
import type { Value } from '../values.js';
import { type CommandIo, asSql, condition, lacks, noSuch, queryRows, renderSql, withSession } from './common.js';
import { funcText, tupleText } from './show.js';

export const PATH_SORTS = ['count', 'length'] as const;

export interface PathsOptions {
  format: Format;
  sort?: (typeof PATH_SORTS)[number];
  limit?: number;
  where?: string;
  packet?: number;
  /** with --packet: each hop's kernel stack */
  stack?: boolean;
}

/** Packets per path (those with an event matching `where`), into temp table path_counts. */
export function pathCountsSql(where: string | undefined): string {
  const chosen = where ? `WHERE packet IN (SELECT DISTINCT packet FROM events WHERE ${condition(where)})` : '';
  return `CREATE OR REPLACE TEMP TABLE path_counts AS
SELECT path, count(*) AS packets, min(packet) AS example_packet FROM packets ${chosen} GROUP BY path`;
}

/** The paths, most common (or longest) first; run after pathCountsSql (the trie is complete then). */
export function pathsSql(sort: PathsOptions['sort'], limit?: number): string {
  const order = sort === 'length' ? 'hops DESC, packets DESC, path' : 'packets DESC, hops DESC, path';
  return `SELECT c.path, c.packets, round(100.0 * c.packets / sum(c.packets) OVER (), 1) AS percent, p.hops, c.example_packet, p.trajectory
FROM path_counts c JOIN paths p USING (path)
ORDER BY ${order}${limit === undefined ? '' : ` LIMIT ${limit}`}`;
}

/** One packet's events, first hop first. */
export function packetHopsSql(packet: number): string {
  return `SELECT hop, time, ts - prev_ts AS delta_ns, ts - first_value(ts) OVER (ORDER BY hop) AS elapsed_ns, func,
  coalesce(netns_name, CAST(netns AS VARCHAR)) AS netns, ifname, ifindex, len, mark, family, saddr, sport, daddr, dport, proto,
  tcp_flags, reason, location, stack_id, cpu, skb
FROM events WHERE packet = ${packet} ORDER BY hop`;
}

/** The hop table as a person reads it: time deltas in units, tuple in pwru's form, stacks below. */
class HopTableSink implements Sink {
  private columns: Column[] = [];
  private readonly rowsSeen: Record<string, Value>[] = [];

  constructor(
    private readonly packet: number,
    private readonly stacks: Stacks | null,
    private readonly io: CommandIo,
  ) {}

  async begin(columns: Column[]): Promise<void> {
    this.columns = columns;
  }

  async rows(rows: Value[][]): Promise<void> {
    for (const row of rows) this.rowsSeen.push(Object.fromEntries(this.columns.map((c, i) => [c.name, row[i]])));
  }

  async end(): Promise<void> {
    const rows = this.rowsSeen;
    const first = rows[0];
    await this.io.out.write(`packet ${this.packet}: skb 0x${BigInt(first.skb as string | number).toString(16)}, ${rows.length} hops, ${durationText(Number(rows[rows.length - 1].elapsed_ns))}, from ${first.time}\n`);
    const table = new TableSink(this.io.out);
    const text = (name: string): Column => ({ name, numeric: false, convert: (v) => v as Value });
    const num = (name: string): Column => ({ name, numeric: true, convert: (v) => v as Value });
    await table.begin([num('hop'), num('+delta'), num('elapsed'), text('func'), text('where'), num('len'), text('mark'), text('tuple'), text('cpu')]);
    await table.rows(
      rows.map((r) => {
        const where = r.ifname !== null ? `${r.netns}/${r.ifname}` : Number(r.ifindex) !== 0 ? `${r.netns}/${r.ifindex}` : String(r.netns);
        const func = funcText(r.func, r.reason) + (r.location !== null && r.reason !== null ? ` at ${r.location}` : '');
        const frames = this.stacks && r.stack_id !== null ? this.stacks.get(Number(r.stack_id)) : undefined;
        return [
          r.hop,
          r.delta_ns === null ? '' : `+${durationText(Number(r.delta_ns))}`,
          durationText(Number(r.elapsed_ns)),
          frames ? [func, ...frames.map((f) => `  ${f}`)].join('\n') : func,
          where,
          r.len,
          Number(r.mark).toString(16),
          tupleText(r),
          r.cpu,
        ];
      }),
    );
    await table.end();
  }
}

async function onePacket(session: Session, opts: PathsOptions, io: CommandIo): Promise<void> {
  const packet = opts.packet as number;
  const [found] = await queryRows(session, `SELECT count(*) AS n FROM events WHERE packet = ${packet}`);
  if (Number(found.n) === 0) {
    throw noSuch(`there is no packet ${packet} in this recording`, 'see the packets with skbtrail paths FILE, or query FILE "SELECT * FROM packets"');
  }
  if (opts.stack && !hasStacks(session)) throw lacks('this recording has no kernel stacks (it was recorded without --output-stack)', 'record again with skbtrail record --output-stack');
  const stacks = opts.stack ? await loadStacks(session) : null;
  const sql = packetHopsSql(packet);
  if (opts.format === 'table') {
    await renderSql(session, sql, new HopTableSink(packet, stacks, io));
    return;
  }
  const columns = 'hop, time, delta_ns, elapsed_ns, func, netns, ifname, len, mark, saddr, sport, daddr, dport, proto, reason, location, stack_id';
  await renderSql(session, `SELECT ${columns} FROM (${sql})`, sinkFor(opts.format, io.out));
}

export async function paths(file: string, opts: PathsOptions, io: CommandIo): Promise<void> {
  await withSession(
    file,
    io,
    async (session) => {
      if (session.events === 0) throw lacks('this recording has no events: no packet took any path', 'record while the traffic flows');
      if (opts.packet !== undefined) {
        await onePacket(session, opts, io);
        return;
      }
      await asSql(() => session.connection.run(pathCountsSql(opts.where)));
      await renderSql(session, pathsSql(opts.sort, opts.limit), sinkFor(opts.format, io.out));
    },
    { addresses: opts.where !== undefined || opts.packet !== undefined },
  );
}
