/**
 * Classic BPF (what pcap_compile produces, the kernel's struct sock_filter) and the eBPF
 * instruction encoding (struct bpf_insn), as plain data. Byte order of both structs is
 * the host's: they go to libpcap and the kernel of this machine.
 */
import os from 'node:os';

/** One classic BPF instruction: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }. */
export interface CbpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** One eBPF instruction: struct bpf_insn { u8 code; u8 dst:4, src:4; s16 off; s32 imm; }. */
export interface EbpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

// Classes, shared by classic and extended BPF (RET and MISC are classic only; extended
// reuses their numbers for JMP32 and ALU64).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Load/store size and mode.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

// ALU operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0; // extended only
export const BPF_END = 0xd0; // extended only: byte swap

// Jump operations.
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50; // extended only, like the four below
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;

// Operand source; for RET, the returned value; for END, the target byte order.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;
export const BPF_TO_BE = 0x08;

// MISC operations.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Classic BPF scratch memory words M[0..15]. */
export const BPF_MEMWORDS = 16;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;
export const bpfRval = (code: number): number => code & 0x18;
export const bpfMiscOp = (code: number): number => code & 0xf8;

/** Bytes loaded by a classic load of this size. */
export function sizeBytes(code: number): 1 | 2 | 4 {
  switch (bpfSize(code)) {
    case BPF_W:
      return 4;
    case BPF_H:
      return 2;
    case BPF_B:
      return 1;
    default:
      throw new Error(`unsupported load size in opcode 0x${code.toString(16)}`);
  }
}

/** Decodes an array of struct sock_filter. */
export function decodeCbpf(bytes: Uint8Array): CbpfInsn[] {
  if (bytes.length % 8 !== 0) throw new Error(`classic BPF program of ${bytes.length} bytes is not a whole number of instructions`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CbpfInsn[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    out.push({ code: view.getUint16(at, LITTLE_ENDIAN), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: view.getUint32(at + 4, LITTLE_ENDIAN) });
  }
  return out;
}

/** Encodes an array of struct sock_filter (the inverse of decodeCbpf). */
export function encodeCbpf(insns: CbpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * 8);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, LITTLE_ENDIAN);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, LITTLE_ENDIAN);
  });
  return bytes;
}

/** Encodes an array of struct bpf_insn. */
export function encodeEbpf(insns: EbpfInsn[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * 8);
  const view = new DataView(bytes.buffer);
  insns.forEach((insn, i) => {
    const at = i * 8;
    view.setUint8(at, insn.code);
    // The register nibbles are C bitfields: dst first, which is the low nibble on little-endian hosts.
    view.setUint8(at + 1, LITTLE_ENDIAN ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src);
    view.setInt16(at + 2, insn.off, LITTLE_ENDIAN);
    view.setInt32(at + 4, insn.imm | 0, LITTLE_ENDIAN);
  });
  return bytes;
}

/** Decodes an array of struct bpf_insn (for tests and debugging). */
export function decodeEbpf(bytes: Uint8Array): EbpfInsn[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EbpfInsn[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    const regs = view.getUint8(at + 1);
    out.push({
      code: view.getUint8(at),
      dst: LITTLE_ENDIAN ? regs & 0xf : regs >> 4,
      src: LITTLE_ENDIAN ? regs >> 4 : regs & 0xf,
      off: view.getInt16(at + 2, LITTLE_ENDIAN),
      imm: view.getInt32(at + 4, LITTLE_ENDIAN),
    });
  }
  return out;
}

/** tcpdump -d style text of one classic instruction, for error messages and debugging. */
export function formatCbpf(insn: CbpfInsn, pc: number): string {
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  return `(${String(pc).padStart(3, '0')}) code=${hex(insn.code)} jt=${insn.jt} jf=${insn.jf} k=${hex(insn.k)}`;
}
