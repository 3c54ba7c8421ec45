// skbtrail info|drops|show|paths|diff|latency|query|shell: commander subcommands over the
// session library. One catch at the top turns every failure into one line on stderr and an
// exit code (2 usage, 1 failure).
import type { Command as CommandType } from 'commander';
import { commander } from './cjs.js';

const { Command, CommanderError, InvalidArgumentError, Option } = commander;
type Command = CommandType;
type Option = InstanceType<typeof Option>;
type CommanderError = InstanceType<typeof CommanderError>;
import { info } from './commands/info.js';
import { drops, parseWidth } from './commands/drops.js';
import { TIMESTAMPS, show } from './commands/show.js';
import { PATH_SORTS, paths } from './commands/paths.js';
import { diff } from './commands/diff.js';
import { latency } from './commands/latency.js';
import { query } from './commands/query.js';
import { shell } from './commands/shell.js';
import type { CommandIo } from './commands/common.js';
import { AnalyzerError, errorLine, toAnalyzerError, usageError } from './errors.js';
import { Output, OutputClosed } from './output.js';
import { FORMATS } from './render.js';

const COMMANDS = ['info', 'drops', 'show', 'paths', 'diff', 'latency', 'query', 'shell'];
const FILE = 'recording (.skbtrail)';

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function packetId(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), count(value)];
}

function width(value: string): string {
  if (parseWidth(value) === null) throw new InvalidArgumentError('expected a bucket width like 100ms, 1s or 5m');
  return value;
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(FORMATS).default('table');
}

/** pwru spells boolean flags --output-meta=false; commander wants --no-output-meta. */
function pwruFlags(argv: string[]): string[] {
  return argv.map((a) => {
    const m = /^--(output-[a-z-]+)=(true|false)$/.exec(a);
    return m ? (m[2] === 'true' ? `--${m[1]}` : `--no-${m[1]}`) : a;
  });
}

function buildProgram(io: CommandIo, exit: { code: number }): Command {
  const program = new Command('skbtrail')
    .description('Analyze skbtrail recordings: where packets went inside the kernel, and where they died.')
    // bin/skbtrail.js hands `record` to the recorder before this program sees it.
    .addHelpText('after', '\nTo make a recording (root): skbtrail record [options] [pcap-filter...] (see skbtrail record --help)')
    .option('--debug', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);

  program
    .command('info')
    .description('describe a recording: host, kernel, backend, probes, time span, events, losses')
    .argument('<file>', FILE)
    .addOption(formatOption())
    .action((file: string, opts) => info(file, opts, io));

  program
    .command('drops')
    .description('dropped packets by reason, location, netns and interface, most frequent first; --timeline: when')
    .argument('<file>', FILE)
    .option('--by <fields>', 'group by these, comma-separated: reason, location, probe, netns, ifname, saddr, daddr, sport, dport, proto, tuple, comm, cpu, mark')
    .option('--timeline [width]', 'count drops per time bucket (width like 100ms, 1s; default: at most 40 buckets)', width)
    .option('--where <condition>', 'only drops matching this SQL condition on the events view')
    .addOption(formatOption())
    .action((file: string, opts) => drops(file, opts, io));

  program
    .command('show')
    .description('replay the events in time order, pwru style')
    .argument('<file>', FILE)
    .argument('[pcap-filter...]', 'only events whose recorded headers match this pcap-filter expression (needs libpcap)')
    .option('--limit <n>', 'print at most n events', count)
    .option('--where <condition>', "only events matching this SQL condition on the events view, e.g. \"daddr = '10.0.0.1'\"")
    .option('--packet <id>', 'only this packet (repeat for more)', packetId)
    .option('--netns <name|inode>', 'only events in this network namespace')
    .option('--output-meta', 'print skb metadata: netns, mark, interface, protocol, MTU, length (default)')
    .option('--no-output-meta', 'leave the skb metadata out')
    .option('--output-tuple', 'print the L4 tuple (default)')
    .option('--no-output-tuple', 'leave the tuple out')
    .option('--output-tcp-flags', 'print TCP flags in the tuple')
    .option('--output-stack', 'print the kernel stack of each event (recorded with --output-stack)')
    .option('--output-caller', "print the probed function's caller")
    .option('--output-skb', 'print the sk_buff (recorded with --output-skb)')
    .addOption(new Option('--timestamp <mode>', 'print a timestamp per event').choices(TIMESTAMPS).default('none'))
    .addOption(formatOption())
    .action((file: string, filter: string[], opts) => show(file, { ...opts, filter }, io));

  program
    .command('paths')
    .description('the distinct trajectories packets took, and how many took each; --packet: one packet hop by hop')
    .argument('<file>', FILE)
    .addOption(new Option('--sort <order>', 'most common first, or longest first').choices(PATH_SORTS).default('count'))
    .option('--limit <n>', 'print at most n paths', count)
    .option('--where <condition>', 'only packets with an event matching this SQL condition')
    .option('--packet <id>', "print this packet's path with the time between hops", count)
    .option('--stack', 'with --packet: the kernel stack under each hop (recorded with --output-stack)')
    .addOption(formatOption())
    .action((file: string, opts) => paths(file, opts, io));

  program
    .command('diff')
    .description('where two trajectories part ways: two recordings (their most common paths) or two packets')
    .argument('<a>', FILE)
    .argument('[b]', 'a second recording')
    .option('--packet <id>', 'compare this packet (give it twice: the first from A, the second from B, or both from A)', packetId)
    .option('--match <condition>', 'choose among the packets with an event matching this SQL condition (a tuple, say)')
    .addOption(formatOption())
    .action((a: string, b: string | undefined, opts) => diff(b === undefined ? [a] : [a, b], opts, io));

  program
    .command('latency')
    .description('per-packet time between two probes (--from, --to), or between every consecutive pair of probes')
    .argument('<file>', FILE)
    .option('--from <probe>', 'where the time starts (a probe name, like net_dev_queue)')
    .option('--to <probe>', 'where it stops (the first such event after --from)')
    .option('--by <fields>', 'group by these, comma-separated: netns, ifname, saddr, daddr, sport, dport, proto, tuple, comm, cpu, mark, probe')
    .option('--where <condition>', 'only packets whose starting event matches this SQL condition')
    .addOption(formatOption())
    .action((file: string, opts) => {
      if ((opts.from === undefined) !== (opts.to === undefined)) throw usageError('give both --from and --to, or neither (per-hop table)', 'latency');
      return latency(file, opts, io);
    });

  program
    .command('query')
    .description('run SQL against the views (events, packets, paths, path_hops, funcs, reasons, netns, ifaces, kallsyms, stacks, meta)')
    .argument('<file...>', 'recordings (.skbtrail), then the SQL')
    .addOption(formatOption())
    .action((args: string[], opts) => {
      if (args.length < 2) throw usageError("missing required argument 'sql'", 'query');
      return query(args.slice(0, -1), args[args.length - 1], opts, io);
    });

  program
    .command('shell')
    .description('an interactive SQL prompt over the views, with history, .tables, .schema and .mode')
    .argument('<file...>', 'recordings (.skbtrail)')
    .addOption(formatOption())
    .action(async (files: string[], opts) => {
      exit.code = await shell(files, opts, io);
    });

  return program;
}

/** Commander's own message, as one sentence of ours. */
function fromCommanderError(err: CommanderError, argv: string[]): AnalyzerError {
  const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const command = argv.find((a) => COMMANDS.includes(a));
  return usageError(message, command);
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const out = new Output(process.stdout);
  const io: CommandIo = { out, warn: (line) => process.stderr.write(`${line}\n`) };
  const exit = { code: 0 };
  try {
    await buildProgram(io, exit).parseAsync(pwruFlags(argv), { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (err.code === 'commander.help') return 2; // no command: commander printed the help on stderr
    }
    const failure = err instanceof CommanderError ? fromCommanderError(err, argv) : toAnalyzerError(err);
    process.stderr.write(`${errorLine(failure)}\n`);
    if (debug) process.stderr.write(`${(failure.cause as Error | undefined)?.stack ?? failure.stack}\n`);
    return failure.exitCode;
  } finally {
    out.release();
  }
}
