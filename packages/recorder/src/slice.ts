import type { EventColumns } from '@skbtrail/format';

/** The first n events of a batch, as views (no copies): --max-events stops at exactly n. */
export function firstEvents(batch: EventColumns, n: number): EventColumns {
  if (n >= batch.length) return batch;
  const out: Record<string, unknown> = { ...batch, length: n };
  for (const [key, value] of Object.entries(batch)) {
    if (ArrayBuffer.isView(value) && !['headers', 'headerOffsets', 'skbData', 'skbDataOffsets'].includes(key)) {
      out[key] = (value as Uint8Array).subarray(0, n);
    }
  }
  out.headerOffsets = batch.headerOffsets.subarray(0, n + 1);
  out.headers = batch.headers.subarray(0, batch.headerOffsets[n]);
  if (batch.skbData && batch.skbDataOffsets) {
    out.skbDataOffsets = batch.skbDataOffsets.subarray(0, n + 1);
    out.skbData = batch.skbData.subarray(0, batch.skbDataOffsets[n]);
  }
  return out as unknown as EventColumns;
}
