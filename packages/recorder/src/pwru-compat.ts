/**
 * A pwru command line works as `skbtrail record ...`: pwru's options are accepted with pwru's
 * meaning where a recording gives them one, and the options of this issue (filters, outputs,
 * --live) are added to the record command here, so cli.ts stays a thin shell.
 *
 *   pwru option              skbtrail record
 *   --filter-netns/-mark/-ifname/-track-skb, --filter-func, --output-stack, --output-skb:
 *                            the same filter / the same data, recorded
 *   --output-caller          recorded (see recorder.ts: location of frees, else a stack)
 *   --output-limit-lines N   = --max-events N (the smaller one wins when both are given)
 *   --output-file FILE       pwru writes its text lines there: so does skbtrail (the lines of
 *                            --live), and the recording still goes to -w (or its default name)
 *   --output-tuple, --output-meta, --timestamp MODE
 *                            accepted with a one-line note: how a recording is printed is
 *                            decided later, by `skbtrail show` (--output-tuple, --timestamp ...)
 *   --filter-trace-tc        the same: fentry/fexit on the tc BPF programs (probeset.ts)
 *   --kernel-btf, --kmods, --all-kmods, --backend: the backends' options (backend.ts)
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type FilterArgs, type MarkFilter, parseMark } from './filters.js';
import { VERSION } from './version.js';

export const PWRU_TIMESTAMPS = ['none', 'current', 'relative', 'absolute'] as const;

function count(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

/** Adds the filter, output and pwru options to the record command (after its own). */
export function addPwruOptions(record: Command): Command {
  return record
    .option('--filter-netns <netns>', 'record only skbs in this network namespace: /proc/PID/ns/net, inode:N, or a name from ip netns')
    .option('--filter-mark <mark[/mask]>', 'record only skbs whose mark, under the mask, is this (0x100, 0x100/0xff00)', parseMark)
    .option('--filter-ifname <name>', "record only skbs on this interface of --filter-netns (default: the recorder's netns)")
    .option('--filter-track-skb', 'once an skb matched, keep recording it until it is freed, even when the filters stop matching (NAT, encapsulation)')
    .option('--filter-track-max <n>', 'with --filter-track-skb: how many skbs are tracked at once (default 65536); more are counted, not tracked', count('--filter-track-max'))
    .option('--output-skb', 'record the raw struct sk_buff of every event, and its BTF (skbtrail show --output-skb prints it)')
    .option('--output-caller', "record what names each event's caller (the location of frees, else the kernel stack)")
    .option('--live', "while recording, also print pwru-style lines on stdout")
    .option('--output-file <file>', 'pwru: write pwru-style text lines to this file while recording (the recording goes to -w)')
    .option('--output-limit-lines <n>', 'pwru: stop after this many events (as --max-events)', count('--output-limit-lines'))
    .option('--output-tuple', 'pwru: accepted; skbtrail show prints the tuple of any recording')
    .option('--output-meta', 'pwru: accepted; skbtrail show prints the metadata of any recording')
    .addOption(new Option('--timestamp <mode>', 'pwru: accepted; skbtrail show --timestamp prints it from any recording').choices(PWRU_TIMESTAMPS))
    .option('--filter-trace-tc', 'also trace the tc BPF programs loaded now (fentry/fexit: entry, and exit with the verdict), where the kernel allows fentry')
    .version(VERSION, '--version', 'print the version and exit');
}

/** The options addPwruOptions defines, as commander parsed them. */
export interface PwruParsed {
  filterNetns?: string;
  filterMark?: MarkFilter;
  filterIfname?: string;
  filterTrackSkb?: boolean;
  filterTrackMax?: number;
  outputSkb?: boolean;
  outputCaller?: boolean;
  live?: boolean;
  outputFile?: string;
  outputLimitLines?: number;
  outputTuple?: boolean;
  outputMeta?: boolean;
  timestamp?: string;
  filterTraceTc?: boolean;
  maxEvents?: number;
}

export interface PwruRecordOptions {
  filters: FilterArgs;
  outputSkb: boolean;
  outputCaller: boolean;
  live: boolean;
  /** --output-file: where the live text lines go too */
  liveFile?: string;
  maxEvents?: number;
  /** --filter-trace-tc */
  traceTc: boolean;
}

/** record() options from the parsed command line; logs the note about print-only options. */
export function pwruRecordOptions(o: PwruParsed, log: (line: string) => void): PwruRecordOptions {
  const printOnly = [o.outputTuple && '--output-tuple', o.outputMeta && '--output-meta', o.timestamp !== undefined && `--timestamp ${o.timestamp}`].filter(Boolean);
  if (printOnly.length > 0) {
    log(`note: ${printOnly.join(', ')} only change how events are printed: skbtrail show renders that from any recording (skbtrail show --help)`);
  }
  const limits = [o.maxEvents, o.outputLimitLines].filter((n): n is number => n !== undefined);
  return {
    filters: {
      filterNetns: o.filterNetns,
      filterMark: o.filterMark,
      filterIfname: o.filterIfname,
      filterTrackSkb: o.filterTrackSkb,
      filterTrackMax: o.filterTrackMax,
    },
    outputSkb: o.outputSkb ?? false,
    outputCaller: o.outputCaller ?? false,
    live: o.live ?? false,
    liveFile: o.outputFile,
    maxEvents: limits.length > 0 ? Math.min(...limits) : undefined,
    traceTc: o.filterTraceTc ?? false,
  };
}
