#!/usr/bin/env node
// Runs one command in a VM and relays its stdout, stderr and exit code.
// Usage: node test/vm/run.mjs --kernel 6.12 [--timeout 120] [--keep] [--out DIR] -- <cmd...>
// A single argument after -- runs through /bin/sh -c (so 'a && b | c' works); several form an argv.
import { runInVm } from './vm.mjs';

const usage = 'usage: node test/vm/run.mjs --kernel 6.1|6.12 [--timeout SECONDS] [--keep] [--out DIR] -- <cmd...>';
const args = process.argv.slice(2);
const separator = args.indexOf('--');
const options = separator === -1 ? args : args.slice(0, separator);
const command = separator === -1 ? [] : args.slice(separator + 1);
const optionValue = (name) => {
  const index = options.indexOf(name);
  return index === -1 ? undefined : options[index + 1];
};
const kernel = optionValue('--kernel');
if (!kernel || command.length === 0) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}

// Exiting runs vm.mjs's exit hook, which kills qemu and removes the temp dirs.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

try {
  const timeoutSeconds = Number(optionValue('--timeout') ?? 120);
  const result = await runInVm({
    kernel,
    command: command.length === 1 ? command[0] : command,
    timeoutMs: timeoutSeconds * 1000,
    outDir: optionValue('--out'),
    keep: options.includes('--keep'),
  });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.stderr.write(
    `run.mjs: ${result.release}: exit ${result.code}, boot ${(result.bootMs / 1000).toFixed(1)} s, total ${(result.totalMs / 1000).toFixed(1)} s` +
      (options.includes('--keep') ? `, out dir ${result.outDir}` : '') + '\n',
  );
  process.exitCode = result.code;
} catch (error) {
  process.stdout.write(error.stdout ?? '');
  process.stderr.write(error.stderr ?? '');
  process.stderr.write(`run.mjs: ${error.message}\n`);
  process.exitCode = 1;
}
