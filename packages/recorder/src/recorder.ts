import fs from 'node:fs';
import { RecordingWriter, type EndMeta, type EventColumns, type Lz4FrameEncoder, type StartMeta } from '@skbtrail/format';
import { AddressCollector } from './addresses.js';
import { attachFuncs, attachTcPrograms, type IgnoredProbe } from './attach.js';
import type { BackendName } from './backend.js';
import { RecorderError, fromNativeError } from './errors.js';
import { compileFilter, type CompiledFilter } from './filter/index.js';
import { type FilterArgs, filtersMeta, nativeFilterOptions, resolveFilters } from './filters.js';
import { startLive } from './live.js';
import { bootToRealtimeNs, hostInfo } from './host.js';
import { readKallsyms, symbolsFor } from './kallsyms.js';
import { loadNative, type Handle, type NativeAddon } from './native.js';
import { scanIfaces, scanNetns } from './netns.js';
import { attachSummary, planRecording, prepareFuncPrograms, type ProbeSet } from './probeset.js';
import { firstEvents } from './slice.js';
import { StatusLine } from './status.js';
import { VERSION } from './version.js';

/**
 * Events per written batch. Each flush (concatenate, encode, compress, write) pauses the thread
 * that hands batches over; at the veth's top rate here (~530k events/s) 65536-event flushes let
 * the ring buffer overflow (~2 % lost with LZ4), 16384-event ones lost nothing and spent less
 * CPU (bench/capacity.mjs, BENCHMARKS.md).
 */
const FLUSH_EVENTS = 16384;

/** How the events are written: LZ4_FRAME body compression (the native encoder), or not at all. */
export const COMPRESSIONS = ['lz4', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface RecordOptions {
  output: string;
  snaplen: number;
  outputStack: boolean;
  /** default lz4 */
  compress?: Compression;
  backend: BackendName;
  durationSec?: number;
  maxEvents?: number;
  readyFile?: string;
  filterFunc?: RegExp;
  /** BTF file describing the kernel (discovery and CO-RE), instead of /sys/kernel/btf/vmlinux */
  kernelBtf?: string;
  /** modules whose functions are traced too (their BTF in /sys/kernel/btf) */
  kmods?: string[];
  allKmods?: boolean;
  /** --filter-trace-tc: fentry/fexit on the tc BPF programs loaded now, where the kernel allows fentry */
  traceTc?: boolean;
  /** pcap-filter expression (man 7 pcap-filter): only events of matching packets are recorded. */
  pcapFilter?: string;
  /** --filter-netns, --filter-mark, --filter-ifname, --filter-track-skb (filters.ts) */
  filters?: FilterArgs;
  /** record every event's raw struct sk_buff and the BTF that prints it */
  outputSkb?: boolean;
  /** record what names every event's caller: frees carry their location, other events get a stack id */
  outputCaller?: boolean;
  /** print pwru-style lines on stdout while recording */
  live?: boolean;
  /** and/or into this text file (pwru's --output-file) */
  liveFile?: string;
  /** called with every batch the writer got (the live view) */
  onEvents?: (batch: EventColumns) => void;
  argv: string[];
  /** One line of progress or diagnostics for stderr. */
  log: (line: string) => void;
}

export interface RecordResult {
  events: number;
  lost: number;
  stopReason: EndMeta['stopReason'];
  /** The signal that stopped the recording, when one did. */
  signal: NodeJS.Signals | null;
  attached: string[];
  ignored: IgnoredProbe[];
}

type StopReason = EndMeta['stopReason'];

const DROP_REASON_PREFIX = 'SKB_DROP_REASON_';
const MAX_IGNORED_LINES = 5;

/**
 * One recording session: load and attach the BPF probes, stream batches into the writer,
 * stop on signal, duration or count, then write the metadata that names everything offline.
 * Every exit path detaches and closes the kernel side.
 */
export async function record(opts: RecordOptions): Promise<RecordResult> {
  const native = loadNative();
  // A bad expression is a usage error, before anything is loaded or written.
  const filter = opts.pcapFilter !== undefined ? compileFilter(native, opts.pcapFilter) : null;
  // So is a namespace, interface or mark that can't be.
  const filters = resolveFilters(opts.filters ?? {});
  const probeSet = planRecording(native, opts);
  const skbBtf = opts.outputSkb ? readSkbBtf(native, opts.kernelBtf) : undefined;
  const dropReasons = readDropReasons(native, opts.kernelBtf);
  // Namespaces and links are scanned before any probe is attached (and again after detach),
  // so the recorder's own netlink traffic never lands in the recording.
  const netns = scanNetns();
  const ifaces = scanIfaces(netns);

  let handle: Handle | undefined;
  const unavailable = new Map<string, string>();
  try {
    handle = native.open(native.objectPath, {
      snaplen: opts.snaplen,
      outputStack: opts.outputStack,
      ...nativeFilterOptions(filters),
      outputSkb: opts.outputSkb ?? false,
      outputCaller: opts.outputCaller ?? false,
      kernelBtf: opts.kernelBtf,
    });
    prepareFuncPrograms(native, handle, probeSet);
    const selected = new Set(probeSet.tracepoints.map((p) => p.program));
    for (const p of native.probes()) native.setAutoload(handle, p.program, selected.has(p.program));
    if (filter) injectFilter(native, handle, filter, opts.log);
    // Tracepoints this kernel lacks or shaped differently are left out by the addon, not fatal.
    for (const u of native.load(handle).unavailable) unavailable.set(u.program, u.reason);
    opts.log(probeSet.choice.reason);
  } catch (err) {
    if (handle !== undefined) native.close(handle);
    throw fromNativeError(err, 'loading the BPF programs failed');
  }

  try {
    const attached: string[] = [];
    const ignored: IgnoredProbe[] = [];
    for (const p of probeSet.tracepoints) {
      const missing = unavailable.get(p.program);
      if (missing !== undefined) {
        ignored.push({ probe: p.name, error: missing });
        continue;
      }
      try {
        native.attach(handle, p.program);
        attached.push(p.name);
      } catch (err) {
        ignored.push({ probe: p.name, error: (err as Error).message });
      }
    }
    const attachStarted = Date.now();
    const funcs = attachFuncs(native, handle, probeSet.choice.backend, probeSet.plan.funcs);
    const tcs = attachTcPrograms(native, handle, probeSet.plan.tcs);
    ignored.push(...funcs.ignored, ...tcs.ignored);
    if (attached.length + funcs.attached + tcs.attached === 0) {
      throw new RecorderError('ATTACH', `no probe could be attached (first error: ${ignored[0]?.error})`);
    }
    for (const note of probeSet.notes) opts.log(note);
    opts.log(attachSummary(probeSet, attached.length, funcs, tcs, Date.now() - attachStarted));
    for (const i of ignored.slice(0, MAX_IGNORED_LINES)) opts.log(`ignored ${i.probe}: ${i.error}`);
    if (ignored.length > MAX_IGNORED_LINES) opts.log(`... and ${ignored.length - MAX_IGNORED_LINES} more ignored (listed in the recording's metadata)`);

    const meta: StartMeta = {
      recorder: {
        version: VERSION,
        argv: opts.argv,
        backend: probeSet.choice.backend,
        backendReason: probeSet.choice.reason,
        options: {
          snaplen: opts.snaplen,
          outputStack: opts.outputStack,
          compress: opts.compress ?? 'lz4',
          duration: opts.durationSec ?? null,
          maxEvents: opts.maxEvents ?? null,
          kernelBtf: opts.kernelBtf ?? null,
          kmods: opts.allKmods ? 'all' : (opts.kmods ?? []),
          attached: [
            ...attached,
            ...(funcs.attached > 0 ? [`${funcs.attached} kernel functions`] : []),
            ...(tcs.attached > 0 ? [`${tcs.attached} tc programs`] : []),
          ],
          ignored,
          unprobeable: probeSet.unprobeable,
          // Stacks are recorded for --output-caller too (events without a location).
          outputCaller: opts.outputCaller ?? false,
          outputSkb: opts.outputSkb ?? false,
          live: opts.live || opts.liveFile !== undefined ? { stdout: opts.live ?? false, file: opts.liveFile ?? null } : null,
        },
        filters: { func: opts.filterFunc?.source ?? null, pcap: filter?.expression ?? null, ...filtersMeta(filters) },
      },
      host: hostInfo(),
      clock: { bootToRealtimeNs: bootToRealtimeNs().toString() },
      startedAt: new Date().toISOString(),
      snaplen: opts.snaplen,
      probes: probeSet.plan.probes,
      dropReasons,
      netns,
      ifaces,
      ...(skbBtf ? { skb: skbBtf } : {}),
    };

    const live = startLive(opts, meta);
    let writer: RecordingWriter;
    try {
      writer = createWriter(opts.output, meta, (opts.compress ?? 'lz4') === 'lz4' ? native.lz4Frame : undefined);
    } catch (err) {
      live?.close(true);
      throw err;
    }
    let result: StreamResult;
    try {
      result = await stream(native, handle, writer, { ...opts, onEvents: live?.print }, detachNote(probeSet, funcs.attached));
    } finally {
      live?.close();
    }
    const end = finish(native, handle, writer, result, filters.trackSkb);
    return { events: writer.eventsWritten, lost: end.lost.total, stopReason: result.stopReason, signal: result.signal, attached, ignored };
  } finally {
    native.close(handle);
  }
}

/** Splices both translations into every program before load; filtering is on from then. */
function injectFilter(native: NativeAddon, handle: Handle, filter: CompiledFilter, log: (line: string) => void): void {
  native.injectFilter(handle, 'l2', filter.l2.insns);
  native.injectFilter(handle, 'l3', filter.l3.insns);
  if (filter.l3RejectsAll !== null) {
    log(`pcap-filter needs a link-layer header (libpcap for raw IP: ${filter.l3RejectsAll}): packets seen without one are not recorded`);
  }
}

/** --output-skb: struct sk_buff's BTF from the running kernel, for printing the bytes offline. */
function readSkbBtf(native: NativeAddon, kernelBtf?: string): NonNullable<StartMeta['skb']> {
  try {
    const { btf, typeId, size } = native.skbBtf(kernelBtf ?? null);
    return { btf: Buffer.from(btf).toString('base64'), typeId, size };
  } catch (err) {
    throw fromNativeError(err, 'reading struct sk_buff from kernel BTF failed (--output-skb)');
  }
}

/** Said before a slow detach: the kernel unregisters kprobes one at a time, each waiting for RCU. */
function detachNote(probeSet: ProbeSet, funcs: number): string | null {
  return probeSet.choice.backend === 'kprobe' && funcs > 100 ? `detaching ${funcs} kprobes (one by one: this takes a while)` : null;
}

function readDropReasons(native: NativeAddon, kernelBtf?: string): StartMeta['dropReasons'] {
  try {
    return native
      .btfEnum(kernelBtf ?? null, 'skb_drop_reason')
      .map(({ name, value }) => ({ value, name: name.startsWith(DROP_REASON_PREFIX) ? name.slice(DROP_REASON_PREFIX.length) : name }));
  } catch (err) {
    throw fromNativeError(err, 'reading the drop reasons from kernel BTF failed');
  }
}

function createWriter(output: string, meta: StartMeta, lz4Frame?: Lz4FrameEncoder): RecordingWriter {
  try {
    return RecordingWriter.create(output, meta, { flushEvents: FLUSH_EVENTS, ...(lz4Frame ? { lz4Frame } : {}) });
  } catch (err) {
    throw new RecorderError('IO', `cannot write ${output}: ${(err as Error).message}`, { cause: err });
  }
}

interface StreamResult {
  stopReason: StopReason;
  signal: NodeJS.Signals | null;
  addresses: AddressCollector;
}

/** Runs until a stop condition; the native side delivers batches on the JS thread. */
async function stream(
  native: NativeAddon,
  handle: Handle,
  writer: RecordingWriter,
  opts: RecordOptions,
  detachNote: string | null,
): Promise<StreamResult> {
  const addresses = new AddressCollector();
  const status = new StatusLine(opts.live);
  let stopReason: StopReason | null = null;
  let stopSignal: NodeJS.Signals | null = null;
  let recorded = 0; // appended to the writer, flushed or not
  let writeError: unknown = null;
  let resolveStop!: () => void;
  const stopped = new Promise<void>((r) => (resolveStop = r));
  const requestStop = (why: StopReason) => {
    if (stopReason === null) stopReason = why;
    resolveStop();
  };

  const onBatch = (batch: EventColumns) => {
    if (writeError) return;
    const room = opts.maxEvents === undefined ? batch.length : opts.maxEvents - recorded;
    if (room <= 0) return;
    const kept = firstEvents(batch, room);
    try {
      addresses.add(kept);
      writer.append(kept);
      recorded += kept.length;
      opts.onEvents?.(kept);
    } catch (err) {
      writeError = err;
      requestStop('error');
      return;
    }
    if (opts.maxEvents !== undefined && recorded >= opts.maxEvents) requestStop('max-events');
  };

  const onSignal = (signal: NodeJS.Signals) => {
    opts.log(`received ${signal}, stopping`);
    stopSignal ??= signal;
    requestStop('signal');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timers: NodeJS.Timeout[] = [];
  if (opts.durationSec !== undefined) timers.push(setTimeout(() => requestStop('duration'), opts.durationSec * 1000));
  timers.push(
    setInterval(() => {
      try {
        writer.flush();
      } catch (err) {
        writeError = err;
        requestStop('error');
      }
      status.update(writer.eventsWritten, sum(native.lost(handle)));
    }, 1000),
  );

  try {
    native.start(handle, onBatch);
    if (opts.readyFile) writeReadyFile(opts.readyFile);
    await stopped;
    if (detachNote) opts.log(detachNote);
    await native.stop(handle);
  } finally {
    for (const t of timers) clearTimeout(t);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    status.end();
  }
  if (writeError) {
    throw new RecorderError('IO', `writing ${opts.output} failed: ${(writeError as Error).message}`, { cause: writeError });
  }
  return { stopReason: stopReason ?? 'signal', signal: stopSignal, addresses };
}

function writeReadyFile(file: string): void {
  try {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, `${process.pid}\n`);
    fs.renameSync(tmp, file);
  } catch (err) {
    throw new RecorderError('IO', `cannot write the ready file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Lost counts, stacks, symbols and a fresh namespace scan: what only the end of a run knows. */
function finish(native: NativeAddon, handle: Handle, writer: RecordingWriter, result: StreamResult, trackSkb = false): EndMeta {
  writer.flush();
  const perCpu = native.lost(handle);
  const ids = Int32Array.from([...result.addresses.stackIds].sort((a, b) => a - b));
  const frames = ids.length > 0 ? native.stacks(handle, ids) : [];
  const wanted = new Set(result.addresses.locations);
  for (const f of frames) for (const a of f) wanted.add(a);
  const kallsyms = wanted.size > 0 ? symbolsFor(readKallsyms(), wanted) : { addr: new BigUint64Array(0), name: [], module: [] };
  const netns = scanNetns();
  const end: EndMeta = {
    stoppedAt: new Date().toISOString(),
    stopReason: result.stopReason,
    events: writer.eventsWritten,
    lost: { total: sum(perCpu), perCpu },
    netns,
    ifaces: scanIfaces(netns),
  };
  if (trackSkb) {
    const overflow = native.trackOverflow(handle);
    end.trackOverflow = { total: sum(overflow), perCpu: overflow };
  }
  writer.close(end, { kallsyms, stacks: { id: ids, frames } });
  return end;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
