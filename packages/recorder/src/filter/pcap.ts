/** pcap-filter expressions compiled by the system libpcap, through the native addon. */
import { RecorderError } from '../errors.js';
import type { NativeAddon } from '../native.js';
import { decodeCbpf, type CbpfInsn } from './cbpf.js';

/** ether: bytes start at an Ethernet header (DLT_EN10MB); raw: at an IPv4/IPv6 header (DLT_RAW). */
export type LinkType = 'ether' | 'raw';

/** libpcap's snaplen for the dead handle: only the accept value (`ret #262144`) depends on it. */
export const PCAP_SNAPLEN = 262144;

/** libpcap refused the expression; `message` is libpcap's own words. */
export class PcapError extends Error {
  readonly code = 'PCAP';
}

/** pcap_compile(expr) for a dead handle of this link type, optimized, netmask unknown. */
export function compilePcap(native: Pick<NativeAddon, 'pcapCompile'>, expression: string, linktype: LinkType): CbpfInsn[] {
  try {
    return decodeCbpf(native.pcapCompile(expression, linktype, PCAP_SNAPLEN));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e?.code === 'PCAP') throw new PcapError(e.message ?? 'libpcap refused the expression');
    throw new RecorderError('LOAD', `compiling the pcap-filter failed: ${e?.message ?? String(err)}`, { cause: err });
  }
}
