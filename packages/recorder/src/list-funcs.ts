import { discoverSkbFuncs, type DiscoveryOptions } from './discovery.js';
import { loadNative } from './native.js';

/**
 * `record --list-funcs`: the functions the kprobe backends would attach to, one per line on stdout
 * (name, skb argument position, module or vmlinux, tab-separated); the counts on stderr.
 */
export function listFuncs(opts: DiscoveryOptions, log: (line: string) => void): void {
  const { funcs, unprobeable, checked } = discoverSkbFuncs(loadNative(), opts);
  process.stdout.write(funcs.map((f) => `${f.name}\t${f.skbArg}\t${f.module ?? 'vmlinux'}\n`).join(''));
  log(
    checked
      ? `${funcs.length} functions taking an skb (ignored ${unprobeable.length} not in available_filter_functions)`
      : `${funcs.length} functions taking an skb (available_filter_functions unreadable: not checked)`,
  );
}
