import { RecorderError } from './errors.js';
import type { NativeProbe } from './native.js';

export type BackendName = 'auto' | 'kprobe-multi' | 'kprobe' | 'fentry' | 'tracepoint';
export type Backend = Exclude<BackendName, 'auto'>;
export const BACKENDS: BackendName[] = ['auto', 'kprobe-multi', 'kprobe', 'fentry', 'tracepoint'];

type FuncBackend = Exclude<Backend, 'tracepoint'>;

/** What each function backend needs from the kernel, for messages. */
const NEEDS: Record<FuncBackend, string> = {
  'kprobe-multi': 'kprobe-multi links (CONFIG_FPROBE, Linux 5.18+)',
  kprobe: 'kprobes (CONFIG_KPROBES and the perf kprobe PMU)',
  fentry: 'fentry/fexit trampolines (BTF and CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, Linux 5.5+, no kernel lockdown)',
};

export interface BackendChoice {
  backend: Backend;
  /** one line: what was chosen and why */
  reason: string;
}

export interface ChoiceInput {
  /** probes the kernel by attaching a no-op program of this kind to a function (native.probeBackend) */
  probe: (kind: FuncBackend) => { ok: boolean; errno: number; error: string };
  /** how many kernel functions the function backends would attach to */
  funcCount: number;
  filterFunc?: RegExp;
}

/**
 * Picks the backend. auto takes the first of kprobe-multi (all functions in five links), kprobe
 * (one link per function), fentry (only for a --filter-func selection: one trampoline per
 * function) that the kernel accepts, else tracepoints. A backend asked for by name that the
 * kernel lacks is an error naming the missing feature and the backends that would work.
 */
export function chooseBackend(requested: BackendName, input: ChoiceInput): BackendChoice {
  const verdicts = new Map<FuncBackend, ReturnType<ChoiceInput['probe']>>();
  const probe = (kind: FuncBackend) => {
    let v = verdicts.get(kind);
    if (!v) verdicts.set(kind, (v = input.probe(kind)));
    return v;
  };
  const functions = `${input.funcCount} function${input.funcCount === 1 ? '' : 's'} taking an skb`;

  if (requested === 'tracepoint') return { backend: 'tracepoint', reason: 'tracepoint backend requested' };
  if (requested !== 'auto' && input.funcCount === 0) {
    throw new RecorderError(
      'USAGE',
      `--backend ${requested}: ${input.filterFunc ? `--filter-func ${input.filterFunc} matches` : 'there is'} no kernel function taking an skb that can be probed — see skbtrail record --list-funcs`,
    );
  }
  if (requested !== 'auto') {
    if (requested === 'fentry' && !input.filterFunc) {
      throw new RecorderError('USAGE', '--backend fentry loads one program per function: choose them with --filter-func (e.g. --filter-func "ip_.*")');
    }
    const v = probe(requested);
    if (!v.ok) throw missingFeature(requested, v, (k) => probe(k).ok);
    return { backend: requested, reason: `${requested} backend requested (${functions})` };
  }

  if (input.funcCount === 0) return { backend: 'tracepoint', reason: 'auto chose tracepoint: no kernel function to attach to' };
  const refused: string[] = [];
  const candidates: FuncBackend[] = input.filterFunc ? ['kprobe-multi', 'kprobe', 'fentry'] : ['kprobe-multi', 'kprobe'];
  for (const kind of candidates) {
    const v = probe(kind);
    if (v.ok) {
      const why = refused.length > 0 ? `${refused.join('; ')}; ${kind} works` : `the kernel has ${NEEDS[kind]}`;
      return { backend: kind, reason: `auto chose ${kind} for ${functions}: ${why}` };
    }
    refused.push(`no ${kind} (${v.error})`);
  }
  return { backend: 'tracepoint', reason: `auto chose tracepoint: ${refused.join('; ')}` };
}

function missingFeature(
  requested: FuncBackend,
  v: { errno: number; error: string },
  works: (k: FuncBackend) => boolean,
): RecorderError {
  if ((v.errno === 1 || v.errno === 13) && process.getuid?.() !== 0) {
    return new RecorderError('PERMISSION', `--backend ${requested}: ${v.error} — run as root or grant CAP_BPF and CAP_PERFMON`);
  }
  const others = (['kprobe-multi', 'kprobe', 'fentry'] as const).filter((k) => k !== requested && works(k));
  const alternatives = [...others, 'tracepoint'].join(', ');
  return new RecorderError(
    'KERNEL_FEATURE',
    `--backend ${requested} needs ${NEEDS[requested]}, which this kernel refuses (${v.error}) — backends that work here: ${alternatives}`,
    { errno: v.errno },
  );
}

/**
 * The tracepoints to attach: for the tracepoint backend, every one (or the --filter-func
 * matches); with a function backend, kfree_skb and consume_skb, so drops keep their reason.
 */
export function selectTracepoints(backend: Backend, all: NativeProbe[], filterFunc?: RegExp): NativeProbe[] {
  if (backend !== 'tracepoint') return all.filter((p) => p.name === 'kfree_skb' || p.name === 'consume_skb');
  const probes = filterFunc ? all.filter((p) => filterFunc.test(p.name) || filterFunc.test(p.target)) : all;
  if (probes.length === 0) {
    throw new RecorderError(
      'USAGE',
      `--filter-func ${filterFunc} matches no probe of the tracepoint backend — available: ${all.map((p) => p.name).join(', ')}`,
    );
  }
  return probes;
}
