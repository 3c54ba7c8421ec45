import fs from 'node:fs';
import { RecordingWriter, type EndMeta, type EventColumns, type StartMeta } from '@skbtrail/format';
import { AddressCollector } from './addresses.js';
import { chooseBackend, type BackendName } from './backend.js';
import { RecorderError, fromNativeError } from './errors.js';
import { compileFilter, type CompiledFilter } from './filter/index.js';
import { bootToRealtimeNs, hostInfo } from './host.js';
import { readKallsyms, symbolsFor } from './kallsyms.js';
import { loadNative, type Handle, type NativeAddon } from './native.js';
import { scanIfaces, scanNetns } from './netns.js';
import { firstEvents } from './slice.js';
import { StatusLine } from './status.js';
import { VERSION } from './version.js';

export interface RecordOptions {
  output: string;
  snaplen: number;
  outputStack: boolean;
  backend: BackendName;
  durationSec?: number;
  maxEvents?: number;
  readyFile?: string;
  filterFunc?: RegExp;
  /** pcap-filter expression (man 7 pcap-filter): only events of matching packets are recorded. */
  pcapFilter?: string;
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
  ignored: { probe: string; error: string }[];
}

type StopReason = EndMeta['stopReason'];

const DROP_REASON_PREFIX = 'SKB_DROP_REASON_';

/**
 * One recording session: load and attach the BPF probes, stream batches into the writer,
 * stop on signal, duration or count, then write the metadata that names everything offline.
 * Every exit path detaches and closes the kernel side.
 */
export async function record(opts: RecordOptions): Promise<RecordResult> {
  const native = loadNative();
  const choice = chooseBackend(opts.backend, native.probes(), opts.filterFunc);
  // A bad expression is a usage error, before anything is loaded or written.
  const filter = opts.pcapFilter !== undefined ? compileFilter(native, opts.pcapFilter) : null;
  const dropReasons = readDropReasons(native);
  // Namespaces and links are scanned before any probe is attached (and again after detach),
  // so the recorder's own netlink traffic never lands in the recording.
  const netns = scanNetns();
  const ifaces = scanIfaces(netns);

  let handle: Handle | undefined;
  const unavailable = new Map<string, string>();
  try {
    handle = native.open(native.objectPath, { snaplen: opts.snaplen, outputStack: opts.outputStack });
    const selected = new Set(choice.probes.map((p) => p.program));
    for (const p of native.probes()) native.setAutoload(handle, p.program, selected.has(p.program));
    if (filter) injectFilter(native, handle, filter, opts.log);
    // Tracepoints this kernel lacks or shaped differently are left out by the addon, not fatal.
    for (const u of native.load(handle).unavailable) unavailable.set(u.program, u.reason);
  } catch (err) {
    if (handle !== undefined) native.close(handle);
    throw fromNativeError(err, 'loading the BPF programs failed');
  }

  try {
    const attached: string[] = [];
    const ignored: { probe: string; error: string }[] = [];
    for (const p of choice.probes) {
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
    if (attached.length === 0) {
      throw new RecorderError('ATTACH', `no probe could be attached (first error: ${ignored[0]?.error})`);
    }
    opts.log(`${choice.reason}; attached ${attached.length} probes (ignored ${ignored.length})`);
    for (const i of ignored) opts.log(`ignored ${i.probe}: ${i.error}`);

    const meta: StartMeta = {
      recorder: {
        version: VERSION,
        argv: opts.argv,
        backend: choice.backend,
        backendReason: choice.reason,
        options: {
          snaplen: opts.snaplen,
          outputStack: opts.outputStack,
          duration: opts.durationSec ?? null,
          maxEvents: opts.maxEvents ?? null,
          attached,
          ignored,
        },
        filters: { func: opts.filterFunc?.source ?? null, pcap: filter?.expression ?? null },
      },
      host: hostInfo(),
      clock: { bootToRealtimeNs: bootToRealtimeNs().toString() },
      startedAt: new Date().toISOString(),
      snaplen: opts.snaplen,
      probes: native.probes().map((p) => ({ id: p.id, name: p.name, kind: 'tracepoint', target: p.target })),
      dropReasons,
      netns,
      ifaces,
    };

    const writer = createWriter(opts.output, meta);
    const result = await stream(native, handle, writer, opts);
    const end = finish(native, handle, writer, result);
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

function readDropReasons(native: NativeAddon): StartMeta['dropReasons'] {
  try {
    return native
      .btfEnum(null, 'skb_drop_reason')
      .map(({ name, value }) => ({ value, name: name.startsWith(DROP_REASON_PREFIX) ? name.slice(DROP_REASON_PREFIX.length) : name }));
  } catch (err) {
    throw fromNativeError(err, 'reading the drop reasons from kernel BTF failed');
  }
}

function createWriter(output: string, meta: StartMeta): RecordingWriter {
  try {
    return RecordingWriter.create(output, meta);
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
async function stream(native: NativeAddon, handle: Handle, writer: RecordingWriter, opts: RecordOptions): Promise<StreamResult> {
  const addresses = new AddressCollector();
  const status = new StatusLine();
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
function finish(native: NativeAddon, handle: Handle, writer: RecordingWriter, result: StreamResult): EndMeta {
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
  writer.close(end, { kallsyms, stacks: { id: ids, frames } });
  return end;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
