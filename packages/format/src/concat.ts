import type { EventColumns, FixedColumnKey } from './types.js';

const FIXED_COLUMNS: readonly FixedColumnKey[] = [
  'ts', 'skb', 'location', 'pid', 'netns', 'ifindex', 'mark', 'len', 'mtu', 'reason',
  'stack_id', 'probe', 'protocol', 'cpu', 'net_off', 'trans_off', 'has_mac', 'pkt_type', 'comm',
];

type Column = EventColumns[FixedColumnKey] | Uint8Array | Int32Array | BigInt64Array;
interface ColumnCtor { new (length: number): Column }
interface Settable { set(source: ArrayLike<number | bigint>, offset: number): void }

/**
 * Joins batches into one EventColumns, column by column, in scratch arrays reused from call
 * to call: touching fresh memory for every flush (page faults) costs more than the copy.
 */
export class EventConcatenator {
  private readonly scratch = new Map<string, Column>();

  /** The joined events; its arrays are views of scratch memory, valid until the next call. */
  concat(pieces: readonly EventColumns[]): EventColumns {
    let total = 0;
    for (const p of pieces) total += p.length;
    const columns = {} as Record<FixedColumnKey, Column>;
    for (const key of FIXED_COLUMNS) {
      const out = this.buffer(key, pieces[0][key].constructor as ColumnCtor, total);
      let at = 0;
      for (const p of pieces) {
        (out as Settable).set(p[key].subarray(0, p.length), at);
        at += p.length;
      }
      columns[key] = out;
    }
    return {
      ...(columns as Pick<EventColumns, FixedColumnKey>),
      length: total,
      newComms: pieces.flatMap((p) => p.newComms),
      ...this.concatHeaders(pieces, total),
      ...(pieces.some((p) => p.retval) ? { retval: this.concatRetval(pieces, total) } : {}),
      ...(pieces.some((p) => p.skbData) ? this.concatSkbData(pieces, total) : {}),
    };
  }

  /** The return values of all pieces; a piece without them adds zeros. */
  private concatRetval(pieces: readonly EventColumns[], total: number): BigInt64Array {
    const out = this.buffer('retval', BigInt64Array, total) as BigInt64Array;
    let at = 0;
    for (const p of pieces) {
      if (p.retval) out.set(p.retval.subarray(0, p.length), at);
      else out.fill(0n, at, at + p.length);
      at += p.length;
    }
    return out;
  }

  /** The raw sk_buff bytes (--output-skb) of all pieces, like the headers; a piece without them adds empty values. */
  private concatSkbData(pieces: readonly EventColumns[], total: number): Pick<EventColumns, 'skbData' | 'skbDataOffsets'> {
    const skbDataOffsets = this.buffer('skbDataOffsets', Int32Array, total + 1) as Int32Array;
    let bytes = 0;
    for (const p of pieces) if (p.skbData && p.skbDataOffsets) bytes += p.skbDataOffsets[p.length] - p.skbDataOffsets[0];
    const skbData = this.buffer('skbData', Uint8Array, bytes) as Uint8Array;
    skbDataOffsets[0] = 0;
    let row = 0;
    let base = 0;
    for (const p of pieces) {
      const offsets = p.skbDataOffsets;
      if (p.skbData && offsets) {
        skbData.set(p.skbData.subarray(offsets[0], offsets[p.length]), base);
        for (let i = 1; i <= p.length; i++) skbDataOffsets[row + i] = offsets[i] - offsets[0] + base;
        base += offsets[p.length] - offsets[0];
      } else {
        skbDataOffsets.fill(base, row + 1, row + p.length + 1);
      }
      row += p.length;
    }
    return { skbData, skbDataOffsets };
  }

  /** Header bytes and offsets of all pieces, offsets rebased to start at 0. */
  private concatHeaders(pieces: readonly EventColumns[], total: number): Pick<EventColumns, 'headers' | 'headerOffsets'> {
    let bytes = 0;
    for (const p of pieces) bytes += p.headerOffsets[p.length] - p.headerOffsets[0];
    const headers = this.buffer('headers', Uint8Array, bytes) as Uint8Array;
    const headerOffsets = this.buffer('headerOffsets', Int32Array, total + 1) as Int32Array;
    headerOffsets[0] = 0;
    let row = 0;
    let base = 0;
    for (const p of pieces) {
      const first = p.headerOffsets[0];
      const last = p.headerOffsets[p.length];
      headers.set(p.headers.subarray(first, last), base);
      for (let i = 1; i <= p.length; i++) headerOffsets[row + i] = p.headerOffsets[i] - first + base;
      row += p.length;
      base += last - first;
    }
    return { headers, headerOffsets };
  }

  /** A view of `length` elements of the scratch array for key, grown when too small. */
  private buffer(key: string, ctor: ColumnCtor, length: number): Column {
    let array = this.scratch.get(key);
    if (array === undefined || array.length < length) {
      array = new ctor(Math.max(length, Math.ceil((array?.length ?? 0) * 1.5)));
      this.scratch.set(key, array);
    }
    return array.subarray(0, length);
  }
}
