// Nanosecond values as people read them: 950ns, 12.3µs, 20.1ms, 1.52s.
export function durationText(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '';
  const abs = Math.abs(ns);
  const fmt = (v: number, unit: string): string => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${unit}`;
  if (abs < 1_000) return `${ns}ns`;
  if (abs < 1_000_000) return fmt(ns / 1_000, 'µs');
  if (abs < 1_000_000_000) return fmt(ns / 1_000_000, 'ms');
  return fmt(ns / 1_000_000_000, 's');
}
