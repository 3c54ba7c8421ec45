import type { EventColumns } from '@skbtrail/format';

/**
 * Collects the kernel addresses a recording must be able to name (drop locations, stack ids)
 * while batches stream by. Consecutive repeats are skipped cheaply: most events repeat the last.
 */
export class AddressCollector {
  readonly locations = new Set<bigint>();
  readonly stackIds = new Set<number>();

  add(batch: EventColumns): void {
    const loc = batch.location;
    let last = 0n;
    for (let i = 0; i < batch.length; i++) {
      const a = loc[i];
      if (a !== 0n && a !== last) {
        this.locations.add(a);
        last = a;
      }
    }
    const ids = batch.stack_id;
    let lastId = -1;
    for (let i = 0; i < batch.length; i++) {
      const id = ids[i];
      if (id >= 0 && id !== lastId) {
        this.stackIds.add(id);
        lastId = id;
      }
    }
  }
}
