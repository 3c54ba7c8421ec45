// skbtrail info|drops|show|query: commander subcommands over the session library. One catch at
// the top turns every failure into one line on stderr and an exit code (2 usage, 1 failure).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { info } from './commands/info.js';
import { drops } from './commands/drops.js';
import { show } from './commands/show.js';
import { query } from './commands/query.js';
import type { CommandIo } from './commands/common.js';
import { AnalyzerError, errorLine, toAnalyzerError, usageError } from './errors.js';
import { Output, OutputClosed } from './output.js';
import { FORMATS } from './render.js';

const COMMANDS = ['info', 'drops', 'show', 'query'];

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(FORMATS).default('table');
}

function buildProgram(io: CommandIo): Command {
  const program = new Command('skbtrail')
    .description('Analyze skbtrail recordings: where packets went inside the kernel, and where they died.')
    .option('--debug', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true);

  program
    .command('info')
    .description('describe a recording: host, kernel, backend, probes, time span, events, losses')
    .argument('<file>', 'recording (.skbtrail)')
    .addOption(formatOption())
    .action((file: string, opts) => info(file, opts, io));

  program
    .command('drops')
    .description('dropped packets by reason, location, netns and interface, most frequent first')
    .argument('<file>', 'recording (.skbtrail)')
    .addOption(formatOption())
    .action((file: string, opts) => drops(file, opts, io));

  program
    .command('show')
    .description('replay the events in time order, pwru style')
    .argument('<file>', 'recording (.skbtrail)')
    .addOption(formatOption())
    .option('--limit <n>', 'print at most n events', count)
    .option('--where <condition>', "only events matching this SQL condition on the events view, e.g. \"daddr = '10.0.0.1'\"")
    .action((file: string, opts) => show(file, opts, io));

  program
    .command('query')
    .description('run SQL against the views (events, funcs, reasons, netns, ifaces, kallsyms, stacks, meta)')
    .argument('<file>', 'recording (.skbtrail)')
    .argument('<sql>', 'SQL statement(s); the last one is printed')
    .addOption(formatOption())
    .action((file: string, sql: string, opts) => query(file, sql, opts, io));

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
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
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
