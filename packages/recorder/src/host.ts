import os from 'node:os';

/** What the analyzer needs to name the machine and turn monotonic timestamps into wall-clock time. */
export function hostInfo(): { hostname: string; kernel: string; machine: string } {
  return { hostname: os.hostname(), kernel: os.release(), machine: os.machine() };
}

/**
 * Offset from CLOCK_MONOTONIC (bpf_ktime_get_ns, process.hrtime) to the wall clock, in ns.
 * Sampled several times; the tightest bracket wins, so the error stays in microseconds.
 */
export function bootToRealtimeNs(): bigint {
  let best: { offset: bigint; width: bigint } | null = null;
  for (let i = 0; i < 5; i++) {
    const before = process.hrtime.bigint();
    const wall = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const after = process.hrtime.bigint();
    const width = after - before;
    const offset = wall - (before + width / 2n);
    if (!best || width < best.width) best = { offset, width };
  }
  return best!.offset;
}
