import fs from 'node:fs';
import path from 'node:path';
import { RecorderError, fromNativeError } from './errors.js';
import type { BtfSkbFunc, NativeAddon } from './native.js';
import { availableFilterFunctions } from './tracefs.js';

const KERNEL_BTF_DIR = '/sys/kernel/btf';

/** A kernel function that takes a struct sk_buff * in one of its first five arguments. */
export interface SkbFunc {
  name: string;
  /** 1-based position of the skb argument */
  skbArg: number;
  /** the module defining it; null for the kernel itself */
  module: string | null;
  /** its return type's size in bytes, negative when signed (-4: int); 0: void */
  ret: number;
}

export interface DiscoveryOptions {
  /** BTF file describing the kernel (default: the running kernel's) */
  kernelBtf?: string;
  /** modules whose BTF is searched too */
  kmods?: string[];
  allKmods?: boolean;
  filterFunc?: RegExp;
}

export interface Discovery {
  /** what can be probed, in BTF order, kernel functions first */
  funcs: SkbFunc[];
  /** found in BTF and selected, but not in available_filter_functions */
  unprobeable: SkbFunc[];
  /** false when available_filter_functions was unreadable, so nothing was checked */
  checked: boolean;
}

/**
 * The functions skbtrail's kprobe, kprobe-multi and fentry backends attach to, found like pwru
 * finds them: every BTF function with an skb argument, narrowed by --filter-func, minus what
 * ftrace can't hook. A name defined twice (kernel and module, or two modules) is traced once,
 * where the kernel would resolve it first.
 */
export function discoverSkbFuncs(native: NativeAddon, opts: DiscoveryOptions): Discovery {
  const found: SkbFunc[] = [];
  const names = new Set<string>();
  const add = (list: BtfSkbFunc[], module: string | null) => {
    for (const f of list) {
      if (names.has(f.name) || (opts.filterFunc && !opts.filterFunc.test(f.name))) continue;
      names.add(f.name);
      found.push({ ...f, module });
    }
  };
  add(readBtf(native, { btf: opts.kernelBtf }, opts.kernelBtf ?? `${KERNEL_BTF_DIR}/vmlinux`), null);
  for (const module of selectedModules(opts)) {
    add(readBtf(native, { btf: opts.kernelBtf, moduleBtf: `${KERNEL_BTF_DIR}/${module}` }, `${KERNEL_BTF_DIR}/${module}`), module);
  }

  const available = availableFilterFunctions();
  if (available === null) return { funcs: found, unprobeable: [], checked: false };
  const funcs: SkbFunc[] = [];
  const unprobeable: SkbFunc[] = [];
  for (const f of found) (available.get(f.name)?.has(f.module ?? '') ? funcs : unprobeable).push(f);
  return { funcs, unprobeable, checked: true };
}

function readBtf(native: NativeAddon, source: { btf?: string; moduleBtf?: string }, file: string): BtfSkbFunc[] {
  try {
    return native.btfSkbFuncs(source);
  } catch (err) {
    throw fromNativeError(err, `reading functions from BTF (${file}) failed`);
  }
}

/** --kmods names, each checked to be loaded (it has BTF), or every module with BTF for --all-kmods. */
function selectedModules(opts: DiscoveryOptions): string[] {
  if (opts.allKmods) return loadedModulesWithBtf();
  const missing = (opts.kmods ?? []).filter((m) => !fs.existsSync(path.join(KERNEL_BTF_DIR, m)));
  if (missing.length > 0) {
    throw new RecorderError(
      'USAGE',
      `--kmods: module${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not loaded (no ${KERNEL_BTF_DIR}/${missing[0]}) — load it first (modprobe ${missing[0]}) or check lsmod`,
    );
  }
  return opts.kmods ?? [];
}

function loadedModulesWithBtf(): string[] {
  try {
    return fs.readdirSync(KERNEL_BTF_DIR).filter((m) => m !== 'vmlinux').sort();
  } catch {
    return [];
  }
}
