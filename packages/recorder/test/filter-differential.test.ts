/**
 * The pcap-filter translator, checked against libpcap itself: every expression of
 * filter-corpus/expressions.txt is compiled by libpcap, translated to eBPF, spliced into
 * the same placeholder the recorder uses and run in the kernel with BPF_PROG_TEST_RUN on
 * every packet of filter-corpus/packets.json. Its verdict (the filter's return value) must
 * equal libpcap's interpreter's (pcap_offline_filter) on every pair, for Ethernet frames
 * (the recorder's l2 filter) and for raw IP packets (its l3 filter).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Native from '@skbtrail/native';
import { compilePcap, PcapError, translate, type LinkType } from '../src/filter/index.js';
import { ROOT } from './netlab.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpusDir = path.join(here, 'filter-corpus');

interface CorpusPacket { name: string; hex: string; wirelen: number }
interface Corpus { ether: CorpusPacket[]; raw: CorpusPacket[] }

const corpus = JSON.parse(fs.readFileSync(path.join(corpusDir, 'packets.json'), 'utf8')) as Corpus;
const expressions = fs
  .readFileSync(path.join(corpusDir, 'expressions.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Why the kernel half can't run here, or null; on CI a reason is a failure. */
function skipReason(): string | null {
  let reason: string | null = null;
  if (process.getuid?.() !== 0) reason = 'BPF_PROG_TEST_RUN needs root';
  else if (!fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node'))) reason = 'native addon not built (npm run build)';
  else if (!fs.existsSync(path.join(ROOT, 'native/build/filter_test.bpf.o'))) reason = 'filter_test.bpf.o not built (npm run build)';
  if (reason && process.env.CI === 'true') throw new Error(`the differential test cannot run on CI: ${reason}`);
  return reason;
}
const skip = skipReason();
if (skip) console.log(`skipping the pcap-filter differential test: ${skip}`);

/** The corpus as the addon takes it: bytes concatenated, offsets (n + 1), wire lengths. */
function packed(packets: CorpusPacket[]) {
  const parts = packets.map((p) => Buffer.from(p.hex, 'hex'));
  const offsets = new Uint32Array(parts.length + 1);
  parts.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.length));
  return { bytes: new Uint8Array(Buffer.concat(parts)), offsets, wirelens: Uint32Array.from(packets.map((p) => p.wirelen)) };
}

describe('the differential corpus', () => {
  it('is what generate.mjs produces, and big enough', async () => {
    const gen = (await import(path.join(corpusDir, 'generate.mjs'))) as { generate: () => unknown; render: (c: unknown) => string };
    expect(fs.readFileSync(path.join(corpusDir, 'packets.json'), 'utf8'), 'packets.json is stale: run generate.mjs').toBe(gen.render(gen.generate()));
    expect(corpus.ether.length).toBeGreaterThanOrEqual(200);
    expect(corpus.raw.length).toBeGreaterThanOrEqual(200);
    expect(expressions.length).toBeGreaterThanOrEqual(40);
    for (const p of [...corpus.ether, ...corpus.raw]) expect(p.hex.length / 2).toBeLessThanOrEqual(256);
  });
});

describe.skipIf(skip)('the pcap-filter translator agrees with libpcap', () => {
  let native: typeof Native;
  beforeAll(() => {
    native = createRequire(import.meta.url)('@skbtrail/native') as typeof Native;
  });

  describe.each([
    ['ether', 'l2', corpus.ether],
    ['raw', 'l3', corpus.raw],
  ] as const)('on %s packets (the %s filter)', (linktype: LinkType, layer, packets) => {
    it(`gives pcap_offline_filter's verdict on every packet for every expression`, () => {
      const { bytes, offsets, wirelens } = packed(packets);
      const disagreements: string[] = [];
      const refused: string[] = [];
      let pairs = 0;
      let matches = 0;
      for (const expr of expressions) {
        let insns: Uint8Array;
        try {
          insns = translate(compilePcap(native, expr, linktype)).insns;
        } catch (err) {
          // Only raw IP may refuse: the link-layer expressions (vlan, ether, arp).
          if (linktype === 'raw' && err instanceof PcapError) {
            refused.push(`${expr} (${err.message})`);
            continue;
          }
          throw err;
        }
        const want = native.pcapOfflineMatch(expr, linktype, bytes, offsets, wirelens);
        const got = native.filterTestRun(native.filterTestObjectPath, layer, insns, bytes, offsets, wirelens);
        packets.forEach((p, i) => {
          pairs++;
          if (want[i] !== 0) matches++;
          if (want[i] !== got[i]) {
            disagreements.push(
              `expression: ${expr}\n  packet: ${p.name} (${p.hex.length / 2} bytes captured, ${p.wirelen} on the wire)\n  bytes: ${p.hex}\n` +
                `  libpcap: ${want[i]} (${want[i] ? 'match' : 'no match'}), eBPF: ${got[i]} (${got[i] ? 'match' : 'no match'})`,
            );
          }
        });
      }
      if (disagreements.length > 0) console.error(`${disagreements.length} disagreements:\n${disagreements.slice(0, 50).join('\n')}`);
      console.log(
        `${linktype}: ${packets.length} packets × ${expressions.length - refused.length} expressions = ${pairs} pairs, ` +
          `${pairs - disagreements.length} agree (${matches} matches)` +
          (refused.length ? `; libpcap refuses ${refused.length} for raw IP: ${refused.join('; ')}` : ''),
      );
      expect(disagreements).toEqual([]);
      // Every expression matches something and misses something: the corpus exercises it.
      expect(matches).toBeGreaterThan(0);
      if (linktype === 'ether') expect(refused).toEqual([]);
    });
  });

  it('finds, for every expression, a packet it matches and one it does not', () => {
    const idle: string[] = [];
    for (const expr of expressions) {
      const { bytes, offsets, wirelens } = packed(corpus.ether);
      const verdicts = native.pcapOfflineMatch(expr, 'ether', bytes, offsets, wirelens);
      const hits = verdicts.filter((v) => v !== 0).length;
      if (hits === 0 || hits === verdicts.length) idle.push(`${expr}: ${hits}/${verdicts.length}`);
    }
    expect(idle).toEqual([]);
  });
});
