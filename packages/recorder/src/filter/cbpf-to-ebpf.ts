/**
 * Classic BPF → eBPF, for the placeholder contract of bpf/skbtrail.h:
 *
 *   in:  r1 = struct skbtrail_filter_buf * (bytes[256], then u32 mem[16]),
 *        r2 = bytes valid in buf->bytes (0..256), r3 = the packet's wire length;
 *   out: r0 = the classic program's return value (0: no match), then execution reaches
 *        the end of the body (a jump to index body.length, or falling off the last
 *        instruction); r1-r5 are clobbered.
 *
 * The result behaves like libpcap's interpreter (bpf_filter.c) with buflen = r2 and
 * wirelen = r3: A and X start at 0; a load that reaches past the captured bytes returns 0;
 * so do a division or modulo by zero and a load of an ancillary (SKF_AD_*) or negative
 * offset, like pcap_offline_filter, which has no ancillary data.
 *
 * Registers: A = w0, X = w4 (both always zero-extended to 64 bits), r5 = scratch.
 * Only instructions reachable from the entry are emitted: the verifier refuses a
 * program with unreachable code, and the code after a load that can never succeed
 * (its offset is past the 256-byte window) is unreachable by construction. Programs
 * with backward jumps (libpcap's "protochain") are refused: the verifier can't prove
 * a loop over packet data ends.
 */
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_DIV, BPF_END, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JGE,
  BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM,
  BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MOV, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST, BPF_STX,
  BPF_SUB, BPF_TAX, BPF_TO_BE, BPF_TXA, BPF_W, BPF_H, BPF_B, BPF_X, BPF_XOR,
  bpfClass, bpfMiscOp, bpfMode, bpfOp, bpfRval, bpfSize, bpfSrc, encodeEbpf, formatCbpf, sizeBytes,
  type CbpfInsn, type EbpfInsn,
} from './cbpf.js';

/** Packet bytes the filter can see (SKBTRAIL_FILTER_BYTES). */
export const FILTER_BYTES = 256;
/** Offset of the scratch memory M[] in struct skbtrail_filter_buf. */
const MEM_OFFSET = FILTER_BYTES;
/** eBPF jump offsets are 16-bit. */
const MAX_JUMP = 0x7fff;

const R0 = 0; // A
const R1 = 1; // buf
const R2 = 2; // bytes captured
const R3 = 3; // wire length
const R4 = 4; // X
const R5 = 5; // scratch

export class TranslateError extends Error {
  readonly code = 'TRANSLATE';
}

/** The classic program that matches nothing. */
export const REJECT_ALL: CbpfInsn[] = [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 }];

export interface Translation {
  /** struct bpf_insn array to hand to injectFilter. */
  insns: Uint8Array;
  /** Instruction count of the eBPF body. */
  count: number;
  /** Classic instructions emitted (the reachable ones). */
  reachable: number;
}

type Label = string;
interface Pending extends EbpfInsn {
  /** The label this jump goes to; resolved to `off` once every label has a position. */
  target?: Label;
}

const cbpfLabel = (pc: number): Label => `c${pc}`;
const RET0: Label = 'ret0';
const END: Label = 'end';

/** Whether a classic instruction can never succeed here (it always makes the filter return 0). */
function alwaysFails(insn: CbpfInsn): boolean {
  const cls = bpfClass(insn.code);
  if (cls === BPF_LD && (bpfMode(insn.code) === BPF_ABS || bpfMode(insn.code) === BPF_IND)) {
    // X >= 0, so an indirect load past the window fails too; k is unsigned (ancillary
    // offsets 0xfffff000.. and negative offsets land here).
    return insn.k + sizeBytes(insn.code) > FILTER_BYTES;
  }
  if (cls === BPF_LDX && bpfMode(insn.code) === BPF_MSH) return insn.k >= FILTER_BYTES;
  if (cls === BPF_ALU && (bpfOp(insn.code) === BPF_DIV || bpfOp(insn.code) === BPF_MOD) && bpfSrc(insn.code) === BPF_K) return insn.k === 0;
  return false;
}

/** Where control can go after `pc`, or throws for an instruction the translator does not know. */
function successors(prog: CbpfInsn[], pc: number): number[] {
  const insn = prog[pc];
  const cls = bpfClass(insn.code);
  if (cls === BPF_RET || alwaysFails(insn)) return [];
  if (cls === BPF_JMP) {
    if (bpfOp(insn.code) === BPF_JA) return [pc + 1 + (insn.k | 0)];
    return [pc + 1 + insn.jt, pc + 1 + insn.jf];
  }
  return [pc + 1];
}

/** Checks one classic instruction against the set libpcap's interpreter runs. */
function validate(insn: CbpfInsn, pc: number): void {
  const bad = (why: string) => new TranslateError(`classic BPF instruction ${formatCbpf(insn, pc)}: ${why}`);
  const cls = bpfClass(insn.code);
  switch (cls) {
    case BPF_LD: {
      const mode = bpfMode(insn.code);
      if (mode === BPF_ABS || mode === BPF_IND) {
        if (bpfSize(insn.code) === 0x18) throw bad('no 64-bit loads in classic BPF');
      } else if (mode === BPF_LEN || mode === BPF_IMM || mode === BPF_MEM) {
        if (bpfSize(insn.code) !== BPF_W) throw bad('only word-sized');
      } else throw bad('unknown load mode');
      if (mode === BPF_MEM && insn.k >= BPF_MEMWORDS) throw bad('no such scratch memory word');
      return;
    }
    case BPF_LDX: {
      const mode = bpfMode(insn.code);
      if (mode === BPF_MSH) {
        if (bpfSize(insn.code) !== BPF_B) throw bad('MSH loads a byte');
      } else if (mode === BPF_LEN || mode === BPF_IMM || mode === BPF_MEM) {
        if (bpfSize(insn.code) !== BPF_W) throw bad('only word-sized');
      } else throw bad('unknown load mode');
      if (mode === BPF_MEM && insn.k >= BPF_MEMWORDS) throw bad('no such scratch memory word');
      return;
    }
    case BPF_ST:
    case BPF_STX:
      if (insn.code !== cls) throw bad('unknown store');
      if (insn.k >= BPF_MEMWORDS) throw bad('no such scratch memory word');
      return;
    case BPF_ALU: {
      const op = bpfOp(insn.code);
      if (![BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR].includes(op)) throw bad('unknown ALU operation');
      if (op === BPF_NEG && insn.code !== (BPF_ALU | BPF_NEG)) throw bad('NEG has no operand');
      return;
    }
    case BPF_JMP:
      if (![BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].includes(bpfOp(insn.code))) throw bad('unknown jump');
      if (bpfOp(insn.code) === BPF_JA && insn.code !== (BPF_JMP | BPF_JA)) throw bad('unknown jump');
      return;
    case BPF_RET:
      if (insn.code !== (BPF_RET | BPF_K) && insn.code !== (BPF_RET | BPF_A)) throw bad('returns K or A only');
      return;
    case BPF_MISC:
      if (insn.code !== (BPF_MISC | BPF_TAX) && insn.code !== (BPF_MISC | BPF_TXA)) throw bad('unknown MISC operation');
      return;
  }
}

class Emitter {
  readonly out: Pending[] = [];
  readonly labels = new Map<Label, number>();
  readonly used = new Set<Label>();

  label(name: Label): void {
    this.labels.set(name, this.out.length);
  }
  insn(code: number, dst: number, src: number, off: number, imm: number): void {
    this.out.push({ code, dst, src, off, imm });
  }
  jump(code: number, dst: number, src: number, imm: number, target: Label): void {
    this.used.add(target);
    this.out.push({ code, dst, src, off: 0, imm, target });
  }
  goto(target: Label): void {
    this.jump(BPF_JMP | BPF_JA, 0, 0, 0, target);
  }
  /** 32-bit move of a constant: the upper half of the register becomes zero. */
  mov32Imm(dst: number, k: number): void {
    this.insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, k | 0);
  }
  mov32Reg(dst: number, src: number): void {
    this.insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
  }
}

/** eBPF opcode of a load of `bytes` bytes from memory. */
function ldxMem(bytes: 1 | 2 | 4): number {
  return BPF_LDX | BPF_MEM | (bytes === 4 ? BPF_W : bytes === 2 ? BPF_H : BPF_B);
}

/** Network to host order of a freshly loaded half word or word (a no-op on big-endian hosts). */
function toHost(e: Emitter, dst: number, bytes: 1 | 2 | 4): void {
  if (bytes > 1) e.insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bytes * 8);
}

const INVERSE: Record<number, number> = { [BPF_JEQ]: BPF_JNE, [BPF_JGT]: BPF_JLE, [BPF_JGE]: BPF_JLT };

/**
 * Translates a classic BPF program (as from pcap_compile) into an eBPF body for a
 * filter placeholder. Throws TranslateError for a program libpcap's interpreter would
 * not run, or one too large for eBPF's 16-bit jumps.
 */
export function translate(prog: CbpfInsn[]): Translation {
  if (prog.length === 0) throw new TranslateError('empty classic BPF program');
  prog.forEach(validate);

  // Reachable instructions, and for each the captured length already checked on every
  // path into it (so a load needs no check of its own when an earlier one covered it).
  const reachable = new Array<boolean>(prog.length).fill(false);
  const stack = [0];
  let backward = false;
  while (stack.length > 0) {
    const pc = stack.pop()!;
    if (reachable[pc]) continue;
    reachable[pc] = true;
    for (const next of successors(prog, pc)) {
      if (next < 0 || next >= prog.length) throw new TranslateError(`classic BPF instruction ${formatCbpf(prog[pc], pc)} continues outside the program`);
      if (next <= pc) backward = true;
      stack.push(next);
    }
  }
  // libpcap loops (backward jumps) only for "protochain": the verifier can't bound a
  // loop over packet data, so refuse it here with a sentence instead of a verifier log.
  if (backward) throw new TranslateError('loops (as in "protochain") are not supported in the kernel; name the protocol instead (e.g. "ip6 proto 6" or "tcp")');
  const checked = new Array<number>(prog.length).fill(Infinity);
  checked[0] = 0;
  const covered = (pc: number, need: number) => checked[pc] >= need;

  const e = new Emitter();
  e.mov32Imm(R0, 0); // A = 0
  e.mov32Imm(R4, 0); // X = 0

  for (let pc = 0; pc < prog.length; pc++) {
    if (!reachable[pc]) continue;
    const insn = prog[pc];
    e.label(cbpfLabel(pc));
    let checkedAfter = checked[pc];
    const code = insn.code;
    const k = insn.k >>> 0;

    switch (bpfClass(code)) {
      case BPF_LD:
      case BPF_LDX: {
        const mode = bpfMode(code);
        const dst = bpfClass(code) === BPF_LD ? R0 : R4;
        if (alwaysFails(insn)) {
          e.goto(RET0);
        } else if (mode === BPF_ABS) {
          const bytes = sizeBytes(code);
          if (!covered(pc, k + bytes)) e.jump(BPF_JMP | BPF_JLT | BPF_K, R2, 0, k + bytes, RET0);
          checkedAfter = Math.max(checkedAfter, k + bytes);
          e.insn(ldxMem(bytes), R0, R1, k, 0);
          toHost(e, R0, bytes);
        } else if (mode === BPF_IND) {
          // r5 = X + k + size - 1, the last byte loaded: fail unless it is below the
          // captured length (and, for the verifier's sake, inside the window).
          const bytes = sizeBytes(code);
          e.insn(BPF_ALU64 | BPF_MOV | BPF_X, R5, R4, 0, 0);
          e.insn(BPF_ALU64 | BPF_ADD | BPF_K, R5, 0, 0, k + bytes - 1);
          e.jump(BPF_JMP | BPF_JGE | BPF_X, R5, R2, 0, RET0);
          e.jump(BPF_JMP | BPF_JGT | BPF_K, R5, 0, FILTER_BYTES - 1, RET0);
          e.insn(BPF_ALU64 | BPF_ADD | BPF_X, R5, R1, 0, 0);
          e.insn(ldxMem(bytes), R0, R5, -(bytes - 1), 0);
          toHost(e, R0, bytes);
        } else if (mode === BPF_MSH) {
          if (!covered(pc, k + 1)) e.jump(BPF_JMP | BPF_JLT | BPF_K, R2, 0, k + 1, RET0);
          checkedAfter = Math.max(checkedAfter, k + 1);
          e.insn(ldxMem(1), R4, R1, k, 0);
          e.insn(BPF_ALU | BPF_AND | BPF_K, R4, 0, 0, 0xf);
          e.insn(BPF_ALU | BPF_LSH | BPF_K, R4, 0, 0, 2);
        } else if (mode === BPF_LEN) {
          e.mov32Reg(dst, R3);
        } else if (mode === BPF_IMM) {
          e.mov32Imm(dst, k);
        } else {
          e.insn(ldxMem(4), dst, R1, MEM_OFFSET + 4 * k, 0); // BPF_MEM
        }
        break;
      }
      case BPF_ST:
      case BPF_STX:
        e.insn(BPF_STX | BPF_MEM | BPF_W, R1, bpfClass(code) === BPF_ST ? R0 : R4, MEM_OFFSET + 4 * k, 0);
        break;
      case BPF_ALU: {
        const op = bpfOp(code);
        const fromX = bpfSrc(code) === BPF_X;
        if (op === BPF_NEG) {
          e.insn(BPF_ALU | BPF_NEG, R0, 0, 0, 0);
        } else if (alwaysFails(insn)) {
          e.goto(RET0); // constant division by zero
        } else if ((op === BPF_DIV || op === BPF_MOD) && fromX) {
          e.jump(BPF_JMP | BPF_JEQ | BPF_K, R4, 0, 0, RET0);
          e.insn(BPF_ALU | op | BPF_X, R0, R4, 0, 0);
        } else if ((op === BPF_LSH || op === BPF_RSH) && fromX) {
          // libpcap shifts by 32 or more to 0; eBPF would shift by the count mod 32.
          const big = `shift${pc}`;
          const done = `shifted${pc}`;
          e.jump(BPF_JMP | BPF_JGT | BPF_K, R4, 0, 31, big);
          e.insn(BPF_ALU | op | BPF_X, R0, R4, 0, 0);
          e.goto(done);
          e.label(big);
          e.mov32Imm(R0, 0);
          e.label(done);
        } else if ((op === BPF_LSH || op === BPF_RSH) && k >= 32) {
          e.mov32Imm(R0, 0);
        } else if (fromX) {
          e.insn(BPF_ALU | op | BPF_X, R0, R4, 0, 0);
        } else {
          e.insn(BPF_ALU | op | BPF_K, R0, 0, 0, k | 0);
        }
        break;
      }
      case BPF_JMP: {
        const op = bpfOp(code);
        if (op === BPF_JA) {
          e.goto(cbpfLabel(pc + 1 + (insn.k | 0)));
          break;
        }
        const src = bpfSrc(code) === BPF_X ? BPF_X : BPF_K;
        const reg = src === BPF_X ? R4 : 0;
        const imm = src === BPF_X ? 0 : k | 0;
        const onTrue = cbpfLabel(pc + 1 + insn.jt);
        const onFalse = cbpfLabel(pc + 1 + insn.jf);
        // Comparisons are of 32-bit unsigned values: JMP32 compares the low halves, imm as u32.
        if (insn.jf === 0) {
          e.jump(BPF_JMP32 | op | src, R0, reg, imm, onTrue);
        } else if (insn.jt === 0 && op in INVERSE) {
          e.jump(BPF_JMP32 | INVERSE[op] | src, R0, reg, imm, onFalse);
        } else {
          e.jump(BPF_JMP32 | op | src, R0, reg, imm, onTrue);
          e.goto(onFalse);
        }
        break;
      }
      case BPF_RET:
        if (bpfRval(code) === BPF_K) e.mov32Imm(R0, k);
        e.goto(END);
        break;
      case BPF_MISC:
        if (bpfMiscOp(code) === BPF_TAX) e.mov32Reg(R4, R0);
        else e.mov32Reg(R0, R4); // TXA
        break;
    }

    for (const next of successors(prog, pc)) checked[next] = Math.min(checked[next], checkedAfter);
  }

  if (e.used.has(RET0)) {
    e.label(RET0);
    e.mov32Imm(R0, 0);
  }
  e.label(END);

  const insns: EbpfInsn[] = e.out.map((p, at) => {
    if (p.target === undefined) return p;
    const to = e.labels.get(p.target);
    if (to === undefined) throw new TranslateError(`internal error: label ${p.target} was never placed`);
    const off = to - (at + 1);
    if (off > MAX_JUMP || off < -MAX_JUMP - 1) throw new TranslateError(`the filter is too large: a jump spans ${off} eBPF instructions (at most ${MAX_JUMP})`);
    return { code: p.code, dst: p.dst, src: p.src, off, imm: p.imm };
  });
  return { insns: encodeEbpf(insns), count: insns.length, reachable: reachable.filter(Boolean).length };
}
