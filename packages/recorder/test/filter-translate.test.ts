/**
 * The classic → eBPF translator on hand-made programs, without a kernel: what it refuses,
 * and that it emits only reachable code (the verifier refuses anything else). Whether the
 * translations behave like libpcap is filter-differential.test.ts's job.
 */
import { describe, expect, it } from 'vitest';
import {
  BPF_ABS, BPF_B, BPF_H, BPF_JA, BPF_JEQ, BPF_JGT, BPF_JMP, BPF_JMP32, BPF_JSET, BPF_K, BPF_LD, BPF_MEM, BPF_RET, BPF_ST, BPF_W, BPF_X,
  REJECT_ALL, TranslateError, decodeCbpf, decodeEbpf, encodeCbpf, translate, type CbpfInsn,
} from '../src/filter/index.js';

const ld = (size: number, k: number): CbpfInsn => ({ code: BPF_LD | size | BPF_ABS, jt: 0, jf: 0, k });
const jeq = (k: number, jt: number, jf: number): CbpfInsn => ({ code: BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k });
const ret = (k: number): CbpfInsn => ({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k });
const ja = (k: number): CbpfInsn => ({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k });

describe('translating classic BPF to eBPF', () => {
  it('round-trips struct sock_filter', () => {
    const prog = [ld(BPF_H, 12), jeq(0x800, 0, 1), ret(262144), ret(0)];
    expect(decodeCbpf(encodeCbpf(prog))).toEqual(prog);
  });

  it('translates "reject everything" to a handful of instructions that end at the body end', () => {
    const t = translate(REJECT_ALL);
    const insns = decodeEbpf(t.insns);
    expect(insns).toHaveLength(t.count);
    const last = insns.at(-1)!;
    expect(last.code).toBe(BPF_JMP | BPF_JA);
    expect(last.off).toBe(0); // the last instruction: the end is right after it
  });

  it('jumps only inside the body or to its end', () => {
    const prog = [ld(BPF_H, 12), jeq(0x800, 0, 3), ld(BPF_B, 23), jeq(6, 0, 1), ret(262144), ret(0)];
    const insns = decodeEbpf(translate(prog).insns);
    insns.forEach((insn, at) => {
      const cls = insn.code & 7;
      if (cls !== BPF_JMP && cls !== BPF_JMP32) return;
      expect(at + 1 + insn.off).toBeGreaterThanOrEqual(0);
      expect(at + 1 + insn.off).toBeLessThanOrEqual(insns.length);
    });
    // Comparisons of A are 32-bit (JMP32); "jeq #k, 0, n" becomes one "jne".
    const compares = insns.filter((i) => (i.code & 7) === BPF_JMP32);
    expect(compares.map((i) => i.code & 0xf0)).toEqual([0x50, 0x50]);
  });

  it('emits nothing after a load that can never succeed (past the 256-byte window)', () => {
    const beyond = translate([ld(BPF_W, 300), jeq(1, 0, 1), ret(1), ret(0)]);
    const small = translate([ret(0)]);
    // prologue, goto ret0, ret0: w0 = 0 — and no code for the comparison or the returns.
    expect(beyond.reachable).toBe(1);
    expect(beyond.count).toBeLessThanOrEqual(small.count);
    // An ancillary load (SKF_AD_OFF + n) fails the same way, as in pcap_offline_filter.
    expect(translate([ld(BPF_B, 0xfffff000 + 44), ret(1)]).reachable).toBe(1);
  });

  it('checks a captured length once when an earlier load already covered it', () => {
    const twice = translate([ld(BPF_W, 26), ld(BPF_H, 12), jeq(0x800, 0, 1), ret(1), ret(0)]);
    const once = translate([ld(BPF_H, 12), jeq(0x800, 0, 1), ret(1), ret(0)]);
    // The second load needs no check of its own: one load + one swap more, no comparison.
    expect(twice.count - once.count).toBe(2);
  });

  it('refuses loops, with a sentence instead of a verifier log', () => {
    expect(() => translate([ld(BPF_B, 0), ja(-2 >>> 0), ret(0)])).toThrow(/loops \(as in "protochain"\) are not supported/);
  });

  it('refuses programs libpcap would not run', () => {
    const bad: [string, CbpfInsn[]][] = [
      ['jumps past the end', [jeq(1, 0, 5), ret(0)]],
      ['no such scratch memory word', [{ code: BPF_ST, jt: 0, jf: 0, k: 16 }, ret(0)]],
      ['no such scratch memory word', [{ code: BPF_LD | BPF_W | BPF_MEM, jt: 0, jf: 0, k: 99 }, ret(0)]],
      ['returns K or A only', [{ code: BPF_RET | BPF_X, jt: 0, jf: 0, k: 0 }]],
      ['unknown jump', [{ code: BPF_JMP | 0x50, jt: 0, jf: 0, k: 0 }, ret(0)]],
      ['falls off the end', [ld(BPF_B, 0)]],
      ['empty', []],
    ];
    for (const [why, prog] of bad) expect(() => translate(prog), why).toThrow(TranslateError);
  });

  it('keeps JSET as a test with both branches (eBPF has no "jump if no bit set")', () => {
    const insns = decodeEbpf(translate([ld(BPF_B, 47), { code: BPF_JMP | BPF_JSET | BPF_K, jt: 0, jf: 1, k: 2 }, ret(0), ret(1)]).insns);
    const at = insns.findIndex((i) => i.code === (BPF_JMP32 | BPF_JSET | BPF_K));
    expect(at).toBeGreaterThan(0);
    expect(insns[at + 1].code).toBe(BPF_JMP | BPF_JA);
    expect(insns.some((i) => i.code === (BPF_JMP32 | BPF_JGT | BPF_K))).toBe(false);
  });
});
