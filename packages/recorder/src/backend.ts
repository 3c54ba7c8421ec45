import { RecorderError } from './errors.js';
import type { NativeProbe } from './native.js';

export type BackendName = 'auto' | 'tracepoint';
export const BACKENDS: BackendName[] = ['auto', 'tracepoint'];

export interface BackendChoice {
  backend: 'tracepoint';
  reason: string;
  probes: NativeProbe[];
}

/**
 * Pick the backend and the probes it attaches. Only tracepoints exist so far; auto says so,
 * so a user on a kprobe-capable box knows why the trajectories are shallow.
 */
export function chooseBackend(requested: BackendName, all: NativeProbe[], filterFunc?: RegExp): BackendChoice {
  const reason =
    requested === 'auto'
      ? 'auto chose tracepoint: the only backend this skbtrail version has (skb/net/qdisc/tcp/udp tracepoints via tp_btf)'
      : 'tracepoint backend requested';
  const probes = filterFunc ? all.filter((p) => filterFunc.test(p.name) || filterFunc.test(p.target)) : all;
  if (probes.length === 0) {
    throw new RecorderError(
      'USAGE',
      `--filter-func ${filterFunc} matches no probe of the tracepoint backend — available: ${all.map((p) => p.name).join(', ')}`,
    );
  }
  return { backend: 'tracepoint', reason, probes };
}
