// Runs a command as root inside a qemu (TCG) VM booted on one of Debian's kernels, for the
// backends this host's kernel refuses (kprobe, kprobe-multi, fentry). The guest sees the host's
// whole filesystem (read-only 9p + a tmpfs overlay), so host binaries and the repo run as they are.
// Prepare the kernels first: node test/vm/setup.mjs. See test/vm/README.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_ROOT } from './setup.mjs';

const STAGE2_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'guest', 'stage2.sh');
const COMMAND_STARTED_MARKER = 'skbtrail-vm: running command';
// The guest's own clock (for its power-off watchdog) may run slower than ours under TCG.
const GUEST_DEADLINE_SLACK_S = 5;

// qemu processes still running and temp dirs still in use: killed and removed if this process
// exits first (process.exit, or a CLI's signal handler that calls it).
const runningVms = new Set();
const tempDirsInUse = new Set();
process.on('exit', () => {
  for (const child of runningVms) child.kill('SIGKILL');
  for (const dir of tempDirsInUse) fs.rmSync(dir, { recursive: true, force: true });
});

const shellQuote = (value) => `'${String(value).replaceAll("'", `'\\''`)}'`;
// qemu's option parser takes a doubled comma as a literal one.
const qemuOptionValue = (value) => value.replaceAll(',', ',,');

export class VmError extends Error {
  constructor(message, details) {
    super(message);
    this.name = 'VmError';
    Object.assign(this, details);
  }
}

export function kernelManifest(kernel) {
  const manifestPath = path.join(CACHE_ROOT, kernel, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new VmError(`kernel ${kernel} is not prepared (no ${manifestPath}): run node test/vm/setup.mjs`);
  }
  return { ...JSON.parse(fs.readFileSync(manifestPath, 'utf8')), dir: fs.realpathSync(path.join(CACHE_ROOT, kernel)) };
}

// cmd.sh: what stage2.sh runs with an empty environment.
function commandScript({ command, cwd, env }) {
  const exports = Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  const exec = Array.isArray(command)
    ? `exec ${command.map(shellQuote).join(' ')}`
    : `exec /bin/sh -c ${shellQuote(command)}`;
  return [...exports, `cd ${shellQuote(cwd)} || exit 127`, exec, ''].join('\n');
}

/**
 * Boots the kernel, runs `command` as root in `cwd`, powers off.
 * @param {object} options
 * @param {'6.1'|'6.12'} options.kernel
 * @param {string[]|string} options.command  an argv, or a string for /bin/sh -c
 * @param {string} [options.cwd]  default: this process's cwd
 * @param {Record<string,string>} [options.env]  added to PATH (with node's dir), HOME, LANG, SKBTRAIL_VM_OUT
 * @param {number} [options.timeoutMs]  default 120000; qemu is killed then
 * @param {string} [options.outDir]  a host dir of yours to share writable (kept); default: a fresh temp dir
 * @param {boolean} [options.keep]  keep the temp dirs (control files, the default outDir)
 * @param {number} [options.memoryMiB]  default 2048
 * @param {number} [options.cpus]  default 2
 * @param {number} [options.bootRetries]  boots again when the guest dies before the command starts; default 1
 * @param {'pvh'|'bzimage'} [options.boot]  default 'pvh' (the extracted vmlinux); 'bzimage' boots the .deb's vmlinuz
 * @returns {Promise<{code:number, stdout:string, stderr:string, outDir:string, bootMs:number, totalMs:number, console:string, release:string}>}
 */
export async function runInVm({
  kernel,
  command,
  cwd = process.cwd(),
  env = {},
  timeoutMs = 120_000,
  outDir,
  keep = false,
  memoryMiB = 2048,
  cpus = 2,
  boot = 'pvh',
  bootRetries = 1,
}) {
  const manifest = kernelManifest(kernel);
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-vm-'));
  if (!keep) tempDirsInUse.add(tempDir);
  const controlDir = path.join(tempDir, 'ctl');
  const sharedOutDir = path.resolve(outDir ?? path.join(tempDir, 'out'));
  fs.mkdirSync(controlDir);
  fs.mkdirSync(sharedOutDir, { recursive: true });

  const guestEnv = {
    PATH: [path.dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'),
    HOME: '/root',
    LANG: 'C.UTF-8',
    SKBTRAIL_VM_OUT: sharedOutDir,
    ...env,
  };
  const envScript = {
    KERNEL_RELEASE: manifest.release,
    PACKAGE_ROOT: path.join(manifest.dir, 'root'),
    OUT_DIR: sharedOutDir,
    DEADLINE_S: Math.ceil(timeoutMs / 1000) + GUEST_DEADLINE_SLACK_S,
  };
  fs.writeFileSync(path.join(controlDir, 'env.sh'), Object.entries(envScript).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join(''));
  fs.writeFileSync(path.join(controlDir, 'cmd.sh'), commandScript({ command, cwd: path.resolve(cwd), env: guestEnv }));
  fs.copyFileSync(STAGE2_SCRIPT, path.join(controlDir, 'stage2.sh'));

  const share = (hostPath, tag, extra = '') =>
    ['-virtfs', `local,path=${qemuOptionValue(hostPath)},mount_tag=${tag},security_model=none${extra}`];
  const qemuArgs = [
    '-accel', 'tcg', // KVM guests hang on this host
    '-cpu', 'max,la57=off',
    '-smp', String(cpus),
    '-m', `${memoryMiB}M`,
    '-nographic', '-nodefaults', '-no-user-config', '-serial', 'stdio', '-no-reboot',
    // The uncompressed ELF vmlinux boots via PVH: no decompression under TCG (~3 s for 6.1's xz).
    '-kernel', boot === 'bzimage' ? path.join(manifest.dir, 'root/boot', `vmlinuz-${manifest.release}`) : path.join(manifest.dir, 'vmlinux'),
    '-initrd', path.join(manifest.dir, 'initramfs.cpio'),
    // tsc=reliable: otherwise the kernel falls back to the (slow under TCG) HPET clocksource.
    '-append', 'console=ttyS0 quiet loglevel=4 tsc=reliable mitigations=off panic=-1',
    ...share('/', 'host', ',readonly=on,multidevs=remap'),
    ...share(controlDir, 'ctl'),
    ...share(sharedOutDir, 'out'),
  ];

  const started = Date.now();
  try {
    for (let attempt = 0; ; attempt++) {
      const vm = await bootOnce(qemuArgs, timeoutMs);
      const details = { ...readResults(controlDir), console: vm.consoleText, outDir: sharedOutDir, release: manifest.release };
      if (vm.timedOut) {
        throw new VmError(`VM (${manifest.release}) timed out after ${timeoutMs} ms\n${tail(vm.consoleText)}`, details);
      }
      if (details.status !== undefined) {
        const { status, ...output } = details;
        return { code: Number(status.trim()), ...output, bootMs: vm.bootMs, totalMs: Date.now() - started };
      }
      // A guest that died before starting the command (a rare kernel crash under TCG) is booted
      // once more: the command has not run, so running it now is not running it twice.
      if (vm.bootMs === undefined && attempt < bootRetries) continue;
      throw new VmError(`VM (${manifest.release}) stopped (qemu ${vm.exit}) before the command finished\n${tail(vm.consoleText)}`, details);
    }
  } finally {
    // tempDir holds the control files and the default outDir; a caller's outDir lives elsewhere.
    if (!keep) fs.rmSync(tempDir, { recursive: true, force: true });
    tempDirsInUse.delete(tempDir);
  }
}

// Runs qemu to its end, or kills it (by its pid) at the timeout. bootMs: when the guest said
// it starts the command, undefined if it never did.
async function bootOnce(qemuArgs, timeoutMs) {
  const started = Date.now();
  const vm = { consoleText: '', bootMs: undefined, timedOut: false, exit: undefined };
  const child = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  runningVms.add(child);
  const onOutput = (chunk) => {
    vm.consoleText += chunk;
    if (vm.bootMs === undefined && vm.consoleText.includes(COMMAND_STARTED_MARKER)) vm.bootMs = Date.now() - started;
  };
  child.stdout.setEncoding('utf8').on('data', onOutput);
  child.stderr.setEncoding('utf8').on('data', onOutput);
  const timer = setTimeout(() => {
    vm.timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    vm.exit = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    });
    return vm;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    runningVms.delete(child);
  }
}

function readResults(controlDir) {
  const read = (name) => {
    const file = path.join(controlDir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  };
  return { status: read('status'), stdout: read('stdout') ?? '', stderr: read('stderr') ?? '' };
}

// The console's last lines, without SeaBIOS's terminal escapes.
const tail = (text, lines = 30) =>
  text.replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, '').trimEnd().split('\n').slice(-lines).join('\n');
