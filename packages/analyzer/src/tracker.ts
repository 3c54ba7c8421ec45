// Packet identity. The kernel hands a freed sk_buff's address to the next packet, so "same skb"
// is not "same packet": a packet is one lifetime of an address, from its first event through
// the event that frees it (kfree_skb, consume_skb, or a freeing function probe) and the release
// functions that run right after (skb_release_data, kfree_skbmem, ... in recordings made with
// function probes); the address's next other event starts a new packet. Events are taken in
// recording order: the recorder's one ring buffer is filled in the order events happen, which for
// one skb is causal order, so finding packets needs no sort — one pass with a hash table keyed
// by address, in typed arrays.

import { grown } from './grown.js';

const EMPTY = -1;

/** Functions and tracepoints after which an skb address no longer belongs to its packet. */
export const FREEING_PROBES = new Set([
  'kfree_skb',
  'consume_skb',
  'kfree_skb_reason',
  'sk_skb_reason_drop',
  'kfree_skbmem',
  '__kfree_skb',
  'kfree_skb_partial',
  'napi_consume_skb',
  '__napi_kfree_skb',
  'dev_kfree_skb_any_reason',
  'dev_kfree_skb_irq_reason',
]);

/**
 * What runs on an skb while it is being freed, after the freeing call: still the same packet.
 * Function probes only: a freeing tracepoint fires once per free, so after one, a second one
 * is the next packet's (a tracepoint-only recording sees only those); after a freeing function
 * (kfree_skb_reason, consume_skb as a kprobe), the tracepoint it fires is the same free.
 */
export const RELEASING_PROBES = new Set([
  ...FREEING_PROBES,
  'skb_release_head_state',
  'skb_release_data',
  'skb_release_all',
  'skb_free_head',
  'kfree_skb_list_reason',
  'napi_skb_cache_put',
  'skb_attempt_defer_free',
  'skb_orphan',
  'skb_dst_drop',
  'sock_wfree',
  '__sock_wfree',
  'sock_rfree',
  'sock_efree',
  'tcp_wfree',
  'nf_conntrack_destroy',
  '__skb_ext_put',
]);

/** Functions whose next new skb on the same CPU is a clone or copy of the skb they were given. */
export const CLONING_PROBES = new Set([
  'skb_clone',
  '__skb_clone',
  'skb_clone_sk',
  'skb_copy',
  'skb_copy_expand',
  'pskb_copy',
  '__pskb_copy',
  '__pskb_copy_fclone',
  'pskb_copy_for_clone',
  'skb_realloc_headroom',
  'skb_expand_head',
  'skb_segment',
  '__skb_gso_segment',
  'skb_gso_segment',
]);

/** A clone's first event comes right after the cloning call on the same CPU, within this. */
const CLONE_WINDOW_NS = 1_000_000;

/** Per func id, 1 where the probe's name is in the set (functionsOnly: and it is no tracepoint). */
export function probeFlags(probes: { id: number; name: string; kind: string }[], names: Set<string>, functionsOnly = false): Uint8Array {
  const flags = new Uint8Array(Math.max(0, ...probes.map((p) => p.id + 1)) + 1);
  for (const p of probes) if (names.has(p.name) && !(functionsOnly && p.kind === 'tracepoint')) flags[p.id] = 1;
  return flags;
}

/**
 * Follows packets through a recording, event by event. step() returns the event's slot (one
 * per distinct address); the slot's arrays describe the packet that address holds now, and
 * the `prev*`, `started`, `ended` fields describe the step just taken. A caller that needs the
 * previous packet of an address before it is replaced uses slotOf(), restarts() and advance().
 */
export class PacketTracker {
  /** open addressing: skb address words -> slot */
  // Sized for a busy recording's distinct addresses (tens of thousands): growing costs a rehash.
  private keysLo = new Uint32Array(1 << 16);
  private keysHi = new Uint32Array(1 << 16);
  private slotAt = new Int32Array(1 << 16).fill(EMPTY);
  private shift = 16; // 32 - log2(capacity)
  slots = 0;

  // per slot
  packet = new Uint32Array(1024);
  hop = new Uint32Array(1024);
  lastFunc = new Int32Array(1024);
  lastTsLo = new Uint32Array(1024);
  lastTsHi = new Uint32Array(1024);
  /** 1 once the slot's packet met a freeing probe */
  closing = new Uint8Array(1024);
  /** 1 when that freeing probe was a function (its freeing tracepoint may still come) */
  closedByFunction = new Uint8Array(1024);
  /** 1 while the slot holds a packet (a fresh slot holds none) */
  open = new Uint8Array(1024);

  /** packets started so far: the next packet's id */
  packets = 0;
  // the step just taken
  started = false;
  ended = false;
  prevFunc = -1;
  prevTsLo = 0;
  prevTsHi = 0;

  constructor(
    private readonly frees: Uint8Array,
    /** per func id, 1 for the freeing and releasing function probes (probeFlags(..., true)) */
    private readonly releases: Uint8Array,
  ) {}

  step(lo: number, hi: number, func: number, tsLo: number, tsHi: number): number {
    const s = this.slotOf(lo, hi);
    this.advance(s, func, tsLo, tsHi);
    return s;
  }

  /** An event of this probe still belongs to slot s's packet, which is being freed. */
  private continues(s: number, func: number): boolean {
    return this.releases[func] === 1 || (this.closedByFunction[s] === 1 && this.frees[func] === 1);
  }

  /** This event on slot s starts a new packet although the slot holds one (the old one was freed). */
  restarts(s: number, func: number): boolean {
    return this.open[s] === 1 && this.closing[s] === 1 && !this.continues(s, func);
  }

  /** Takes the step for an event on slot s. */
  advance(s: number, func: number, tsLo: number, tsHi: number): void {
    if (this.open[s] === 0 || (this.closing[s] === 1 && !this.continues(s, func))) {
      this.packet[s] = this.packets++;
      this.hop[s] = 0;
      this.open[s] = 1;
      this.closing[s] = 0;
      this.started = true;
      this.prevFunc = -1;
    } else {
      this.hop[s]++;
      this.started = false;
      this.prevFunc = this.lastFunc[s];
      this.prevTsLo = this.lastTsLo[s];
      this.prevTsHi = this.lastTsHi[s];
    }
    this.lastFunc[s] = func;
    this.lastTsLo[s] = tsLo;
    this.lastTsHi[s] = tsHi;
    this.ended = this.frees[func] === 1;
    if (this.ended) {
      this.closing[s] = 1;
      this.closedByFunction[s] = this.releases[func];
    }
  }

  // Events of one skb often come in runs: the last address looked up is checked first.
  private lastLo = -1;
  private lastHi = -1;
  private lastSlot = -1;

  slotOf(lo: number, hi: number): number {
    if (lo === this.lastLo && hi === this.lastHi) return this.lastSlot;
    const s = this.lookup(lo, hi);
    this.lastLo = lo;
    this.lastHi = hi;
    this.lastSlot = s;
    return s;
  }

  private lookup(lo: number, hi: number): number {
    const mask = this.slotAt.length - 1;
    for (let i = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const s = this.slotAt[i];
      if (s === EMPTY) {
        this.keysLo[i] = lo;
        this.keysHi[i] = hi;
        this.slotAt[i] = this.slots;
        return this.addSlot();
      }
      if (this.keysLo[i] === lo && this.keysHi[i] === hi) return s;
    }
  }

  private addSlot(): number {
    const s = this.slots++;
    if (s >= this.packet.length) {
      const n = s + 1;
      this.packet = grown(this.packet, n);
      this.hop = grown(this.hop, n);
      this.lastFunc = grown(this.lastFunc, n);
      this.lastTsLo = grown(this.lastTsLo, n);
      this.lastTsHi = grown(this.lastTsHi, n);
      this.open = grown(this.open, n);
      this.closing = grown(this.closing, n);
      this.closedByFunction = grown(this.closedByFunction, n);
    }
    this.open[s] = 0;
    this.closing[s] = 0;
    if (this.slots * 2 > this.slotAt.length) this.rehash();
    return s;
  }

  private rehash(): void {
    const [lo, hi, at] = [this.keysLo, this.keysHi, this.slotAt];
    this.keysLo = new Uint32Array(lo.length * 2);
    this.keysHi = new Uint32Array(lo.length * 2);
    this.slotAt = new Int32Array(lo.length * 2).fill(EMPTY);
    this.shift--;
    const mask = this.slotAt.length - 1;
    for (let j = 0; j < at.length; j++) {
      if (at[j] === EMPTY) continue;
      let i = Math.imul(lo[j] ^ Math.imul(hi[j], 0x85ebca6b), 0x9e3779b1) >>> this.shift;
      while (this.slotAt[i] !== EMPTY) i = (i + 1) & mask;
      this.keysLo[i] = lo[j];
      this.keysHi[i] = hi[j];
      this.slotAt[i] = at[j];
    }
  }
}

/**
 * Spots clones and copies: a packet whose first event follows, on the same CPU and within
 * CLONE_WINDOW_NS, an event of a cloning function on another packet is that packet's child.
 */
export class CloneSpotter {
  private lastFunc = new Int32Array(64).fill(-1);
  private lastPacket = new Uint32Array(64);
  private lastTs = new Float64Array(64);

  constructor(private readonly clones: Uint8Array) {}

  /** The parent packet of a packet that starts with this event, or -1; then remembers the event. */
  see(cpu: number, func: number, packet: number, started: boolean, tsLo: number, tsHi: number): number {
    if (cpu >= this.lastFunc.length) {
      const known = this.lastFunc.length;
      this.lastFunc = grown(this.lastFunc, cpu + 1);
      this.lastFunc.fill(-1, known);
      this.lastPacket = grown(this.lastPacket, cpu + 1);
      this.lastTs = grown(this.lastTs, cpu + 1);
    }
    const ts = tsHi * 0x100000000 + tsLo;
    let parent = -1;
    const before = this.lastFunc[cpu];
    if (started && before >= 0 && this.clones[before] === 1 && this.lastPacket[cpu] !== packet && ts - this.lastTs[cpu] <= CLONE_WINDOW_NS) {
      parent = this.lastPacket[cpu];
    }
    this.lastFunc[cpu] = func;
    this.lastPacket[cpu] = packet;
    this.lastTs[cpu] = ts;
    return parent;
  }
}

/**
 * The distinct trajectories of a recording as a trie: a node is a hop sequence from the
 * root (its parent's sequence plus one hop), so a packet's path is the node it ends on, and a
 * path's hops are read back by walking to the root. A hop is (probe, netns, ifindex, drop reason).
 * Nodes are only added, so ids stay stable from one pass over the recording to the next.
 */
export class PathTrie {
  // hop keys: (func, netns, ifindex, reason) -> id, open addressing
  private keyAt = new Int32Array(1 << 10).fill(EMPTY);
  hopFunc = new Uint32Array(256);
  hopNetns = new Uint32Array(256);
  hopIfindex = new Uint32Array(256);
  hopReason = new Uint32Array(256);
  hopKeys = 0;

  // nodes; node 0 is the root (no hops)
  parent = new Uint32Array(1024);
  key = new Uint32Array(1024);
  depth = new Uint32Array(1024);
  /** 1 when some packet ended on this node: it is a path */
  terminal = new Uint8Array(1024);
  nodes = 1;
  private childAt = new Int32Array(1 << 12).fill(EMPTY);
  private childShift = 20;
  /** a full pass over the recording has run: every path is in the trie */
  complete = false;

  // Per probe, the last hop key it made, and per hop key, the last step taken with it: paths
  // repeat, so most lookups end here instead of in the hash tables.
  private byFunc = { netns: new Uint32Array(256), ifindex: new Uint32Array(256), reason: new Uint32Array(256), key: new Int32Array(256).fill(EMPTY) };
  private stepFrom = new Int32Array(256).fill(EMPTY);
  private stepTo = new Int32Array(256).fill(EMPTY);

  hopKey(func: number, netns: number, ifindex: number, reason: number): number {
    const f = this.byFunc;
    if (func < f.key.length) {
      const k = f.key[func];
      if (k !== EMPTY && f.netns[func] === netns && f.ifindex[func] === ifindex && f.reason[func] === reason) return k;
      const key = this.internHopKey(func, netns, ifindex, reason);
      f.key[func] = key;
      f.netns[func] = netns;
      f.ifindex[func] = ifindex;
      f.reason[func] = reason;
      return key;
    }
    return this.internHopKey(func, netns, ifindex, reason);
  }

  private internHopKey(func: number, netns: number, ifindex: number, reason: number): number {
    const mask = this.keyAt.length - 1;
    let i = (Math.imul(func ^ Math.imul(netns, 0x27d4eb2d) ^ Math.imul(ifindex, 0x165667b1) ^ Math.imul(reason, 0x9e3779b1), 0x85ebca6b) >>> 0) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = this.keyAt[i];
      if (k === EMPTY) break;
      if (this.hopFunc[k] === func && this.hopNetns[k] === netns && this.hopIfindex[k] === ifindex && this.hopReason[k] === reason) return k;
    }
    const k = this.hopKeys++;
    const n = k + 1;
    this.hopFunc = grown(this.hopFunc, n);
    this.hopNetns = grown(this.hopNetns, n);
    this.hopIfindex = grown(this.hopIfindex, n);
    this.hopReason = grown(this.hopReason, n);
    this.hopFunc[k] = func;
    this.hopNetns[k] = netns;
    this.hopIfindex[k] = ifindex;
    this.hopReason[k] = reason;
    this.keyAt[i] = k;
    if (this.hopKeys * 2 > this.keyAt.length) {
      this.keyAt = new Int32Array(this.keyAt.length * 2).fill(EMPTY);
      const m = this.keyAt.length - 1;
      for (let j = 0; j < this.hopKeys; j++) {
        let p = (Math.imul(this.hopFunc[j] ^ Math.imul(this.hopNetns[j], 0x27d4eb2d) ^ Math.imul(this.hopIfindex[j], 0x165667b1) ^ Math.imul(this.hopReason[j], 0x9e3779b1), 0x85ebca6b) >>> 0) & m;
        while (this.keyAt[p] !== EMPTY) p = (p + 1) & m;
        this.keyAt[p] = j;
      }
    }
    return k;
  }

  /** The node one hop (key) below node. */
  child(node: number, key: number): number {
    if (key >= this.stepFrom.length) {
      const known = this.stepFrom.length;
      this.stepFrom = grown(this.stepFrom, key + 1);
      this.stepTo = grown(this.stepTo, key + 1);
      this.stepFrom.fill(EMPTY, known);
      this.stepTo.fill(EMPTY, known);
    }
    if (this.stepFrom[key] === node) return this.stepTo[key];
    const c = this.findChild(node, key);
    this.stepFrom[key] = node;
    this.stepTo[key] = c;
    return c;
  }

  private findChild(node: number, key: number): number {
    const mask = this.childAt.length - 1;
    let i = Math.imul(Math.imul(node, 0x9e3779b1) ^ key, 0x85ebca6b) >>> this.childShift;
    for (; ; i = (i + 1) & mask) {
      const c = this.childAt[i];
      if (c === EMPTY) break;
      if (this.parent[c] === node && this.key[c] === key) return c;
    }
    const c = this.nodes++;
    const n = c + 1;
    this.parent = grown(this.parent, n);
    this.key = grown(this.key, n);
    this.depth = grown(this.depth, n);
    this.terminal = grown(this.terminal, n);
    this.parent[c] = node;
    this.key[c] = key;
    this.depth[c] = this.depth[node] + 1;
    this.childAt[i] = c;
    if (this.nodes * 2 > this.childAt.length) {
      this.childAt = new Int32Array(this.childAt.length * 2).fill(EMPTY);
      this.childShift--;
      const m = this.childAt.length - 1;
      for (let j = 1; j < this.nodes; j++) {
        let p = Math.imul(Math.imul(this.parent[j], 0x9e3779b1) ^ this.key[j], 0x85ebca6b) >>> this.childShift;
        while (this.childAt[p] !== EMPTY) p = (p + 1) & m;
        this.childAt[p] = j;
      }
    }
    return c;
  }

  /** The hop keys of a path, first hop first. */
  hops(node: number): number[] {
    const keys: number[] = [];
    for (let n = node; n !== 0; n = this.parent[n]) keys.push(this.key[n]);
    return keys.reverse();
  }
}
