import fs from 'node:fs';

export interface SymbolTable {
  addr: BigUint64Array;
  name: string[];
  module: (string | null)[];
}

/** Text symbols of /proc/kallsyms, sorted by address. Addresses read as 0 when kptr_restrict hides them. */
export function readKallsyms(file = '/proc/kallsyms'): SymbolTable {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const rows: { addr: bigint; name: string; module: string | null }[] = [];
  for (const line of lines) {
    const sp1 = line.indexOf(' ');
    const type = line[sp1 + 1];
    if (type !== 't' && type !== 'T') continue;
    const rest = line.slice(sp1 + 3);
    const tab = rest.indexOf('\t');
    const name = tab < 0 ? rest : rest.slice(0, tab);
    const module = tab < 0 ? null : rest.slice(tab + 1).replace(/^\[|\]$/g, '');
    rows.push({ addr: BigInt('0x' + line.slice(0, sp1)), name, module });
  }
  rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return { addr: BigUint64Array.from(rows, (r) => r.addr), name: rows.map((r) => r.name), module: rows.map((r) => r.module) };
}

/** Index of the symbol containing addr (greatest start <= addr), or -1. */
function containing(table: SymbolTable, addr: bigint): number {
  let lo = 0;
  let hi = table.addr.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (table.addr[mid] <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The entries a recording needs to symbolize its own addresses offline: each symbol that contains
 * one of them, plus the symbol after it so the analyzer knows where the containing one ends.
 */
export function symbolsFor(table: SymbolTable, addrs: Iterable<bigint>): SymbolTable {
  const keep = new Set<number>();
  for (const a of addrs) {
    const i = containing(table, a);
    if (i < 0) continue;
    keep.add(i);
    if (i + 1 < table.addr.length) keep.add(i + 1);
  }
  const idx = [...keep].sort((x, y) => x - y);
  return {
    addr: BigUint64Array.from(idx, (i) => table.addr[i]),
    name: idx.map((i) => table.name[i]),
    module: idx.map((i) => table.module[i]),
  };
}

/**
 * Addresses of the named text symbols (a static function may exist at several), read in one pass
 * that only parses the lines whose name is wanted. Addresses read as 0 when kptr_restrict hides them.
 */
export function addressesOf(names: Set<string>, file = '/proc/kallsyms'): Map<string, bigint[]> {
  const found = new Map<string, bigint[]>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    // "ffffffff81b2c6b0 T ip_rcv" or "ffffffffc0a01000 t veth_xmit\t[veth]"
    const sp1 = line.indexOf(' ');
    if ((line.charCodeAt(sp1 + 1) | 0x20) !== 0x74) continue; // t or T: text
    const tab = line.indexOf('\t', sp1 + 3);
    const name = tab < 0 ? line.slice(sp1 + 3) : line.slice(sp1 + 3, tab);
    if (!names.has(name)) continue;
    const addr = BigInt('0x' + line.slice(0, sp1));
    const list = found.get(name);
    if (list) list.push(addr);
    else found.set(name, [addr]);
  }
  return found;
}
