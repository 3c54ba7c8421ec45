/**
 * Test bench for live kernel tests: namespaces joined by veth pairs, a recorder started as a
 * real `skbtrail record` process, and the analyzer CLI. Everything created is removed in destroy().
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(ROOT, 'bin/skbtrail.js');

/** Why live tests can't run here, or null. On CI a reason is a failure, not a skip. */
export function liveSkipReason(): string | null {
  let reason: string | null = null;
  if (process.getuid?.() !== 0) reason = 'live kernel tests need root';
  else if (!fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node'))) reason = 'native recorder not built (scripts/install-system-deps, npm run build)';
  else if (!fs.existsSync('/sys/kernel/btf/vmlinux')) reason = 'kernel has no BTF';
  if (reason && process.env.CI === 'true') throw new Error(`live test cannot run on CI: ${reason}`);
  return reason;
}

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export class Netlab {
  readonly prefix = `skbt${process.pid % 100000}`;
  private readonly namespaces: string[] = [];
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-test-'));

  ns(name: string): string {
    const full = `${this.prefix}-${name}`;
    sh('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    sh('ip', ['-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** veth pair between two namespaces with /24 addresses; returns the interface names. */
  veth(nsA: string, addrA: string, nsB: string, addrB: string, names = ['veth0', 'veth1']): [string, string] {
    const [ifA, ifB] = names;
    sh('ip', ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    sh('ip', ['-n', nsA, 'addr', 'add', `${addrA}/24`, 'dev', ifA]);
    sh('ip', ['-n', nsB, 'addr', 'add', `${addrB}/24`, 'dev', ifB]);
    sh('ip', ['-n', nsA, 'link', 'set', ifA, 'up']);
    sh('ip', ['-n', nsB, 'link', 'set', ifB, 'up']);
    return [ifA, ifB];
  }

  exec(ns: string, cmd: string, args: string[], input?: string): string {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** Like exec, but a non-zero exit (100% ping loss) is an expected outcome, not an error. */
  run(ns: string, cmd: string, args: string[]): { status: number | null; stdout: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 30000 });
    return { status: r.status, stdout: r.stdout };
  }

  nft(ns: string, ruleset: string): void {
    this.exec(ns, 'nft', ['-f', '-'], ruleset);
  }

  destroy(): void {
    for (const ns of this.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RecorderProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `skbtrail record` and resolves once its --ready-file exists (all probes attached). */
export async function startRecorder(file: string, args: string[] = [], readyTimeoutMs = 30000): Promise<RecorderProcess> {
  const ready = `${file}.ready`;
  fs.rmSync(ready, { force: true });
  const child = spawn(process.execPath, [CLI, 'record', '-w', file, '--ready-file', ready, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const deadline = Date.now() + readyTimeoutMs;
  while (!fs.existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`recorder exited early (${child.exitCode}): ${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`recorder not ready after ${readyTimeoutMs} ms: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stderr: () => err, exited };
}

export function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120000, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Names of loaded BPF programs of ours (tp_*), via bpftool. */
export function ourPrograms(): string[] {
  const progs = JSON.parse(sh('bpftool', ['-j', 'prog', 'list'])) as { name?: string; type: string }[];
  return progs.filter((p) => p.type === 'tracing' && p.name?.startsWith('tp_')).map((p) => p.name!);
}
