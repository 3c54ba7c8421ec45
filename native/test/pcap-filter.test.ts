// The addon's pcap-filter surface: libpcap compile errors, the checks injectFilter makes
// before splicing, and (root) that the recorder's programs load with a filter spliced in
// and the verifier's objections come back as VERIFIER errors.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Native from '../index.js';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(nativeDir, 'build/Release/skbtrail_native.node')) && existsSync(join(nativeDir, 'build/filter_test.bpf.o'));
const notBuilt = built ? null : 'addon not built (npm run build -w native)';
const notRoot = process.getuid?.() !== 0 ? 'needs root' : null;
if (process.env.CI === 'true' && (notBuilt || notRoot)) throw new Error(`pcap-filter native tests can't run in CI: ${notBuilt ?? notRoot}`);

// eBPF instructions, little-endian host (this suite runs on x86-64).
const insn = (code: number, dst: number, src: number, off: number, imm: number) => {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
};
const body = (...insns: Buffer[]) => new Uint8Array(Buffer.concat(insns));
const MOV32_IMM = 0xb4; // w0 = imm
const LDX_W = 0x61; // r0 = *(u32 *)(src + off)
const JA = 0x05;
const EXIT = 0x95;
const CALL = 0x85;

describe.skipIf(notBuilt)(`pcap-filter in the addon${notBuilt ? ` (skipped: ${notBuilt})` : ''}`, () => {
  let native: typeof Native;
  beforeAll(() => {
    native = createRequire(import.meta.url)('../index.cjs');
  });

  it('compiles an expression to classic BPF, for Ethernet and for raw IP', () => {
    const ether = native.pcapCompile('dst host 10.0.0.1 and tcp and dst port 80', 'ether', 262144);
    const raw = native.pcapCompile('dst host 10.0.0.1 and tcp and dst port 80', 'raw', 262144);
    expect(ether.length % 8).toBe(0);
    expect(ether.length).toBeGreaterThan(8);
    // The first load differs: the ethertype at 12 for Ethernet, the version nibble at 0 for raw IP.
    expect(Buffer.from(ether).readUInt32LE(4)).toBe(12);
    expect(Buffer.from(ether)).not.toEqual(Buffer.from(raw));
  });

  it("throws libpcap's own message, with code PCAP", () => {
    expect(() => native.pcapCompile('tcp and', 'ether')).toThrow(expect.objectContaining({ code: 'PCAP', message: "can't parse filter expression: syntax error" }));
    expect(() => native.pcapCompile('vlan 100', 'raw')).toThrow(expect.objectContaining({ code: 'PCAP', message: 'no VLAN support for Raw IP' }));
    expect(() => native.pcapCompile('tcp', 'fddi' as 'ether')).toThrow(TypeError);
  });

  it("returns pcap_offline_filter's verdicts", () => {
    const frame = Buffer.alloc(60);
    frame.writeUInt16BE(0x0806, 12); // ARP
    const packets = new Uint8Array(Buffer.concat([frame, frame.subarray(0, 10)]));
    const verdicts = native.pcapOfflineMatch('arp', 'ether', packets, Uint32Array.from([0, 60, 70]), Uint32Array.from([60, 60]));
    expect([...verdicts]).toEqual([262144, 0]); // the second capture is cut before the ethertype
  });

  it('refuses malformed filters before touching the object', () => {
    const handle = native.open(native.objectPath);
    try {
      expect(() => native.injectFilter(handle, 'l4' as 'l2', body(insn(MOV32_IMM, 0, 0, 0, 0)))).toThrow(TypeError);
      expect(() => native.injectFilter(handle, 'l2', new Uint8Array(12))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => native.injectFilter(handle, 'l2', body(insn(JA, 0, 0, 5, 0)))).toThrow(/jumps outside the filter/);
      expect(() => native.injectFilter(handle, 'l2', body(insn(EXIT, 0, 0, 0, 0)))).toThrow(/call, exit or 64-bit load/);
      expect(() => native.injectFilter(handle, 'l2', body(insn(CALL, 0, 0, 0, 1)))).toThrow(/call, exit or 64-bit load/);
      native.injectFilter(handle, 'l2', body(insn(MOV32_IMM, 0, 0, 0, 1), insn(JA, 0, 0, 0, 0)));
      expect(() => native.injectFilter(handle, 'l2', body(insn(MOV32_IMM, 0, 0, 0, 1)))).toThrow(/already injected/);
    } finally {
      native.close(handle);
    }
  });

  describe.skipIf(notRoot)('in the kernel', () => {
    it('loads all recorder programs with filters spliced in, and refuses a late one', () => {
      const handle = native.open(native.objectPath);
      try {
        native.injectFilter(handle, 'l2', body(insn(MOV32_IMM, 0, 0, 0, 1)));
        // No l3 filter: the addon makes that layer match nothing.
        expect(native.load(handle).unavailable).toEqual([]);
        expect(() => native.injectFilter(handle, 'l3', body(insn(MOV32_IMM, 0, 0, 0, 1)))).toThrow(/before load/);
      } finally {
        native.close(handle);
      }
    });

    it("reports the verifier's objection to a bad filter as VERIFIER", () => {
      // Reads past the end of the filter buffer's map value.
      const bad = body(insn(LDX_W, 0, 1, 30000, 0));
      const handle = native.open(native.objectPath);
      try {
        native.injectFilter(handle, 'l3', bad);
        expect(() => native.load(handle)).toThrow(expect.objectContaining({ code: 'VERIFIER', message: expect.stringMatching(/verifier rejected tp_/) }));
      } finally {
        native.close(handle);
      }
      expect(() =>
        native.filterTestRun(native.filterTestObjectPath, 'l2', bad, new Uint8Array(1), Uint32Array.from([0, 1]), Uint32Array.from([1])),
      ).toThrow(expect.objectContaining({ code: 'VERIFIER' }));
    });

    it('runs a filter on test packets and hands back its return values', () => {
      // r0 = r2 (bytes captured) + r3 (wire length): shows what the placeholder passes in.
      const sum = body(insn(0xbf, 0, 2, 0, 0), insn(0x0f, 0, 3, 0, 0));
      const packets = new Uint8Array(300);
      const got = native.filterTestRun(native.filterTestObjectPath, 'l3', sum, packets, Uint32Array.from([0, 0, 20, 276]), Uint32Array.from([7, 1500, 9000]));
      expect([...got]).toEqual([0 + 7, 20 + 1500, 256 + 9000]);
      expect(() =>
        native.filterTestRun(native.filterTestObjectPath, 'l3', sum, packets, Uint32Array.from([0, 300]), Uint32Array.from([300])),
      ).toThrow(/at most 256 bytes/);
    });
  });
});
