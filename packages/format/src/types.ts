import type { RecordBatch, Schema } from 'apache-arrow';

export interface ProbeInfo {
  id: number;
  name: string;
  kind: 'tracepoint' | 'kprobe' | 'kretprobe' | 'fentry' | 'fexit';
  target: string;
}

/** source: 'ip netns' | 'pid 123' | 'self' */
export interface NetnsInfo {
  inode: number;
  name: string | null;
  source: string;
}

export interface IfaceInfo {
  netns: number;
  ifindex: number;
  name: string;
  mtu?: number;
}

/** Everything known when recording starts; stored in the events stream's schema metadata. */
export interface StartMeta {
  recorder: {
    version: string;
    argv: string[];
    backend: string;
    backendReason: string;
    options: Record<string, unknown>;
    filters: Record<string, unknown>;
  };
  host: { hostname: string; kernel: string; machine: string };
  /** bootToRealtimeNs: add to ts (CLOCK_MONOTONIC ns) to get wall-clock ns since the epoch; a decimal string. */
  clock: { bootToRealtimeNs: string };
  /** ISO-8601 wall clock */
  startedAt: string;
  snaplen: number;
  /** ids dense from 0: the id is the func dictionary index */
  probes: ProbeInfo[];
  /** names without the SKB_DROP_REASON_ prefix, from the kernel's BTF */
  dropReasons: { value: number; name: string }[];
  netns: NetnsInfo[];
  ifaces: IfaceInfo[];
  /**
   * Present when the recorder ran with --output-skb: every event's raw struct sk_buff is in the
   * events column skb_data, and this is what prints it offline. btf: base64 of a standalone raw
   * BTF blob holding struct sk_buff and the types it embeds (pointed-to structs as forward
   * declarations); typeId: struct sk_buff's id in it; size: its sizeof on the recording kernel.
   */
  skb?: { btf: string; typeId: number; size: number };
}

/** Everything known when recording stops; its presence means the recording is complete. */
export interface EndMeta {
  stoppedAt: string;
  stopReason: 'signal' | 'duration' | 'max-events' | 'error';
  events: number;
  lost: { total: number; perCpu: number[] };
  /** rescanned at stop; supersede StartMeta's */
  netns: NetnsInfo[];
  ifaces: IfaceInfo[];
  /** --filter-track-skb: matching events whose skb could not be tracked because the tracked-skb map was full (each such event counts) */
  trackOverflow?: { total: number; perCpu: number[] };
}

/** One native batch (the addon's ring-buffer drain) of n = length events, column by column. */
export interface EventColumns {
  length: number;
  ts: BigUint64Array;
  skb: BigUint64Array;
  location: BigUint64Array;
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
  /** index into the comm dictionary (all comms of earlier batches, then newComms) */
  comm: Int32Array;
  /** comm strings first seen in this batch, in index order */
  newComms: string[];
  /** captured header bytes of all events, concatenated */
  headers: Uint8Array;
  /** n+1 offsets into headers */
  headerOffsets: Int32Array;
  /** fexit events: the function's return value (0 for others); written when the recording has fexit probes */
  retval?: BigInt64Array;
  /** --output-skb (StartMeta.skb): the raw struct sk_buff of every event, concatenated */
  skbData?: Uint8Array;
  /** n+1 offsets into skbData; with skbData */
  skbDataOffsets?: Int32Array;
}

/** The typed-array columns of EventColumns, the ones copied as they are. */
export type FixedColumnKey = Exclude<keyof EventColumns, 'length' | 'newComms' | 'headers' | 'headerOffsets' | 'retval' | 'skbData' | 'skbDataOffsets'>;

/** Kernel symbols that contain a recorded location or stack address. */
export interface KallsymsTable {
  addr: BigUint64Array;
  name: string[];
  module: (string | null)[];
}

export interface StacksTable {
  id: Int32Array;
  frames: BigUint64Array[];
}

export interface RecordingTables {
  kallsyms: KallsymsTable;
  stacks: StacksTable;
}

export interface Recording {
  path: string;
  /** the file's format version, e.g. '1.1' */
  version: string;
  meta: StartMeta;
  /** null when the recorder did not stop cleanly */
  end: EndMeta | null;
  complete: boolean;
  warnings: string[];
  /** the events table's schema, also when there are no batches */
  schema: Schema;
  batches: RecordBatch[];
  kallsyms: KallsymsTable | null;
  stacks: Map<number, bigint[]> | null;
}
