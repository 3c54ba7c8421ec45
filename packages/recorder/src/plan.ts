import type { ProbeInfo } from '@skbtrail/format';
import type { Backend } from './backend.js';
import type { SkbFunc } from './discovery.js';
import type { NativeProbe, TcProgram } from './native.js';

/** The BPF programs for kernel functions come one per skb argument position (bpf/skbtrail.bpf.c). */
export const SKB_ARG_POSITIONS = [1, 2, 3, 4, 5];
const FUNC_PROGRAM_KINDS = ['kprobe_multi', 'kprobe', 'fentry', 'fexit'] as const;
type FuncProgramKind = (typeof FUNC_PROGRAM_KINDS)[number];

export function funcProgram(kind: FuncProgramKind, skbArg: number): string {
  return `${kind}_skb_${skbArg}`;
}

/** fentry/fexit templates for tc BPF programs (--filter-trace-tc). */
export const TC_PROGRAMS = { entry: 'fentry_tc', exit: 'fexit_tc' } as const;

export const ALL_FUNC_PROGRAMS = [...FUNC_PROGRAM_KINDS.flatMap((k) => SKB_ARG_POSITIONS.map((n) => funcProgram(k, n))), TC_PROGRAMS.entry, TC_PROGRAMS.exit];

/**
 * Functions that pass their return address to the kfree_skb/consume_skb tracepoints as the drop
 * or free location. An fexit program makes a trampoline call them, so that address would point
 * into the trampoline: they get fentry only.
 */
const LOCATION_GIVERS = /^(kfree_skb(_reason|_list_reason)?|sk_skb_reason_drop|consume_skb|napi_consume_skb|__kfree_skb)$/;

/** A traced kernel function with its probe id (fentry's; its fexit, when it has one, has id + 1). */
export interface PlannedFunc extends SkbFunc {
  id: number;
  fexit: boolean;
}

/** A traced tc BPF program with its fentry probe id (its fexit has id + 1). */
export interface PlannedTc extends TcProgram {
  probeId: number;
}

export interface ProbePlan {
  /** every probe id in the recording, dense from 0: the tracepoint table, then functions, then tc programs */
  probes: ProbeInfo[];
  funcs: PlannedFunc[];
  tcs: PlannedTc[];
  /** the func programs to load */
  programs: Set<string>;
}

/**
 * Numbers the probes: tracepoints keep their ids from the probe table in bpf/skbtrail.h, functions
 * follow in discovery order (with fentry, two each: fentry, then fexit, but for LOCATION_GIVERS).
 */
export function planProbes(backend: Backend, tracepointTable: NativeProbe[], funcs: SkbFunc[], tcPrograms: TcProgram[] = []): ProbePlan {
  const probes: ProbeInfo[] = tracepointTable.map((p) => ({ id: p.id, name: p.name, kind: 'tracepoint', target: p.target }));
  const planned: PlannedFunc[] = [];
  const programs = new Set<string>();
  for (const f of backend === 'tracepoint' ? [] : funcs) {
    const fexit = backend === 'fentry' && !LOCATION_GIVERS.test(f.name);
    planned.push({ ...f, id: probes.length, fexit });
    const target = f.module ? `${f.module}:${f.name}` : f.name;
    // Each probe of the function, with the program that records it.
    const kinds: [ProbeInfo['kind'], FuncProgramKind][] =
      backend === 'kprobe-multi' ? [['kprobe', 'kprobe_multi']]
      : backend === 'kprobe' ? [['kprobe', 'kprobe']]
      : fexit ? [['fentry', 'fentry'], ['fexit', 'fexit']]
      : [['fentry', 'fentry']];
    for (const [kind, program] of kinds) {
      probes.push({ id: probes.length, name: f.name, kind, target });
      programs.add(funcProgram(program, f.skbArg));
    }
  }
  const tcs = tcPrograms.map((prog): PlannedTc => {
    const probeId = probes.length;
    const target = `bpf:${prog.id}:${prog.func}`;
    probes.push({ id: probeId, name: prog.func, kind: 'fentry', target }, { id: probeId + 1, name: prog.func, kind: 'fexit', target });
    programs.add(TC_PROGRAMS.entry).add(TC_PROGRAMS.exit);
    return { ...prog, probeId };
  });
  return { probes, funcs: planned, tcs, programs };
}

/** tc programs return an int verdict (TC_ACT_*). */
const TC_RET = -4;

export interface FuncProbeTable {
  addrs: BigUint64Array;
  ids: Uint16Array;
  /** return shapes for fexit (native setFuncProbes) */
  rets: Int8Array;
}

/** The address -> probe id table the function programs look up (every address of each name, each tc program's). */
export function funcProbeTable(plan: ProbePlan, addresses: Map<string, bigint[]>): FuncProbeTable {
  const addrs: bigint[] = [];
  const ids: number[] = [];
  const rets: number[] = [];
  for (const f of plan.funcs) {
    for (const a of addresses.get(f.name) ?? []) {
      addrs.push(a);
      ids.push(f.id);
      rets.push(f.ret);
    }
  }
  for (const tc of plan.tcs) {
    addrs.push(tc.addr);
    ids.push(tc.probeId);
    rets.push(TC_RET);
  }
  return { addrs: BigUint64Array.from(addrs), ids: Uint16Array.from(ids), rets: Int8Array.from(rets) };
}
