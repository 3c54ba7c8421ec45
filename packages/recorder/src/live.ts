/**
 * `record --live` (and pwru's --output-file): pwru-style lines while recording, decoded from
 * the native batches' typed arrays with a small header decoder — no DuckDB, no analyzer code.
 * The columns are the ones `skbtrail show` prints by default:
 *   SKB CPU PROCESS NETNS MARK/x IFACE PROTO MTU LEN TUPLE FUNC
 * with the drop reason in FUNC for kfree_skb. Names come from the recorder's own scan of
 * namespaces and interfaces at start; ones created later show as numbers.
 */
import fs from 'node:fs';
import type { EventColumns, IfaceInfo, NetnsInfo, ProbeInfo } from '@skbtrail/format';
import { RecorderError } from './errors.js';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const OFF_NONE = 0xffff;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 58: 'icmp6', 132: 'sctp' };

/** Column headers and the widths lines are padded to (a longer value widens its line, as in pwru). */
const COLUMNS: [string, number][] = [
  ['SKB', 18],
  ['CPU', 3],
  ['PROCESS', 16],
  ['NETNS', 10],
  ['MARK/x', 6],
  ['IFACE', 10],
  ['PROTO', 6],
  ['MTU', 5],
  ['LEN', 5],
  ['TUPLE', 33],
  ['FUNC', 0],
];

export interface LiveNames {
  probes: ProbeInfo[];
  dropReasons: { value: number; name: string }[];
  netns: NetnsInfo[];
  ifaces: IfaceInfo[];
}

function be16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function ipv4(b: Uint8Array, p: number): string {
  return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
}

function ipv6(b: Uint8Array, p: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(be16(b, p + 2 * i).toString(16));
  // The longest run of two or more zero words becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/**
 * saddr:sport->daddr:dport(proto) of one event's captured bytes, '' when they hold no IP
 * header. Ports only for TCP/UDP/SCTP and a first (or no) fragment, 0 otherwise, as pwru prints.
 */
export function tupleOf(b: Uint8Array, start: number, end: number, protocol: number, hasMac: number, netOff: number): string {
  let ethertype = protocol;
  let off = netOff;
  if (hasMac) {
    if (ethertype === ETH_P_8021Q || ethertype === ETH_P_8021AD || off === OFF_NONE) {
      if (start + 14 > end) return '';
      let typeAt = 12;
      let inner = be16(b, start + typeAt);
      while ((inner === ETH_P_8021Q || inner === ETH_P_8021AD) && start + typeAt + 6 <= end) {
        typeAt += 4;
        inner = be16(b, start + typeAt);
      }
      if (ethertype === ETH_P_8021Q || ethertype === ETH_P_8021AD || ethertype === 0) ethertype = inner;
      if (off === OFF_NONE) off = typeAt + 2;
    }
  } else if (off === OFF_NONE) {
    // bytes from skb->data: read as IP only when the skb says so (netlink skbs have protocol 0)
    if (ethertype === 0) return '';
    off = 0;
  }
  const p = start + off;
  if (p >= end) return '';
  if (ethertype === 0) ethertype = b[p] >> 4 === 4 ? ETH_P_IP : b[p] >> 4 === 6 ? ETH_P_IPV6 : 0;
  let proto: number;
  let saddr: string;
  let daddr: string;
  let l4 = -1;
  let family: 4 | 6;
  if (ethertype === ETH_P_IP) {
    if (p + 20 > end || b[p] >> 4 !== 4) return '';
    const ihl = (b[p] & 15) * 4;
    proto = b[p + 9];
    saddr = ipv4(b, p + 12);
    daddr = ipv4(b, p + 16);
    family = 4;
    if ((((b[p + 6] & 0x1f) << 8) | b[p + 7]) === 0 && ihl >= 20) l4 = p + ihl;
  } else if (ethertype === ETH_P_IPV6) {
    if (p + 40 > end || b[p] >> 4 !== 6) return '';
    proto = b[p + 6];
    saddr = ipv6(b, p + 8);
    daddr = ipv6(b, p + 24);
    family = 6;
    l4 = p + 40;
  } else {
    return '';
  }
  let sport = 0;
  let dport = 0;
  if ((proto === 6 || proto === 17 || proto === 132) && l4 >= 0 && l4 + 4 <= end) {
    sport = be16(b, l4);
    dport = be16(b, l4 + 2);
  }
  const host = (a: string) => (family === 6 ? `[${a}]` : a);
  return `${host(saddr)}:${sport}->${host(daddr)}:${dport}(${PROTO_NAMES[proto] ?? proto})`;
}

/** Prints batches as pwru-style lines to a file descriptor (stdout or --output-file). */
export class LivePrinter {
  private readonly comms: string[] = [];
  private readonly probeNames: string[] = [];
  private readonly reasons = new Map<number, string>();
  private readonly netnsNames = new Map<number, string>();
  private readonly ifaceNames = new Map<string, string>();
  private broken = false;

  constructor(
    private readonly fd: number,
    names: LiveNames,
    private readonly onBroken: (err: Error) => void,
  ) {
    for (const p of names.probes) this.probeNames[p.id] = p.name;
    for (const r of names.dropReasons) this.reasons.set(r.value, r.name);
    for (const n of names.netns) if (n.name) this.netnsNames.set(n.inode, n.name);
    for (const i of names.ifaces) this.ifaceNames.set(`${i.netns}:${i.ifindex}`, i.name);
    this.write(`${this.line(COLUMNS.map(([h]) => h))}\n`);
  }

  private line(cells: string[]): string {
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(COLUMNS[i][1]))).join(' ');
  }

  /** One line per event of the batch, written at once. */
  print(batch: EventColumns): void {
    for (const c of batch.newComms) this.comms.push(c);
    if (this.broken || batch.length === 0) return;
    const out: string[] = [];
    for (let i = 0; i < batch.length; i++) {
      const netns = batch.netns[i];
      const ifindex = batch.ifindex[i];
      const ifname = this.ifaceNames.get(`${netns}:${ifindex}`);
      const comm = this.comms[batch.comm[i]] || '<empty>';
      const func = this.probeNames[batch.probe[i]] ?? `probe${batch.probe[i]}`;
      const reason = batch.reason[i];
      out.push(
        this.line([
          `0x${batch.skb[i].toString(16).padStart(16, '0')}`,
          String(batch.cpu[i]),
          `${comm}:${batch.pid[i]}`,
          this.netnsNames.get(netns) ?? String(netns),
          batch.mark[i].toString(16),
          ifindex === 0 ? '0' : ifname !== undefined ? `${ifname}:${ifindex}` : String(ifindex),
          `0x${batch.protocol[i].toString(16).padStart(4, '0')}`,
          String(batch.mtu[i]),
          String(batch.len[i]),
          tupleOf(batch.headers, batch.headerOffsets[i], batch.headerOffsets[i + 1], batch.protocol[i], batch.has_mac[i], batch.net_off[i]),
          reason === 0 ? func : `${func}(SKB_DROP_REASON_${this.reasons.get(reason) ?? reason})`,
        ]),
      );
    }
    this.write(`${out.join('\n')}\n`);
  }

  private write(text: string): void {
    if (this.broken) return;
    try {
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) {
        try {
          at += fs.writeSync(this.fd, bytes, at);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(PAUSE, 0, 0, 5); // a non-blocking pipe that is full: wait for the reader
        }
      }
    } catch (err) {
      // A closed pipe (| head) or a full disk ends the live view, never the recording.
      this.broken = true;
      this.onBroken(err as Error);
    }
  }
}

export interface LiveView {
  print: (batch: EventColumns) => void;
  /** Closes the --output-file; discard: remove it too (the recording never started). */
  close: (discard?: boolean) => void;
}

/** The live views asked for: --live (stdout) and pwru's --output-file; null when none. */
export function startLive(opts: { live?: boolean; liveFile?: string; log: (line: string) => void }, names: LiveNames): LiveView | null {
  const printers: LivePrinter[] = [];
  let fd: number | null = null;
  const file = opts.liveFile;
  if (file !== undefined) {
    try {
      fd = fs.openSync(file, 'w');
    } catch (err) {
      throw new RecorderError('IO', `cannot write --output-file ${file}: ${(err as Error).message}`, { cause: err });
    }
    printers.push(new LivePrinter(fd, names, (err) => opts.log(`stopped writing ${file}: ${err.message}; still recording`)));
  }
  if (opts.live) {
    printers.push(new LivePrinter(1, names, (err) => opts.log(`stopped the live view on stdout (${(err as NodeJS.ErrnoException).code ?? err.message}); still recording`)));
  }
  if (printers.length === 0) return null;
  return {
    print: (batch) => {
      for (const p of printers) p.print(batch);
    },
    close: (discard = false) => {
      if (fd === null) return;
      fs.closeSync(fd);
      fd = null;
      if (discard && file !== undefined) fs.rmSync(file, { force: true });
    },
  };
}
