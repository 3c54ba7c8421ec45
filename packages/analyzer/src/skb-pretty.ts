// `skbtrail show --output-skb`: the raw struct sk_buff bytes a recording made with
// `record --output-skb` holds (events column skb_data), printed field = value the way pwru
// prints them (the kernel's bpf_snprintf_btf layout: `.len = (unsigned int)84,`, zero fields
// left out), from the BTF the recording carries (StartMeta.skb) — so the machine printing
// them needs neither the recording kernel nor its BTF.
import type { StartMeta } from '@skbtrail/format/file';
import { AnalyzerError } from './errors.js';

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const;
const INT_SIGNED = 1;
const INT_CHAR = 2;
const INT_BOOL = 4;
const BTF_MAGIC = 0xeb9f;

export interface BtfMember {
  name: string;
  type: number;
  /** bit offset in the struct */
  bitOffset: number;
  /** bitfield width; 0 when the member is not a bitfield */
  bitSize: number;
}

export interface BtfType {
  kind: number;
  name: string;
  /** size (int, struct, union, enum, float) or referenced type (ptr, typedef, modifiers, func_proto's return) */
  sizeOrType: number;
  kindFlag: boolean;
  /** int: encoding, bit offset, bits */
  int?: { encoding: number; offset: number; bits: number };
  array?: { type: number; nelems: number };
  members?: BtfMember[];
  enumValues?: { name: string; value: bigint }[];
}

/** The recording's sk_buff BTF can't be read: one line, exit 1. */
export class BtfError extends AnalyzerError {
  constructor(message: string) {
    super('CORRUPT', `the recording's struct sk_buff BTF (--output-skb) is unusable: ${message}`, 'print it without --output-skb, or record again');
  }
}

/** A raw BTF blob (what libbpf's btf__raw_data writes): header, type section, string section. */
export function parseBtf(bytes: Uint8Array): BtfType[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24 || view.getUint16(0, true) !== BTF_MAGIC) throw new BtfError('not a little-endian BTF blob');
  const hdrLen = view.getUint32(4, true);
  const typeOff = hdrLen + view.getUint32(8, true);
  const typeEnd = typeOff + view.getUint32(12, true);
  const strOff = hdrLen + view.getUint32(16, true);
  const strEnd = strOff + view.getUint32(20, true);
  if (typeEnd > bytes.byteLength || strEnd > bytes.byteLength) throw new BtfError('BTF sections run past the blob');
  const decoder = new TextDecoder();
  const str = (off: number): string => {
    const start = strOff + off;
    let end = start;
    while (end < strEnd && bytes[end] !== 0) end++;
    return decoder.decode(bytes.subarray(start, end));
  };
  const types: BtfType[] = [{ kind: 0, name: 'void', sizeOrType: 0, kindFlag: false }];
  let p = typeOff;
  const u32 = () => {
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  while (p < typeEnd) {
    const nameOff = u32();
    const info = u32();
    const sizeOrType = u32();
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const t: BtfType = { kind, name: str(nameOff), sizeOrType, kindFlag };
    switch (kind) {
      case KIND.INT: {
        const v = u32();
        t.int = { encoding: (v >>> 24) & 0x0f, offset: (v >>> 16) & 0xff, bits: v & 0xff };
        break;
      }
      case KIND.ARRAY: {
        const type = u32();
        u32(); // index type
        t.array = { type, nelems: u32() };
        break;
      }
      case KIND.STRUCT:
      case KIND.UNION:
        t.members = [];
        for (let i = 0; i < vlen; i++) {
          const name = str(u32());
          const type = u32();
          const offset = u32();
          t.members.push(kindFlag ? { name, type, bitOffset: offset & 0xffffff, bitSize: offset >>> 24 } : { name, type, bitOffset: offset, bitSize: 0 });
        }
        break;
      case KIND.ENUM:
        t.enumValues = [];
        for (let i = 0; i < vlen; i++) {
          const name = str(u32());
          const raw = u32();
          t.enumValues.push({ name, value: kindFlag ? BigInt(raw | 0) : BigInt(raw) });
        }
        break;
      case KIND.ENUM64:
        t.enumValues = [];
        for (let i = 0; i < vlen; i++) {
          const name = str(u32());
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          t.enumValues.push({ name, value: BigInt.asIntN(64, (hi << 32n) | lo) });
        }
        break;
      case KIND.FUNC_PROTO:
        p += vlen * 8;
        break;
      case KIND.VAR:
      case KIND.DECL_TAG:
        p += 4;
        break;
      case KIND.DATASEC:
        p += vlen * 12;
        break;
      default:
        if (kind < KIND.INT || kind > KIND.ENUM64) throw new BtfError(`unknown BTF kind ${kind}`);
    }
    types.push(t);
  }
  return types;
}

const QUALIFIERS: number[] = [KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG];

/** Prints one value of a BTF type, kernel style: `(type)value`, one space of indent per level. */
export class BtfPrinter {
  constructor(
    private readonly types: BtfType[],
    private readonly pointerSize = 8,
  ) {}

  private type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new BtfError(`BTF type ${id} does not exist`);
    return t;
  }

  /** The type behind typedefs and qualifiers. */
  private resolve(id: number): [number, BtfType] {
    for (let i = 0; i < 32; i++) {
      const t = this.type(id);
      if (t.kind !== KIND.TYPEDEF && !QUALIFIERS.includes(t.kind)) return [id, t];
      id = t.sizeOrType;
    }
    throw new BtfError('BTF type chain too long');
  }

  private sizeOf(id: number): number {
    const [, t] = this.resolve(id);
    if (t.kind === KIND.PTR) return this.pointerSize;
    if (t.kind === KIND.ARRAY) return t.array!.nelems * this.sizeOf(t.array!.type);
    return t.kind === KIND.FWD || t.kind === KIND.FUNC_PROTO || t.kind === 0 ? 0 : t.sizeOrType;
  }

  /** The type as bpf_snprintf_btf names it: `struct sk_buff *`, `__be16`, `char[]`. */
  typeName(id: number): string {
    let ptrs = 0;
    let arrays = 0;
    for (let i = 0; i < 32; i++) {
      const t = this.type(id);
      if (t.kind === KIND.TYPEDEF) return `${t.name}${ptrs ? ` ${'*'.repeat(ptrs)}` : ''}${'[]'.repeat(arrays)}`;
      if (t.kind === KIND.PTR) ptrs++;
      else if (t.kind === KIND.ARRAY) arrays++;
      else if (!QUALIFIERS.includes(t.kind)) break;
      id = t.kind === KIND.ARRAY ? t.array!.type : t.sizeOrType;
    }
    const t = this.type(id);
    const prefix =
      t.kind === KIND.STRUCT || (t.kind === KIND.FWD && !t.kindFlag) ? 'struct' : t.kind === KIND.UNION || t.kind === KIND.FWD ? 'union' : t.kind === KIND.ENUM || t.kind === KIND.ENUM64 ? 'enum' : '';
    const name = t.kind === 0 ? 'void' : t.kind === KIND.FUNC_PROTO ? 'void (*)()' : t.name;
    const stars = t.kind === KIND.FUNC_PROTO ? Math.max(0, ptrs - 1) : ptrs;
    return `${prefix}${prefix && name ? ' ' : ''}${name}${stars ? ` ${'*'.repeat(stars)}` : ''}${'[]'.repeat(arrays)}`;
  }

  /** The whole value at offset 0 of data, as text lines ending in newlines. */
  format(id: number, data: Uint8Array): string {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const lines = this.show(view, id, 0, 0, null, 0, false) ?? [`(${this.typeName(id)}){`, '}'];
    return `${lines.join('\n')}\n`;
  }

  /**
   * Lines of one value; null when it is zero (or an aggregate of zeros) below the top, which
   * the kernel's printer leaves out. bitOffset is from the byte offset, for bitfields.
   */
  private show(view: DataView, id: number, byte: number, bitSize: number, member: string | null, depth: number, inArray: boolean, bitOffset = 0): string[] | null {
    const indent = ' '.repeat(depth);
    const delim = depth === 0 ? '' : ',';
    const label = inArray ? '' : `${member ? `.${member} = ` : ''}(${this.typeName(id)})`;
    const [rid, t] = this.resolve(id);
    const value = (text: string, zero: boolean): string[] | null => (zero && depth > 0 ? null : [`${indent}${label}${text}${delim}`]);
    if (byte + Math.ceil((bitOffset + (bitSize || this.sizeOf(rid) * 8)) / 8) > view.byteLength) return value('<not recorded>', false);
    switch (t.kind) {
      case KIND.INT: {
        const int = t.int!;
        const bits = bitSize || int.bits;
        const v = readBits(view, byte, bitOffset + int.offset, bits, (int.encoding & INT_SIGNED) !== 0);
        if (bitSize || int.offset || bits % 8 !== 0) return value(`0x${BigInt.asUintN(bits, v).toString(16)}`, v === 0n);
        if ((int.encoding & INT_BOOL) !== 0) return value(v ? 'true' : 'false', v === 0n);
        return value(v.toString(), v === 0n);
      }
      case KIND.PTR: {
        const v = readBits(view, byte, 0, this.pointerSize * 8, false);
        return value(`0x${v.toString(16)}`, v === 0n);
      }
      case KIND.ENUM:
      case KIND.ENUM64: {
        const v = readBits(view, byte, bitOffset, bitSize || t.sizeOrType * 8, t.kindFlag);
        const name = t.enumValues!.find((e) => e.value === v || BigInt.asUintN(t.sizeOrType * 8, e.value) === v)?.name;
        return value(name ?? v.toString(), v === 0n);
      }
      case KIND.FLOAT: {
        const v = t.sizeOrType === 4 ? view.getFloat32(byte, true) : t.sizeOrType === 8 ? view.getFloat64(byte, true) : 0;
        return value(String(v), v === 0);
      }
      case KIND.STRUCT:
      case KIND.UNION: {
        const body: string[] = [];
        for (const m of t.members!) {
          const lines = this.show(view, m.type, byte + Math.floor(m.bitOffset / 8), m.bitSize, m.name || null, depth + 1, false, m.bitSize ? m.bitOffset % 8 : 0);
          if (lines) body.push(...lines);
        }
        if (body.length === 0 && depth > 0) return null;
        return [`${indent}${label}{`, ...body, `${indent}}${delim}`];
      }
      case KIND.ARRAY: {
        const { type, nelems } = t.array!;
        const size = this.sizeOf(type);
        const [, elem] = this.resolve(type);
        const chars = elem.kind === KIND.INT && elem.int!.bits === 8 && (elem.int!.encoding & INT_CHAR) !== 0;
        const body: string[] = [];
        for (let i = 0; i < nelems && size > 0; i++) {
          const at = byte + i * size;
          if (chars) {
            const c = view.getUint8(at);
            if (c === 0) break; // a C string ends here
            body.push(`${' '.repeat(depth + 1)}${c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : String(elem.int!.encoding & INT_SIGNED ? (c << 24) >> 24 : c)},`);
            continue;
          }
          const lines = this.show(view, type, at, 0, null, depth + 1, true);
          if (lines) body.push(...lines);
        }
        if (body.length === 0 && depth > 0) return null;
        return [`${indent}${label}[`, ...body, `${indent}]${delim}`];
      }
      default:
        return null; // fwd, func_proto, void: nothing to print by value
    }
  }
}

/** `bits` bits at bit `bitOffset` from `byte`, little-endian, as a (signed) bigint. */
function readBits(view: DataView, byte: number, bitOffset: number, bits: number, signed: boolean): bigint {
  byte += Math.floor(bitOffset / 8);
  bitOffset %= 8;
  const bytes = Math.ceil((bitOffset + bits) / 8);
  let v = 0n;
  for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(byte + i));
  v = BigInt.asUintN(bits, v >> BigInt(bitOffset));
  return signed ? BigInt.asIntN(bits, v) : v;
}

/** Machines whose kernels are big-endian: skb bytes from them would need byte swapping. */
const BIG_ENDIAN_MACHINES = /^(s390|s390x|ppc|ppc64|sparc|sparc64|mips|m68k|parisc)$/;

/**
 * Every event's sk_buff printer for one recording: seq (the event's number in the recording)
 * → the struct's text, or null when the event has no bytes. Reads the skb_data column once,
 * with the full Arrow reader, loaded only here (other commands never pay for it).
 */
export async function skbDumper(path: string, meta: StartMeta): Promise<(seq: unknown) => string | null> {
  const skb = meta.skb;
  if (!skb) throw new AnalyzerError('LACKS', 'this recording has no raw sk_buff contents to print (--output-skb)', 'record again with skbtrail record --output-skb');
  if (BIG_ENDIAN_MACHINES.test(meta.host.machine)) {
    throw new AnalyzerError('LACKS', `printing the sk_buffs of a big-endian machine (${meta.host.machine}) is not supported`, 'use --output-meta');
  }
  const printer = new BtfPrinter(parseBtf(Buffer.from(skb.btf, 'base64')), /64|aarch64|s390x/.test(meta.host.machine) ? 8 : 4);
  const { openRecording } = await import('@skbtrail/format');
  const rec = openRecording(path);
  const starts: number[] = [];
  let rows = 0;
  for (const b of rec.batches) {
    starts.push(rows);
    rows += b.numRows;
  }
  return (seq: unknown): string | null => {
    const n = Number(seq);
    if (!Number.isInteger(n) || n < 0 || n >= rows) return null;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= n) lo = mid;
      else hi = mid - 1;
    }
    const bytes = rec.batches[lo].getChild('skb_data')?.get(n - starts[lo]) as Uint8Array | null | undefined;
    return bytes && bytes.byteLength > 0 ? printer.format(skb.typeId, bytes) : null;
  };
}
