// Which events are drops: a drop reason other than "not dropped" or "consumed", on a probe
// that is not a consume (consume_skb frees a packet that did its job). Decided per recording,
// since reason values are the recording kernel's enum.
import type { RecordingFile } from '@skbtrail/format/file';

const NOT_DROPS = new Set(['NOT_DROPPED_YET', 'CONSUMED']);
const CONSUMING_PROBES = new Set(['consume_skb', 'napi_consume_skb']);

export class DropRule {
  private readonly notDrop = new Set<number>([0]);
  private readonly consumes: Uint8Array;

  constructor(rec: RecordingFile) {
    for (const r of rec.meta.dropReasons) if (NOT_DROPS.has(r.name)) this.notDrop.add(r.value);
    this.consumes = new Uint8Array(Math.max(0, ...rec.meta.probes.map((p) => p.id)) + 2);
    for (const p of rec.meta.probes) if (CONSUMING_PROBES.has(p.name)) this.consumes[p.id] = 1;
  }

  isDrop(reason: number, func: number): boolean {
    return !this.notDrop.has(reason) && this.consumes[func] !== 1;
  }

  /** 1 for each drop among rows [start, start + n) (or pick[0..n)), into out[0, n) */
  fill(reason: Uint32Array, func: Uint16Array, start: number, n: number, out: Uint8Array, pick: Int32Array | null = null): void {
    let last = -1;
    let lastDrop = false;
    for (let i = 0; i < n; i++) {
      const row = pick === null ? start + i : pick[i];
      const r = reason[row];
      if (r === 0) {
        out[i] = 0;
        continue;
      }
      if (r !== last) {
        last = r;
        lastDrop = !this.notDrop.has(r);
      }
      out[i] = lastDrop && this.consumes[func[row]] !== 1 ? 1 : 0;
    }
  }
}
