// Kernel stacks as people read them: the recorder's own BPF frames (the program and the
// tracepoint trampoline it ran from) are dropped, so the first frame is the function that hit
// the probe and the second is its caller.
import type { Session } from './session.js';

const PROBE_FRAMES = /^(bpf_prog_|bpf_trace_run\d|__bpf_trace_|bpf_trampoline_|__traceiter_|trace_call_bpf|kprobe_ftrace_handler|fprobe_)/;

export type Stacks = Map<number, string[]>;

export function readableFrames(symbols: string[]): string[] {
  let first = 0;
  while (first < symbols.length && PROBE_FRAMES.test(symbols[first])) first++;
  return symbols.slice(first);
}

/** Every stack of the session's first recording, by stack_id. */
export async function loadStacks(session: Session): Promise<Stacks> {
  const reader = await session.connection.runAndReadAll(
    `SELECT stack_id, list(symbol ORDER BY depth) AS frames FROM stacks WHERE recording = '${session.dataset.labels[0].replace(/'/g, "''")}' GROUP BY stack_id`,
  );
  const stacks: Stacks = new Map();
  for (const [id, frames] of reader.getRowsJson() as [number, string[]][]) stacks.set(Number(id), readableFrames(frames));
  return stacks;
}

/** Whether the recording has kernel stacks at all. */
export function hasStacks(session: Session): boolean {
  const rec = session.recording;
  return (rec.stacks?.size ?? 0) > 0 || rec.meta.recorder.options?.outputStack === true;
}

/** The caller of the probed function: a free's recorded location, else the stack's second frame. */
export function callerOf(location: string | null, frames: string[] | undefined): string | null {
  if (location) return location;
  return frames && frames.length > 1 ? frames[1] : null;
}
