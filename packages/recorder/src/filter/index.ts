/**
 * The recorder's pcap-filter: one expression compiled by libpcap twice, for packets seen
 * from their Ethernet header and for packets seen from their network header (an skb
 * without a mac header), each translated to eBPF for the filter placeholders.
 */
import { RecorderError } from '../errors.js';
import type { NativeAddon } from '../native.js';
import { REJECT_ALL, translate, TranslateError, type Translation } from './cbpf-to-ebpf.js';
import { compilePcap, PcapError, type LinkType } from './pcap.js';

export { translate, REJECT_ALL, TranslateError, FILTER_BYTES, type Translation } from './cbpf-to-ebpf.js';
export { compilePcap, PcapError, PCAP_SNAPLEN, type LinkType } from './pcap.js';
export * from './cbpf.js';

export interface CompiledFilter {
  expression: string;
  /** For bytes from the mac header (placeholder 'l2'). */
  l2: Translation;
  /** For bytes from the network header (placeholder 'l3'). */
  l3: Translation;
  /** Why packets without a link-layer header can never match, when libpcap refused the expression for raw IP. */
  l3RejectsAll: string | null;
}

/**
 * Compiles and translates `expression` for both layers. An expression libpcap refuses for
 * Ethernet is a usage error carrying libpcap's message. One it accepts for Ethernet but
 * not for raw IP (`vlan`, `ether host ...`, `arp`) can only match packets that have a
 * link-layer header, so the network-layer filter rejects everything.
 */
export function compileFilter(native: Pick<NativeAddon, 'pcapCompile'>, expression: string): CompiledFilter {
  const usage = (message: string, cause: unknown) =>
    new RecorderError('USAGE', `invalid pcap-filter expression "${expression}": ${message} — see man 7 pcap-filter`, { cause });
  let l2: Translation;
  try {
    l2 = translate(compilePcap(native, expression, 'ether'));
  } catch (err) {
    if (err instanceof PcapError) throw usage(err.message, err);
    if (err instanceof TranslateError) throw new RecorderError('NOT_SUPPORTED', `pcap-filter "${expression}" can't run in the kernel: ${err.message}`, { cause: err });
    throw err;
  }
  let l3: Translation;
  let l3RejectsAll: string | null = null;
  try {
    l3 = translate(compilePcap(native, expression, 'raw' satisfies LinkType));
  } catch (err) {
    if (err instanceof TranslateError) throw new RecorderError('NOT_SUPPORTED', `pcap-filter "${expression}" can't run in the kernel: ${err.message}`, { cause: err });
    if (!(err instanceof PcapError)) throw err;
    l3RejectsAll = err.message;
    l3 = translate(REJECT_ALL);
  }
  return { expression, l2, l3, l3RejectsAll };
}
