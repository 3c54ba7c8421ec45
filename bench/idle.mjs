// Waiting for a quiet machine before measuring: the reference VM is shared, and a busy
// neighbour doubles an analysis's wall time. Linux only (/proc/stat); elsewhere, no wait.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3] + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

/** Waits until the CPUs were at least `min` idle for a second (or `minutes` passed); returns that share. */
export function untilIdle({ min = 0.85, minutes = 5 } = {}) {
  if (!existsSync('/proc/stat')) return null;
  const deadline = Date.now() + minutes * 60_000;
  for (;;) {
    const a = cpuTimes();
    execFileSync('sleep', ['1']);
    const b = cpuTimes();
    const idle = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (idle >= min || Date.now() > deadline) return idle;
    execFileSync('sleep', ['4']);
  }
}
