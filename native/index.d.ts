// Types of the native recorder addon (index.cjs). A thin, handle-based layer over
// libbpf: every policy decision (which probes, filters, writing) is the caller's.

/** Absolute path of the compiled BPF object (build/skbtrail.bpf.o). */
export declare const objectPath: string;

/** Absolute path of the pcap-filter test bench object (build/filter_test.bpf.o), for filterTestRun. */
export declare const filterTestObjectPath: string;

/** One entry of the probe table in bpf/skbtrail.h. */
export interface NativeProbe {
  /** The event's probe field and the func dictionary index; stable across versions. */
  id: number;
  /** The func column's value: the tracepoint name without its subsystem (kfree_skb). */
  name: string;
  /** The BPF program's name (tp_kfree_skb), for setAutoload and attach. */
  program: string;
  /** subsystem:tracepoint (skb:kfree_skb). */
  target: string;
}

/** The probe table, ordered by id. */
export declare function probes(): NativeProbe[];

/** An opened BPF object. Opaque; closed by close(), garbage collection or process exit. */
export type Handle = { readonly __skbtrailHandle: unique symbol };

export interface OpenOptions {
  /** Packet header bytes captured per event, 0..256. Default 128. */
  snaplen?: number;
  /** Record a kernel stack id per event (BPF stack map). Default false. */
  outputStack?: boolean;
  /** Ring buffer size, rounded up to a power of two of at least a page. Default 16 MiB. */
  ringbufBytes?: number;
  /** Record only skbs in the network namespace with this inode (0: any). */
  filterNetns?: number;
  /** With filterMarkMask: record only skbs whose (mark & filterMarkMask) == filterMark. */
  filterMark?: number;
  /** 0 (default): no mark filter. */
  filterMarkMask?: number;
  /** Record only skbs whose device has this ifindex (0: any); pair it with filterNetns. */
  filterIfindex?: number;
  /** Keep recording an skb that matched once, filters or not, until kfree_skb/consume_skb. Default false. */
  trackSkb?: boolean;
  /** Bound of the tracked-skb map; skbs beyond it are counted (trackOverflow). Default 65536. */
  trackMax?: number;
  /** Every event carries the raw struct sk_buff (NativeBatch.skbData). Default false. */
  outputSkb?: boolean;
  /** A stack id for every event without a location, so its caller can be named. Default false. */
  outputCaller?: boolean;
  /** BTF file describing the kernel, for CO-RE relocations. Default: /sys/kernel/btf/vmlinux. */
  kernelBtf?: string;
}

/**
 * Opens the BPF object and sets its load-time configuration.
 * Throws NativeError: ENOENT (object or kernel BTF missing), EINVAL (bad option, stale object).
 */
export declare function open(objPath: string, options?: OpenOptions): Handle;

/** Before load(): whether a program is loaded at all (unselected probes: false). */
export declare function setAutoload(handle: Handle, programName: string, autoload: boolean): void;

/**
 * Before load(): splices a pcap filter, translated to eBPF (an array of struct bpf_insn
 * following the register contract in bpf/skbtrail.h), into every program's placeholder
 * for that layer, and turns filtering on: from then on an event is recorded only when
 * the filter returns nonzero. l2 runs on bytes from the mac header, l3 on bytes from the
 * network header (skbs without a mac header); a layer given no filter matches nothing.
 * Throws NativeError EINVAL (malformed instructions, already injected or loaded, stale object).
 */
export declare function injectFilter(handle: Handle, layer: 'l2' | 'l3', insns: Uint8Array): void;

export interface LoadResult {
  /** Programs not loaded because this kernel lacks their tracepoint or its shape differs. */
  unavailable: { program: string; reason: string }[];
}

/**
 * Loads every program left to autoload whose tracepoint the kernel has.
 * Throws NativeError: EPERM (privileges), VERIFIER (message quotes the verifier's last lines; log has all).
 */
export declare function load(handle: Handle): LoadResult;

/**
 * Attaches one loaded program to its tracepoint. Throws NativeError: ATTACH (the
 * kernel refused), ENOENT (tracepoint unavailable, see LoadResult), EINVAL (not loaded).
 */
export declare function attach(handle: Handle, programName: string): void;

/**
 * Before load(): the table the kernel-function programs (kprobe_multi_skb_N, kprobe_skb_N,
 * fentry_skb_N, fexit_skb_N, fentry_tc, fexit_tc) look their probe id up in, by the address of
 * the function they run in (bpf_get_func_ip): addrs[i] -> ids[i]. fexit events take the id after
 * the function's, and their return value narrowed to rets[i] bytes (negative: signed, -4 for an
 * int; 0: void). Throws NativeError EINVAL (lengths differ, after load).
 */
export declare function setFuncProbes(handle: Handle, addrs: BigUint64Array, ids: Uint16Array, rets: Int8Array): void;

/**
 * Before load(): the kernel function a fentry_skb_N/fexit_skb_N template is verified against
 * (any function with its skb at argument N). attachTracing() then copies the loaded template.
 */
export declare function setAttachTarget(handle: Handle, programName: string, func: string): void;

/**
 * One kprobe-multi link attaching a kprobe_multi_skb_N program to all of funcs at once.
 * Throws NativeError ATTACH (the kernel refuses the whole link if it refuses one function).
 */
export declare function attachKprobeMulti(handle: Handle, programName: string, funcs: string[]): void;

/** One kprobe link attaching a kprobe_skb_N program to func. Throws NativeError ATTACH. */
export declare function attachKprobe(handle: Handle, programName: string, func: string): void;

/**
 * Loads a copy of the loaded fentry/fexit template programName verified against func (defined
 * by module, or by the kernel when module is null) and attaches it. Throws NativeError ATTACH
 * (log: the verifier's when the copy was refused), ENOENT (module without BTF).
 */
export declare function attachTracing(handle: Handle, programName: string, func: string, module?: string | null): void;

/** A tc (sched_cls) BPF program in the kernel that fentry/fexit can trace (it has BTF). */
export interface TcProgram {
  id: number;
  /** the program's name (at most 15 characters) */
  name: string;
  /** its main function's name in its BTF */
  func: string;
  /** its JITed address: what bpf_get_func_ip() reports in a trampoline on it (for setFuncProbes) */
  addr: bigint;
}

/** The tc BPF programs loaded now that have BTF (pwru's --filter-trace-tc targets). */
export declare function tcPrograms(): TcProgram[];

/** Before load(): like setAttachTarget, for fentry_tc/fexit_tc and a tc program (by id). */
export declare function setAttachTargetProg(handle: Handle, programName: string, progId: number): void;

/** Like attachTracing, for a tc program (by id): a copy of fentry_tc/fexit_tc on its main function. */
export declare function attachTracingToProg(handle: Handle, programName: string, progId: number): void;

/** Columnar events of one delivery; n = length, every array has n entries but headerOffsets (n + 1). */
export interface NativeBatch {
  length: number;
  ts: BigUint64Array;
  skb: BigUint64Array;
  location: BigUint64Array;
  /** fexit events: the function's return value; else 0 */
  retval: BigInt64Array;
  pid: Uint32Array;
  netns: Uint32Array;
  ifindex: Uint32Array;
  mark: Uint32Array;
  len: Uint32Array;
  mtu: Uint32Array;
  reason: Uint32Array;
  stack_id: Int32Array;
  probe: Uint16Array;
  protocol: Uint16Array;
  cpu: Uint16Array;
  net_off: Uint16Array;
  trans_off: Uint16Array;
  has_mac: Uint8Array;
  pkt_type: Uint8Array;
  /** Index into the comm dictionary of this handle's stream. */
  comm: Int32Array;
  /** Comm names first seen in this batch, in index order: append them to the dictionary. */
  newComms: string[];
  /** Captured header bytes of all events, concatenated. */
  headers: Uint8Array;
  /** Offsets into headers: event i's bytes are headers[headerOffsets[i] .. headerOffsets[i+1]). */
  headerOffsets: Int32Array;
  /** outputSkb: the raw struct sk_buff of every event, concatenated; absent when no event of the batch has one. */
  skbData?: Uint8Array;
  /** n + 1 offsets into skbData, like headerOffsets; present with skbData. */
  skbDataOffsets?: Int32Array;
}

export interface StartOptions {
  /** Deliver a batch once it holds this many events. Default 8192. */
  maxBatchEvents?: number;
  /** Deliver a batch once its first event is this old. Default 100. */
  maxBatchMs?: number;
}

/**
 * Starts draining the ring buffer on a worker thread (once per handle; EBUSY after).
 * onBatch runs on the JS thread, once per batch, in order; an exception it throws is
 * an uncaught exception. While four batches wait for the JS thread, reading pauses and
 * the kernel counts what the full ring buffer drops (see lost()). Events reach JS
 * within about 50 ms plus maxBatchMs.
 */
export declare function start(handle: Handle, onBatch: (batch: NativeBatch) => void, options?: StartOptions): void;

/**
 * Detaches every probe, drains the ring buffer and delivers the last batch. Resolves
 * after that delivery, when onBatch is released. Safe from a SIGINT handler.
 */
export declare function stop(handle: Handle): Promise<void>;

/** Events dropped in the kernel (ring buffer full, or nested deeper than 4 levels), per possible CPU. Readable until close(). */
export declare function lost(handle: Handle): number[];

/** Matching events whose skb trackSkb could not track because its map was full, per possible CPU. Readable until close(). */
export declare function trackOverflow(handle: Handle): number[];

/**
 * struct sk_buff and the types it embeds, cut out of a BTF file (null: the running kernel's),
 * as a standalone raw BTF blob; structs seen only behind pointers are forward declarations.
 * typeId is struct sk_buff's id in the blob, size its sizeof. Throws NativeError ENOENT.
 */
export declare function skbBtf(btfPath: string | null): { btf: Uint8Array; typeId: number; size: number };

/** Kernel stack frames (addresses, innermost first) per stack id; empty when unknown. */
export declare function stacks(handle: Handle, ids: Int32Array): BigUint64Array[];

/** Detaches and frees everything without delivering pending events. Idempotent. */
export declare function close(handle: Handle): void;

/**
 * Values of an enum (or enum64) in a BTF file; null reads the running kernel's
 * (/sys/kernel/btf/vmlinux). Empty when the enum does not exist.
 */
export declare function btfEnum(btfPath: string | null, enumName: string): { name: string; value: number }[];

/** A kernel function that takes a struct sk_buff *. */
export interface BtfSkbFunc {
  name: string;
  /** 1-based position of its first struct sk_buff * argument, 1..5 */
  skbArg: number;
  /** its return type's size in bytes, negative when signed (-4: int, 8: a pointer); 0: void */
  ret: number;
}

/**
 * The functions in kernel BTF taking a struct sk_buff * in one of their first five arguments,
 * in BTF order. btf: the kernel's BTF file (default /sys/kernel/btf/vmlinux); moduleBtf: a
 * module's BTF (/sys/kernel/btf/<module>), read on top of the kernel's: then only the module's
 * own functions. Functions whose skb argument comes after one wider than 8 bytes are left out.
 * Throws NativeError (ENOENT and others) when a file can't be read as BTF.
 */
export declare function btfSkbFuncs(source: { btf?: string; moduleBtf?: string }): BtfSkbFunc[];

/**
 * Whether this kernel attaches a probe of this kind: loads a program that only returns 0,
 * attaches it to func (a kernel function that can be probed) and closes both. error names
 * the step that failed and why ("creating a kprobe-multi link: Operation not supported").
 */
export declare function probeBackend(kind: 'kprobe' | 'kprobe-multi' | 'fentry', func: string): { ok: boolean; errno: number; error: string };

/**
 * pcap_compile() on a dead handle (optimized, netmask unknown): the classic BPF program as
 * an array of struct sock_filter. ether = DLT_EN10MB, raw = DLT_RAW (IPv4/IPv6 from byte 0).
 * Throws NativeError code PCAP with libpcap's message when libpcap refuses the expression.
 */
export declare function pcapCompile(expr: string, linktype: 'ether' | 'raw', snaplen?: number): Uint8Array;

/**
 * libpcap's own verdicts: compiles expr once, then pcap_offline_filter() on each packet
 * (packet i is packets[offsets[i] .. offsets[i+1]), its wire length wirelens[i]).
 * Returns the filter's return values (0: no match). Throws like pcapCompile.
 */
export declare function pcapOfflineMatch(
  expr: string, linktype: 'ether' | 'raw', packets: Uint8Array, offsets: Uint32Array, wirelens: Uint32Array,
): Uint32Array;

/**
 * Runs an injected filter in the kernel: loads filterTestObjectPath's raw_tp program for
 * the layer with insns spliced in (the same placeholder and buffer the recorder uses),
 * then one BPF_PROG_TEST_RUN per packet (at most 256 bytes each). Returns the filter's
 * return values. Throws NativeError: VERIFIER (with the verifier's log), EPERM, EINVAL.
 */
export declare function filterTestRun(
  objPath: string, layer: 'l2' | 'l3', insns: Uint8Array, packets: Uint8Array, offsets: Uint32Array, wirelens: Uint32Array,
): Uint32Array;

/**
 * data compressed as one LZ4 frame (system liblz4, LZ4F_compressFrame at the fast level, the
 * content size in the frame header): the encoder for Arrow IPC LZ4_FRAME body compression.
 * Needs no privileges.
 */
export declare function lz4Frame(data: Uint8Array): Buffer;

/** What every function above throws (besides TypeError for wrong arguments). */
export interface NativeError extends Error {
  code: 'EPERM' | 'ENOENT' | 'VERIFIER' | 'ATTACH' | 'EINVAL' | 'EBADF' | 'EBUSY' | 'PCAP' | string;
  errno: number;
  /** libbpf's output for the failed operation (warnings, verifier log). */
  log: string;
}
