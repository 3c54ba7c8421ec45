import type { FuncAttachResult } from './attach.js';
import { chooseBackend, selectTracepoints, type BackendChoice, type BackendName } from './backend.js';
import { discoverSkbFuncs, type SkbFunc } from './discovery.js';
import { addressesOf } from './kallsyms.js';
import type { Handle, NativeAddon, NativeProbe, TcProgram } from './native.js';
import { ALL_FUNC_PROGRAMS, SKB_ARG_POSITIONS, TC_PROGRAMS, funcProbeTable, funcProgram, planProbes, type FuncProbeTable, type ProbePlan } from './plan.js';

export interface ProbeSetOptions {
  backend: BackendName;
  filterFunc?: RegExp;
  kernelBtf?: string;
  kmods?: string[];
  allKmods?: boolean;
  /** --filter-trace-tc: fentry/fexit on the tc BPF programs loaded now */
  traceTc?: boolean;
}

/** What a recording attaches: the backend, the tracepoints, the kernel functions and their probe ids. */
export interface ProbeSet {
  choice: BackendChoice;
  tracepoints: NativeProbe[];
  plan: ProbePlan;
  /** functions found in BTF that ftrace can't hook, left out */
  unprobeable: number;
  /** the address -> probe id table of the function programs */
  table: FuncProbeTable;
  /** lines for the user about what is left out (--filter-trace-tc where fentry is refused) */
  notes: string[];
}

/** Discovers, chooses and numbers everything before the BPF object is opened, so bad input attaches nothing. */
export function planRecording(native: NativeAddon, opts: ProbeSetOptions): ProbeSet {
  const discovery = opts.backend === 'tracepoint' ? null : discoverSkbFuncs(native, opts);
  const funcs = discovery?.funcs ?? [];
  const choice = chooseBackend(opts.backend, {
    probe: (kind) => native.probeBackend(kind, probeTarget(funcs)),
    funcCount: funcs.length,
    filterFunc: opts.filterFunc,
  });
  const traced = choice.backend === 'tracepoint' ? [] : funcs;
  const tracepoints = selectTracepoints(choice.backend, native.probes(), opts.filterFunc);
  const notes: string[] = [];
  const tcs = opts.traceTc ? tracedTcPrograms(native, probeTarget(funcs), notes) : [];
  const plan = planProbes(choice.backend, native.probes(), traced, tcs);
  const addresses = traced.length > 0 ? addressesOf(new Set(traced.map((f) => f.name))) : new Map<string, bigint[]>();
  return { choice, tracepoints, plan, unprobeable: discovery?.unprobeable.length ?? 0, table: funcProbeTable(plan, addresses), notes };
}

/** --filter-trace-tc: the tc programs loaded now, when the kernel lets fentry attach (else a note says why not). */
function tracedTcPrograms(native: NativeAddon, probeFunc: string, notes: string[]): TcProgram[] {
  const fentry = native.probeBackend('fentry', probeFunc);
  if (!fentry.ok) {
    notes.push(`--filter-trace-tc: tc programs are not traced, the kernel refuses fentry (${fentry.error})`);
    return [];
  }
  const progs = native.tcPrograms();
  if (progs.length === 0) notes.push('--filter-trace-tc: no tc BPF program with BTF is loaded');
  return progs;
}

/** A function the backend probes try: a kernel one (fentry needs vmlinux BTF), ip_rcv when selected. */
function probeTarget(funcs: SkbFunc[]): string {
  const kernel = funcs.filter((f) => f.module === null);
  return (kernel.find((f) => f.name === 'ip_rcv') ?? kernel[0] ?? funcs[0])?.name ?? 'ip_rcv';
}

/** Before load: which function programs load, what fentry/fexit templates verify against, the id table. */
export function prepareFuncPrograms(native: NativeAddon, handle: Handle, set: ProbeSet): void {
  for (const program of ALL_FUNC_PROGRAMS) native.setAutoload(handle, program, set.plan.programs.has(program));
  if (set.choice.backend === 'fentry') {
    for (const n of SKB_ARG_POSITIONS) {
      const first = set.plan.funcs.find((f) => f.skbArg === n);
      if (!first) continue;
      native.setAttachTarget(handle, funcProgram('fentry', n), first.name);
      const withExit = set.plan.funcs.find((f) => f.skbArg === n && f.fexit);
      if (withExit) native.setAttachTarget(handle, funcProgram('fexit', n), withExit.name);
    }
  }
  const firstTc = set.plan.tcs[0];
  if (firstTc) {
    native.setAttachTargetProg(handle, TC_PROGRAMS.entry, firstTc.id);
    native.setAttachTargetProg(handle, TC_PROGRAMS.exit, firstTc.id);
  }
  native.setFuncProbes(handle, set.table.addrs, set.table.ids, set.table.rets);
}

/** One line after attaching, like pwru's: what is attached and how many were ignored. */
export function attachSummary(set: ProbeSet, tracepoints: number, funcs: FuncAttachResult, tcs: FuncAttachResult, ms: number): string {
  const parts = [plural(tracepoints, 'tracepoint')];
  if (set.choice.backend !== 'tracepoint') parts.unshift(`${plural(funcs.attached, 'kernel function')} (${set.choice.backend}, ${(ms / 1000).toFixed(1)} s)`);
  if (set.plan.tcs.length > 0) parts.push(`${plural(tcs.attached, 'tc program')} (fentry/fexit)`);
  const refused = funcs.ignored.length + tcs.ignored.length;
  const why = set.unprobeable > 0 ? `: ${set.unprobeable} not in available_filter_functions, ${refused} refused` : '';
  return `attached ${parts.join(', ')} (ignored ${refused + set.unprobeable}${why})`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
