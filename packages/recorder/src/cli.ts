import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, type BackendName } from './backend.js';
import { RecorderError } from './errors.js';
import { listFuncs } from './list-funcs.js';
import { addPwruOptions, pwruRecordOptions } from './pwru-compat.js';
import { COMPRESSIONS, type Compression, record } from './recorder.js';
import { VERSION } from './version.js';

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
    return n;
  };
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function regex(v: string): RegExp {
  try {
    return new RegExp(`^(?:${v})$`);
  } catch (err) {
    throw new InvalidArgumentError(`not a valid regular expression: ${(err as Error).message}`);
  }
}

function list(v: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list of module names');
  return items;
}

function defaultOutput(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `skbtrail-${t}.skbtrail`;
}

/** `skbtrail record`: a thin shell over record(); returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const log = (line: string) => process.stderr.write(`skbtrail: ${line}\n`);
  let debug = argv.includes('--debug');
  const program = new Command('skbtrail')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .version(VERSION)
    .showSuggestionAfterError(true);

  let exitCode = 0;
  program
    .command('record')
    .description('record skb events from the kernel into a recording file (needs root)')
    .argument('[pcap-filter...]', 'pcap-filter expression (see man 7 pcap-filter)')
    .option('-w, --write <file>', 'recording file to write (default skbtrail-<time>.skbtrail)')
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber)
    .option('--max-events <n>', 'stop after this many events', positiveInt('--max-events'))
    .option('--snaplen <bytes>', 'packet header bytes captured per event', positiveInt('--snaplen', 256), 128)
    .option('--output-stack', 'record the kernel stack of every event', false)
    .option('--ready-file <path>', 'write this file once every probe is attached')
    .addOption(new Option('--backend <name>', 'tracing backend').choices(BACKENDS).default('auto'))
    .addOption(
      new Option('--compress <codec>', 'compress the recorded events (Arrow IPC LZ4_FRAME; about a tenth of the size) or not')
        .choices(COMPRESSIONS)
        .default('lz4'),
    )
    .option('--filter-func <regex>', 'trace only the kernel functions (with --backend tracepoint: the tracepoints) whose name matches', regex)
    .option('--kmods <modules>', 'trace the skb functions of these loaded modules too (comma-separated)', list)
    .option('--all-kmods', 'trace the skb functions of every loaded module with BTF', false)
    .option('--kernel-btf <file>', 'BTF file describing the kernel, instead of /sys/kernel/btf/vmlinux')
    .option('--list-funcs', 'print the kernel functions that would be traced, and exit', false)
    .option('--debug', 'print stacks and the libbpf/verifier log on errors', false)
    .action(async (filter: string[], o) => {
      debug = o.debug;
      const discovery = { filterFunc: o.filterFunc, kernelBtf: o.kernelBtf, kmods: o.kmods, allKmods: o.allKmods };
      if (o.listFuncs) {
        listFuncs(discovery, log);
        return;
      }
      // Like tcpdump: the words of the expression, joined by spaces.
      const pcapFilter = filter.join(' ').trim() !== '' ? filter.join(' ') : undefined;
      const output: string = o.write ?? defaultOutput();
      const pwru = pwruRecordOptions(o, log);
      const result = await record({
        ...pwru,
        output,
        snaplen: o.snaplen,
        outputStack: o.outputStack,
        compress: o.compress as Compression,
        backend: o.backend as BackendName,
        durationSec: o.duration,
        maxEvents: pwru.maxEvents,
        readyFile: o.readyFile,
        ...discovery,
        pcapFilter,
        argv: ['skbtrail', ...argv],
        log,
      });
      log(`wrote ${result.events} events to ${output} (${result.lost} lost)`);
      // Shells report a signal stop as 128 + signal number (Ctrl-C: 130, SIGTERM: 143).
      if (result.signal) exitCode = 128 + (os.constants.signals[result.signal] ?? 0);
    });

  // pwru's options, and this recorder's filters and outputs (pwru-compat.ts).
  addPwruOptions(program.commands.find((c) => c.name() === 'record') as Command);

  try {
    await program.parseAsync(['node', 'skbtrail', ...argv]);
    return exitCode;
  } catch (err) {
    return report(err, debug);
  }
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
    process.stderr.write(`skbtrail: ${err.message.replace(/^error: /, '')} — see skbtrail record --help\n`);
    return 2;
  }
  if (err instanceof RecorderError) {
    process.stderr.write(`skbtrail: ${err.message}\n`);
    if (debug) {
      if (err.detail) process.stderr.write(`${err.detail}\n`);
      process.stderr.write(`${err.stack}\n`);
    }
    return err.exitCode;
  }
  process.stderr.write(`skbtrail: unexpected error: ${(err as Error)?.message ?? String(err)} — rerun with --debug and report it\n`);
  if (debug) process.stderr.write(`${(err as Error)?.stack}\n`);
  return 1;
}
