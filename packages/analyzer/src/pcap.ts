// pcap-filter expressions over the recorded header bytes, through the system's libpcap (the
// optional addon in native-pcap/, built by the analyzer's install script when libpcap's headers
// are there). Each expression is compiled twice: for events whose bytes start at the Ethernet
// header, and for those that start at the IP header (no MAC header yet, or none at all).
import { createRequire } from 'node:module';
import type { FixedColumnName } from '@skbtrail/format/file';
import type { LoadedBatch } from './dataset.js';
import { AnalyzerError } from './errors.js';

interface PcapAddon {
  compile(expression: string, linktype: number, snaplen: number): object;
  match(
    filter: object,
    bytes: Uint8Array,
    offsets: Int32Array,
    wireLen: Uint32Array,
    hasMac: Uint8Array,
    want: number,
    start: number,
    n: number,
    out: Uint8Array,
  ): void;
  DLT_EN10MB: number;
  DLT_RAW: number;
}

export interface PcapFilter {
  expression: string;
  /** the columns matching reads, besides the header bytes */
  fields: FixedColumnName[];
  /** out[i] = 1 when row start + i matches */
  match(batch: LoadedBatch, start: number, n: number, out: Uint8Array): void;
}

let addon: PcapAddon | null | undefined;

/** The addon, or null when it was not built (SKBTRAIL_PCAP_ADDON points elsewhere, for tests). */
function loadAddon(): PcapAddon | null {
  if (addon !== undefined) return addon;
  const path = process.env.SKBTRAIL_PCAP_ADDON ?? '../native-pcap/build/Release/skbtrail_pcap.node';
  try {
    addon = createRequire(import.meta.url)(path) as PcapAddon;
  } catch {
    addon = null;
  }
  return addon;
}

export function pcapAvailable(): boolean {
  return loadAddon() !== null;
}

function compileFor(pcap: PcapAddon, expression: string, linktype: number, snaplen: number): { filter: object | null; error: string | null } {
  try {
    return { filter: pcap.compile(expression, linktype, snaplen), error: null };
  } catch (err) {
    return { filter: null, error: (err as Error).message };
  }
}

export function compilePcap(expression: string, snaplen: number): PcapFilter {
  const pcap = loadAddon();
  if (pcap === null) {
    throw new AnalyzerError('UNAVAILABLE', 'pcap filters need libpcap (apt install libpcap-dev, then npm rebuild)', 'use --where "SQL" instead');
  }
  const l2 = compileFor(pcap, expression, pcap.DLT_EN10MB, Math.max(snaplen, 64));
  const l3 = compileFor(pcap, expression, pcap.DLT_RAW, Math.max(snaplen, 64));
  if (l2.filter === null && l3.filter === null) {
    throw new AnalyzerError('PCAP', `pcap filter "${expression}": ${l2.error}`, 'see man 7 pcap-filter, or use --where "SQL"');
  }
  return {
    expression,
    fields: ['has_mac', 'len'],
    match(batch, start, n, out) {
      out.fill(0, 0, n);
      const { bytes, offsets } = batch.headers;
      const len = batch.field<Uint32Array>('len');
      const hasMac = batch.field<Uint8Array>('has_mac');
      if (l2.filter) pcap.match(l2.filter, bytes, offsets, len, hasMac, 1, start, n, out);
      if (l3.filter) pcap.match(l3.filter, bytes, offsets, len, hasMac, 0, start, n, out);
    },
  };
}
