// Packet header bytes → numeric L3/L4 columns, one 2048-row slice at a time, in a plain
// typed-array loop (no per-row objects). Text forms (addresses, protocol names) are left to
// SQL so they are only built for the rows a query returns.

/** DuckDB's vector size: the scan decodes this many rows at most per call. */
export const SLICE_ROWS = 2048;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const ETH_HLEN = 14;
const OFF_NONE = 0xffff;

/** Bits of the `l4` column: which transport fields were decoded. */
export const L4_PORTS = 1;
export const L4_ICMP = 2;
export const L4_TCP_FLAGS = 4;

/** The columns the decoder reads, for one record batch. */
export interface HeaderSource {
  /** captured bytes of all events (Arrow Binary values) */
  bytes: Uint8Array;
  /** n+1 offsets into bytes (Arrow Binary offsets) */
  offsets: Int32Array;
  /** skb->protocol (ETH_P_*) */
  protocol: Uint16Array;
  hasMac: Uint8Array;
  netOff: Uint16Array;
}

/** Decoded columns of one slice, in DuckDB's in-memory layouts (UHUGEINT = 4 little-endian words). */
export class DecodedSlice {
  readonly family = new Uint8Array(SLICE_ROWS);
  readonly ipProto = new Uint8Array(SLICE_ROWS);
  readonly saddr = new Uint32Array(SLICE_ROWS * 4);
  readonly daddr = new Uint32Array(SLICE_ROWS * 4);
  readonly sport = new Uint16Array(SLICE_ROWS);
  readonly dport = new Uint16Array(SLICE_ROWS);
  readonly icmpType = new Uint8Array(SLICE_ROWS);
  readonly icmpCode = new Uint8Array(SLICE_ROWS);
  readonly tcpFlags = new Uint8Array(SLICE_ROWS);
  readonly l4 = new Uint8Array(SLICE_ROWS);

  /**
   * Decodes rows [start, start + n) of src (offsets already include the Arrow data offset), or
   * with pick the rows pick[0..n); l3Only: just family and addresses (what collecting the
   * addresses needs).
   */
  decode(src: HeaderSource, start: number, n: number, l3Only = false, pick: Int32Array | null = null): void {
    this.clear(n, l3Only);
    decodeRows(src.bytes, src.offsets, src.protocol, src.hasMac, src.netOff, start, n, this, l3Only, pick);
  }

  private clear(n: number, l3Only: boolean): void {
    this.family.fill(0, 0, n);
    this.saddr.fill(0, 0, n * 4);
    this.daddr.fill(0, 0, n * 4);
    if (l3Only) return;
    this.ipProto.fill(0, 0, n);
    this.sport.fill(0, 0, n);
    this.dport.fill(0, 0, n);
    this.icmpType.fill(0, 0, n);
    this.icmpCode.fill(0, 0, n);
    this.tcpFlags.fill(0, 0, n);
    this.l4.fill(0, 0, n);
  }
}

function be16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function decodeRows(
  b: Uint8Array,
  offsets: Int32Array,
  protocol: Uint16Array,
  hasMac: Uint8Array,
  netOff: Uint16Array,
  start: number,
  n: number,
  out: DecodedSlice,
  l3Only: boolean,
  pick: Int32Array | null,
): void {
  for (let i = 0; i < n; i++) {
    const row = pick === null ? start + i : pick[i];
    const base = offsets[row];
    const end = offsets[row + 1];
    let ethertype = protocol[row];
    let off = netOff[row];
    if (hasMac[row] !== 0) {
      // VLAN tags sit in the captured bytes: the L3 ethertype is the one after them.
      if (ethertype === ETH_P_8021Q || ethertype === ETH_P_8021AD || off === OFF_NONE) {
        let typeAt = 12;
        if (base + ETH_HLEN > end) continue;
        let inner = be16(b, base + typeAt);
        while ((inner === ETH_P_8021Q || inner === ETH_P_8021AD) && base + typeAt + 6 <= end) {
          typeAt += 4;
          inner = be16(b, base + typeAt);
        }
        if (ethertype === ETH_P_8021Q || ethertype === ETH_P_8021AD || ethertype === 0) ethertype = inner;
        if (off === OFF_NONE) off = typeAt + 2;
      }
    } else if (off === OFF_NONE) {
      // No link-layer header and no network header: the bytes start at skb->data. Only an
      // skb that says it carries IP is read as IP there (netlink and socket-queue skbs have
      // protocol 0 and other bytes).
      if (ethertype === 0) continue;
      off = 0;
    }
    const p = base + off;
    if (p >= end) continue;
    // On the local output path skb->protocol is still 0: the IP version nibble tells.
    if (ethertype === 0) {
      const version = b[p] >> 4;
      ethertype = version === 4 ? ETH_P_IP : version === 6 ? ETH_P_IPV6 : 0;
    }
    let l4 = -1;
    let proto = 0;
    if (ethertype === ETH_P_IP) {
      if (p + 20 > end || b[p] >> 4 !== 4) continue;
      const ihl = (b[p] & 15) * 4;
      if (ihl < 20) continue;
      proto = b[p + 9];
      out.family[i] = 4;
      out.ipProto[i] = proto;
      out.saddr[i * 4] = be32(b, p + 12);
      out.daddr[i * 4] = be32(b, p + 16);
      const fragOffset = ((b[p + 6] & 0x1f) << 8) | b[p + 7];
      if (fragOffset === 0) l4 = p + ihl;
    } else if (ethertype === ETH_P_IPV6) {
      if (p + 40 > end || b[p] >> 4 !== 6) continue;
      out.family[i] = 6;
      const w = i * 4;
      out.saddr[w + 3] = be32(b, p + 8);
      out.saddr[w + 2] = be32(b, p + 12);
      out.saddr[w + 1] = be32(b, p + 16);
      out.saddr[w] = be32(b, p + 20);
      out.daddr[w + 3] = be32(b, p + 24);
      out.daddr[w + 2] = be32(b, p + 28);
      out.daddr[w + 1] = be32(b, p + 32);
      out.daddr[w] = be32(b, p + 36);
      // Walk extension headers to the upper-layer protocol (bounded: 8 headers).
      proto = b[p + 6];
      l4 = p + 40;
      for (let k = 0; k < 8 && l4 >= 0; k++) {
        if (proto === 0 || proto === 43 || proto === 60 || proto === 51) {
          if (l4 + 2 > end) {
            l4 = -1;
            break;
          }
          const next = b[l4];
          l4 += proto === 51 ? (b[l4 + 1] + 2) * 4 : (b[l4 + 1] + 1) * 8;
          proto = next;
        } else if (proto === 44) {
          if (l4 + 8 > end) {
            l4 = -1;
            break;
          }
          const next = b[l4];
          const fragOffset = be16(b, l4 + 2) & 0xfff8;
          l4 = fragOffset === 0 ? l4 + 8 : -1;
          proto = next;
        } else break;
      }
      out.ipProto[i] = proto;
    } else continue;
    if (l4 < 0 || l3Only) continue;
    if (proto === 6 || proto === 17 || proto === 132 || proto === 136 || proto === 33) {
      if (l4 + 4 > end) continue;
      out.sport[i] = be16(b, l4);
      out.dport[i] = be16(b, l4 + 2);
      let bits = L4_PORTS;
      if (proto === 6 && l4 + 14 <= end) {
        out.tcpFlags[i] = b[l4 + 13];
        bits |= L4_TCP_FLAGS;
      }
      out.l4[i] = bits;
    } else if (proto === 1 || proto === 58) {
      if (l4 + 2 > end) continue;
      out.icmpType[i] = b[l4];
      out.icmpCode[i] = b[l4 + 1];
      out.l4[i] = L4_ICMP;
    }
  }
}
