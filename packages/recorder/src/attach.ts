import type { Backend } from './backend.js';
import type { Handle, NativeAddon } from './native.js';
import { TC_PROGRAMS, funcProgram, type PlannedFunc, type PlannedTc } from './plan.js';
import { ProgressBar } from './progress.js';

export interface IgnoredProbe {
  probe: string;
  error: string;
}

export interface FuncAttachResult {
  attached: number;
  /** functions the kernel refused at attach */
  ignored: IgnoredProbe[];
}

/** Attaches the function programs the backend uses; a function the kernel refuses is ignored, not fatal. */
export function attachFuncs(native: NativeAddon, handle: Handle, backend: Backend, funcs: PlannedFunc[]): FuncAttachResult {
  if (backend === 'kprobe-multi') return attachKprobeMulti(native, handle, funcs);
  if (backend === 'kprobe' || backend === 'fentry') return attachOneByOne(native, handle, backend, funcs);
  return { attached: 0, ignored: [] };
}

/**
 * One kprobe-multi link per skb argument position. The kernel refuses a whole link for one bad
 * function, so a refused list is split in halves until the refused functions are alone.
 */
function attachKprobeMulti(native: NativeAddon, handle: Handle, funcs: PlannedFunc[]): FuncAttachResult {
  const result: FuncAttachResult = { attached: 0, ignored: [] };
  const attach = (program: string, names: string[]) => {
    try {
      native.attachKprobeMulti(handle, program, names);
      result.attached += names.length;
    } catch (err) {
      if (names.length === 1) {
        result.ignored.push({ probe: names[0], error: (err as Error).message });
        return;
      }
      const half = names.length >> 1;
      attach(program, names.slice(0, half));
      attach(program, names.slice(half));
    }
  };
  for (const [skbArg, names] of namesByPosition(funcs)) attach(funcProgram('kprobe_multi', skbArg), names);
  return result;
}

/** --filter-trace-tc: a fentry and a fexit program on each tc program. */
export function attachTcPrograms(native: NativeAddon, handle: Handle, tcs: PlannedTc[]): FuncAttachResult {
  const result: FuncAttachResult = { attached: 0, ignored: [] };
  for (const tc of tcs) {
    try {
      native.attachTracingToProg(handle, TC_PROGRAMS.entry, tc.id);
      native.attachTracingToProg(handle, TC_PROGRAMS.exit, tc.id);
      result.attached++;
    } catch (err) {
      result.ignored.push({ probe: `${tc.func} (tc program ${tc.id})`, error: (err as Error).message });
    }
  }
  return result;
}

/** kprobe: one link per function; fentry: a fentry and a fexit program per function. */
function attachOneByOne(native: NativeAddon, handle: Handle, backend: 'kprobe' | 'fentry', funcs: PlannedFunc[]): FuncAttachResult {
  const result: FuncAttachResult = { attached: 0, ignored: [] };
  const bar = new ProgressBar(backend === 'kprobe' ? 'attaching kprobes' : 'attaching fentry/fexit', funcs.length);
  try {
    for (const f of funcs) {
      try {
        if (backend === 'kprobe') {
          native.attachKprobe(handle, funcProgram('kprobe', f.skbArg), f.name);
        } else {
          native.attachTracing(handle, funcProgram('fentry', f.skbArg), f.name, f.module);
          if (f.fexit) native.attachTracing(handle, funcProgram('fexit', f.skbArg), f.name, f.module);
        }
        result.attached++;
      } catch (err) {
        result.ignored.push({ probe: f.name, error: (err as Error).message });
      }
      bar.tick();
    }
  } finally {
    bar.end();
  }
  return result;
}

function namesByPosition(funcs: PlannedFunc[]): Map<number, string[]> {
  const byPos = new Map<number, string[]>();
  for (const f of funcs) {
    const names = byPos.get(f.skbArg);
    if (names) names.push(f.name);
    else byPos.set(f.skbArg, [f.name]);
  }
  return byPos;
}
