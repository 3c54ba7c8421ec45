// Kernel addresses → `name+0xOFF` with the recording's own kallsyms (only the symbols that
// contain a recorded address, plus the one after each), the way pwru and perf print them.
import type { KallsymsTable } from '@skbtrail/format/file';

export interface KernelSymbol {
  addr: bigint;
  name: string;
  module: string | null;
}

export class Symbolizer {
  /** sorted by address */
  readonly symbols: KernelSymbol[];

  constructor(kallsyms: KallsymsTable | null) {
    const symbols: KernelSymbol[] = [];
    if (kallsyms) {
      kallsyms.addr.forEach((addr, i) => symbols.push({ addr, name: kallsyms.name[i], module: kallsyms.module[i] }));
    }
    this.symbols = symbols.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  }

  /** The symbol with the greatest start <= addr, or null. */
  containing(addr: bigint): KernelSymbol | null {
    let lo = 0;
    let hi = this.symbols.length - 1;
    let found: KernelSymbol | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.symbols[mid].addr <= addr) {
        found = this.symbols[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** `name+0xoff`, or the address in hex when no symbol covers it. */
  text(addr: bigint): string {
    const sym = this.containing(addr);
    return sym ? `${sym.name}+0x${(addr - sym.addr).toString(16)}` : `0x${addr.toString(16)}`;
  }
}
