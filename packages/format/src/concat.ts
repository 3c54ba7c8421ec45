import type { EventColumns, FixedColumnKey } from './types.js';

const FIXED_COLUMNS: readonly FixedColumnKey[] = [
  'ts', 'skb', 'location', 'pid', 'netns', 'ifindex', 'mark', 'len', 'mtu', 'reason',
  'stack_id', 'probe', 'protocol', 'cpu', 'net_off', 'trans_off', 'has_mac', 'pkt_type', 'comm',
];

type Column = EventColumns[FixedColumnKey] | Uint8Array | Int32Array;
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
    };
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
