// The recording's distinct IP addresses, so saddr/daddr can be ENUM columns: their text is
// formatted once per address (not once per event), and saddr = '10.0.0.1' compares integers.
// IPv4 addresses live in an open-addressing table over typed arrays (no per-event objects);
// IPv6 ones, rarer, in a Map keyed by their four words.
import { BatchLoader, type Dataset } from './dataset.js';
import { DecodedSlice, SLICE_ROWS } from './decode.js';

export function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952: lowercase hex, the longest run (first on a tie) of 2+ zero groups as ::, IPv4-mapped dotted. */
export function ipv6Text(words: ArrayLike<number>): string {
  // words[0] is the least significant (DuckDB's UHUGEINT layout); groups go most significant first.
  const groups: number[] = [];
  for (let w = 3; w >= 0; w--) groups.push(words[w] >>> 16, words[w] & 0xffff);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4Text(words[0])}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  return bestAt < 0 ? hex(groups) : `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

const EMPTY = 0xffffffff;
const ETH_P_IP = 0x0800;

/** u32 → id, open addressing with linear probing; grows at half full. */
class U32Table {
  keys = new Uint32Array(1024);
  ids = new Uint32Array(1024).fill(EMPTY);
  size = 0;
  private shift = 22; // 32 - log2(capacity)

  get(key: number): number {
    const mask = this.keys.length - 1;
    for (let i = Math.imul(key, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const id = this.ids[i];
      if (id === EMPTY || this.keys[i] === key) return id;
    }
  }

  /** id of key, adding it with nextId when absent */
  add(key: number, nextId: number): number {
    const mask = this.keys.length - 1;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (; ; i = (i + 1) & mask) {
      const id = this.ids[i];
      if (id === EMPTY) break;
      if (this.keys[i] === key) return id;
    }
    this.keys[i] = key;
    this.ids[i] = nextId;
    if (++this.size * 2 > this.keys.length) this.grow();
    return nextId;
  }

  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.ids[i] !== EMPTY) out.push([this.keys[i], this.ids[i]]);
    return out;
  }

  private grow(): void {
    const old = this.entries();
    this.keys = new Uint32Array(this.keys.length * 2);
    this.ids = new Uint32Array(this.keys.length).fill(EMPTY);
    this.shift--;
    this.size = 0;
    for (const [k, id] of old) this.add(k, id);
  }
}

/** Row i's IPv6 address equals row i - 1's. */
function sameV6(words: Uint32Array, i: number): boolean {
  const a = i * 4;
  return words[a] === words[a - 4] && words[a + 1] === words[a - 3] && words[a + 2] === words[a - 2] && words[a + 3] === words[a - 1];
}

function v6Key(words: Uint32Array, at: number): string {
  return `${words[at]},${words[at + 1]},${words[at + 2]},${words[at + 3]}`;
}

/** Distinct addresses → ENUM codes (member 0 is '': no address). */
export class AddressBook {
  private readonly v4 = new U32Table();
  private readonly v6 = new Map<string, number>();
  private texts: string[] = [];
  /** provisional id (order of first sight) → ENUM code */
  private codeOf = new Uint32Array(0);
  members: string[] = [''];

  /** Collects every address of the recordings (decoding all headers once). */
  static collect(dataset: Dataset): AddressBook {
    const book = new AddressBook();
    const slice = new DecodedSlice();
    const loader = new BatchLoader(dataset, { fields: new Set(['protocol', 'has_mac', 'net_off']), headers: true });
    const other = new Int32Array(SLICE_ROWS);
    for (let b = 0; b < dataset.batches.length; b++) {
      const batch = loader.load(b);
      const { bytes, offsets, protocol, hasMac, netOff } = batch.headers;
      // Most events are IPv4 behind an Ethernet header at a known offset: their addresses are
      // read right here; the others go through the full decoder, a slice at a time.
      let count = 0;
      let lastS = -1;
      let lastD = -1;
      for (let row = 0; row < batch.rows; row++) {
        const off = netOff[row];
        const p = offsets[row] + off;
        if (hasMac[row] === 1 && protocol[row] === ETH_P_IP && off !== 0xffff && p + 20 <= offsets[row + 1] && bytes[p] >> 4 === 4) {
          const s = ((bytes[p + 12] << 24) | (bytes[p + 13] << 16) | (bytes[p + 14] << 8) | bytes[p + 15]) >>> 0;
          const d = ((bytes[p + 16] << 24) | (bytes[p + 17] << 16) | (bytes[p + 18] << 8) | bytes[p + 19]) >>> 0;
          if (s !== lastS) book.addV4((lastS = s));
          if (d !== lastD) book.addV4((lastD = d));
          continue;
        }
        other[count++] = row;
        if (count === SLICE_ROWS) {
          slice.decode(batch.headers, 0, count, true, other);
          book.addSlice(slice, count);
          count = 0;
        }
      }
      if (count > 0) {
        slice.decode(batch.headers, 0, count, true, other);
        book.addSlice(slice, count);
      }
    }
    book.seal();
    return book;
  }

  /** Adds an IPv4 address (a direct-mapped cache of recent ones in front of the table). */
  private addV4(a: number): void {
    const h = Math.imul(a, 0x9e3779b1) >>> 20;
    if (this.recentSet[h] === 1 && this.recent[h] === a) return;
    this.recent[h] = a;
    this.recentSet[h] = 1;
    const before = this.texts.length;
    if (this.v4.add(a, before) === before) this.texts.push(ipv4Text(a));
  }

  /** IPv4 addresses met lately, direct-mapped: most lookups of a busy flow's address end here. */
  private readonly recent = new Uint32Array(4096);
  private readonly recentSet = new Uint8Array(4096);

  private addSlice(slice: DecodedSlice, n: number): void {
    for (const words of [slice.saddr, slice.daddr]) {
      // Runs of one address are common (a packet's events come together): skip repeats.
      let last = -1;
      for (let i = 0; i < n; i++) {
        const family = slice.family[i];
        if (family === 4) {
          const a = words[i * 4];
          if (a === last) continue;
          last = a;
          this.addV4(a);
        } else if (family === 6) {
          last = -1;
          if (i > 0 && slice.family[i - 1] === 6 && sameV6(words, i)) continue;
          const key = v6Key(words, i * 4);
          if (!this.v6.has(key)) {
            this.v6.set(key, this.texts.length);
            this.texts.push(ipv6Text(words.subarray(i * 4, i * 4 + 4)));
          }
        }
      }
    }
  }

  /** Sorts the members so ORDER BY on the ENUM is ORDER BY its text. */
  private seal(): void {
    const order = this.texts.map((_, id) => id).sort((a, b) => (this.texts[a] < this.texts[b] ? -1 : this.texts[a] > this.texts[b] ? 1 : 0));
    this.codeOf = new Uint32Array(this.texts.length);
    order.forEach((id, rank) => (this.codeOf[id] = rank + 1));
    this.members = ['', ...order.map((id) => this.texts[id])];
  }

  /** Writes the ENUM codes of one decoded address column (saddr or daddr) of a slice. */
  codes(family: Uint8Array, words: Uint32Array, n: number, out: Uint8Array | Uint16Array | Uint32Array): void {
    let last = -1;
    let lastCode = 0;
    for (let i = 0; i < n; i++) {
      const f = family[i];
      if (f === 4) {
        const a = words[i * 4];
        if (a !== last) {
          last = a;
          const id = this.v4.get(a);
          lastCode = id === EMPTY ? 0 : this.codeOf[id];
        }
        out[i] = lastCode;
      } else if (f === 6) {
        const id = this.v6.get(v6Key(words, i * 4)) ?? EMPTY;
        out[i] = id === EMPTY ? 0 : this.codeOf[id];
      } else out[i] = 0;
    }
  }
}
