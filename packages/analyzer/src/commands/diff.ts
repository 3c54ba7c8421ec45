// skbtrail diff: where two trajectories part ways. Each side is one packet (named with
// --packet, or the first packet of the most common path among those matching --match); their
// hops are aligned like a unified diff on (probe, drop reason, netns, interface), the first
// divergence is marked, and the fields that changed along the way are listed: per side, from
// hop to hop (netns, ifname, len, mark, tuple: NAT shows up here), and between the sides at
// the hops they share.
import { align } from '../align.js';
import { usageError } from '../errors.js';
import { type Column, type Format, sinkFor } from '../render.js';
import type { Session } from '../session.js';
import { durationText } from '../units.js';
import type { Value } from '../values.js';
import { type CommandIo, asSql, lacks, noSuch, queryRows, withSession } from './common.js';
import { pathCountsSql } from './paths.js';
import { funcText, tupleText } from './show.js';

export interface DiffOptions {
  format: Format;
  packet?: number[];
  match?: string;
}

interface Hop {
  hop: number;
  func: string;
  reason: string | null;
  location: string | null;
  place: string;
  netns: string;
  ifname: string;
  len: number;
  mark: number;
  tuple: string;
  delta: number | null;
}

interface Side {
  name: 'a' | 'b';
  file: string;
  packet: number;
  /** how it was chosen, for the header line */
  why: string;
  hops: Hop[];
}

const FIELDS = ['netns', 'ifname', 'len', 'mark', 'tuple'] as const;
type Field = (typeof FIELDS)[number];

function hopKey(h: Hop): string {
  return `${h.func}|${h.reason ?? ''}|${h.place}`;
}

function fieldText(h: Hop, f: Field): string {
  return f === 'mark' ? `0x${h.mark.toString(16)}` : String(h[f]);
}

/** Namespace labels: the ip-netns name, "host" for the recorder's own, else the inode. */
async function netnsLabels(session: Session): Promise<Map<number, string>> {
  const rows = await queryRows(session, 'SELECT inode, name, source FROM netns');
  return new Map(rows.map((r) => [Number(r.inode), (r.name as string | null) ?? (r.source === 'self' ? 'host' : String(r.inode))]));
}

async function packetHops(session: Session, packet: number): Promise<Hop[]> {
  const labels = await netnsLabels(session);
  const rows = await queryRows(
    session,
    `SELECT hop, func, reason, location, netns, ifname, ifindex, len, mark, family, saddr, sport, daddr, dport, proto, ts - prev_ts AS delta
     FROM events WHERE packet = ${packet} ORDER BY hop`,
  );
  return rows.map((r) => {
    const netns = labels.get(Number(r.netns)) ?? String(r.netns);
    const ifname = r.ifname !== null ? String(r.ifname) : Number(r.ifindex) !== 0 ? String(r.ifindex) : '-';
    return {
      hop: Number(r.hop),
      func: String(r.func),
      reason: r.reason as string | null,
      location: r.location as string | null,
      place: ifname === '-' ? netns : `${netns}/${ifname}`,
      netns,
      ifname,
      len: Number(r.len),
      mark: Number(r.mark),
      tuple: tupleText(r) || '-',
      delta: r.delta === null ? null : Number(r.delta),
    };
  });
}

/** The first packets of the most common paths among the packets matching `match`. */
async function topPaths(session: Session, match: string | undefined, n: number): Promise<{ path: number; packets: number; example: number; total: number }[]> {
  await asSql(() => session.connection.run(pathCountsSql(match)));
  const rows = await queryRows(
    session,
    `SELECT path, packets, example_packet, sum(packets) OVER () AS total FROM path_counts ORDER BY packets DESC, path LIMIT ${n}`,
  );
  return rows.map((r) => ({ path: Number(r.path), packets: Number(r.packets), example: Number(r.example_packet), total: Number(r.total) }));
}

async function sideOf(session: Session, name: 'a' | 'b', file: string, packet: number, why: string): Promise<Side> {
  const hops = await packetHops(session, packet);
  if (hops.length === 0) throw noSuch(`there is no packet ${packet} in ${file}`, 'see its packets with skbtrail paths FILE');
  return { name, file, packet, why, hops };
}

function changes(prev: Hop | undefined, hop: Hop): string[] {
  if (!prev) return [];
  return FIELDS.filter((f) => fieldText(prev, f) !== fieldText(hop, f)).map((f) => `${f} ${fieldText(prev, f)}→${fieldText(hop, f)}`);
}

interface DiffRow {
  op: ' ' | '-' | '+';
  a_hop: number | null;
  b_hop: number | null;
  func: string;
  netns: string;
  ifname: string;
  reason: string | null;
  a_delta_ns: number | null;
  b_delta_ns: number | null;
  first_divergence: boolean;
  changes: string;
}

/** The aligned rows, with each row's changes: per side since its previous hop, and a vs b. */
function diffRows(a: Side, b: Side): DiffRow[] {
  const aligned = align(a.hops.map(hopKey), b.hops.map(hopKey));
  const rows: DiffRow[] = [];
  let diverged = false;
  let lastAbDiff = '';
  for (const step of aligned) {
    const ha = step.a === null ? undefined : a.hops[step.a];
    const hb = step.b === null ? undefined : b.hops[step.b];
    const hop = (ha ?? hb) as Hop;
    const notes: string[] = [];
    const ca = ha ? changes(step.a ? a.hops[step.a - 1] : undefined, ha) : [];
    const cb = hb ? changes(step.b ? b.hops[step.b - 1] : undefined, hb) : [];
    if (step.op === ' ' && ca.join() === cb.join()) {
      if (ca.length) notes.push(ca.join(', '));
    } else {
      if (ca.length) notes.push(`a: ${ca.join(', ')}`);
      if (cb.length) notes.push(`b: ${cb.join(', ')}`);
    }
    if (ha && hb) {
      // How a and b differ here, said again only when other fields come to differ.
      const differ = FIELDS.filter((f) => fieldText(ha, f) !== fieldText(hb, f));
      if (differ.join() !== lastAbDiff && differ.length) notes.push(`a|b: ${differ.map((f) => `${f} ${fieldText(ha, f)} | ${fieldText(hb, f)}`).join(', ')}`);
      lastAbDiff = differ.join();
    }
    const first = step.op !== ' ' && !diverged;
    diverged ||= step.op !== ' ';
    rows.push({
      op: step.op,
      a_hop: ha ? ha.hop : null,
      b_hop: hb ? hb.hop : null,
      func: hop.func,
      netns: hop.netns,
      ifname: hop.ifname,
      reason: hop.reason,
      a_delta_ns: ha?.delta ?? null,
      b_delta_ns: hb?.delta ?? null,
      first_divergence: first,
      changes: notes.join('; '),
    });
  }
  return rows;
}

function unifiedText(a: Side, b: Side, rows: DiffRow[]): string {
  const header = (mark: string, s: Side) =>
    `${mark} ${s.name}: packet ${s.packet} of ${s.file}${s.why ? ` (${s.why})` : ''}, ${s.hops.length} hops, ${s.hops[0].tuple}\n`;
  let text = header('---', a) + header('+++', b);
  const where = (r: DiffRow) => (r.ifname === '-' ? r.netns : `${r.netns}/${r.ifname}`);
  const nameWidth = Math.max(...rows.map((r) => funcText(r.func, r.reason).length));
  const placeWidth = Math.max(...rows.map((r) => where(r).length));
  const hopWidth = Math.max(2, ...rows.map((r) => String(Math.max(r.a_hop ?? 0, r.b_hop ?? 0)).length));
  const num = (v: number | null) => (v === null ? '' : String(v)).padStart(hopWidth);
  rows.forEach((r, i) => {
    if (r.first_divergence) {
      const before = rows[i - 1];
      text += before
        ? `! first divergence after ${funcText(before.func, before.reason)} at ${where(before)} (a hop ${before.a_hop}, b hop ${before.b_hop})\n`
        : '! the paths differ from their first hop\n';
    }
    const delta = r.op === '+' ? r.b_delta_ns : r.a_delta_ns;
    const cells = [
      r.op,
      num(r.a_hop),
      num(r.b_hop),
      funcText(r.func, r.reason).padEnd(nameWidth),
      where(r).padEnd(placeWidth),
      (delta === null ? '' : `+${durationText(delta)}`).padStart(9),
      r.changes,
    ];
    text += `${cells.join(' ').trimEnd()}\n`;
  });
  if (!rows.some((r) => r.first_divergence)) text += '= the two paths are the same hop for hop\n';
  return text;
}

async function resolveSides(sessions: Session[], files: string[], opts: DiffOptions): Promise<[Side, Side]> {
  const packets = opts.packet ?? [];
  if (packets.length === 2) {
    const sb = sessions[sessions.length - 1];
    return [await sideOf(sessions[0], 'a', files[0], packets[0], ''), await sideOf(sb, 'b', files[files.length - 1], packets[1], '')];
  }
  const why = (p: { path: number; packets: number; total: number }) => `path ${p.path}, taken by ${p.packets} of ${p.total} packets${opts.match ? ' matching' : ''}`;
  if (sessions.length === 1) {
    const top = await topPaths(sessions[0], opts.match, 2);
    if (top.length < 2) {
      throw lacks(
        `${files[0]} has ${top.length === 0 ? 'no packet' : 'one path only'}${opts.match ? ' among the packets matching --match' : ''}: there is nothing to compare`,
        'name two packets with --packet X --packet Y, or give a second recording',
      );
    }
    return [await sideOf(sessions[0], 'a', files[0], top[0].example, why(top[0])), await sideOf(sessions[0], 'b', files[0], top[1].example, why(top[1]))];
  }
  const [ta] = await topPaths(sessions[0], opts.match, 1);
  const [tb] = await topPaths(sessions[1], opts.match, 1);
  for (const [t, file] of [[ta, files[0]], [tb, files[1]]] as const) {
    if (!t) throw lacks(`${file} has no packet${opts.match ? ' matching --match' : ''}`, 'check --match against skbtrail show FILE');
  }
  return [await sideOf(sessions[0], 'a', files[0], ta.example, why(ta)), await sideOf(sessions[1], 'b', files[1], tb.example, why(tb))];
}

const DIFF_COLUMNS = ['op', 'a_hop', 'b_hop', 'func', 'netns', 'ifname', 'reason', 'a_delta_ns', 'b_delta_ns', 'first_divergence', 'changes'] as const;

export async function diff(files: string[], opts: DiffOptions, io: CommandIo): Promise<void> {
  const packets = opts.packet ?? [];
  if (files.length > 2) throw usageError('diff compares two recordings or two packets', 'diff');
  if (packets.length !== 0 && packets.length !== 2) throw usageError('give --packet twice (--packet X --packet Y), or not at all', 'diff');
  await withSession(files[0], io, async (first) =>
    files.length === 1
      ? render([first], files, opts, io)
      : withSession(files[1], io, (second) => render([first, second], files, opts, io), { addresses: true }),
  );
}

async function render(sessions: Session[], files: string[], opts: DiffOptions, io: CommandIo): Promise<void> {
  const [a, b] = await resolveSides(sessions, files, opts);
  const rows = diffRows(a, b);
  if (opts.format === 'table') {
    await io.out.write(unifiedText(a, b, rows));
    return;
  }
  const sink = sinkFor(opts.format, io.out);
  const columns: Column[] = DIFF_COLUMNS.map((name) => ({ name, numeric: false, convert: (v) => v as Value }));
  await sink.begin(columns);
  await sink.rows(rows.map((r) => DIFF_COLUMNS.map((c) => r[c] as Value)));
  await sink.end();
}
