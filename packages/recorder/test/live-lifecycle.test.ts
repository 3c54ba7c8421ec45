/**
 * Whatever stops the recorder — Ctrl-C, SIGTERM, --duration, --max-events, SIGKILL or a crash
 * of its JavaScript side — no BPF program stays in the kernel, and the file is still readable.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netlab, cli, liveSkipReason, ourPrograms, startRecorder } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live lifecycle tests: ${skip}`);
const here = path.dirname(fileURLToPath(import.meta.url));

async function waitGone(ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = ourPrograms();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = ourPrograms();
  }
  return left;
}

describe.skipIf(skip)('recorder lifecycle', () => {
  const lab = new Netlab();
  let a = '';
  beforeAll(() => {
    a = lab.ns('a');
    const b = lab.ns('b');
    lab.veth(a, '10.242.0.1', b, '10.242.0.2');
  });
  afterAll(() => lab.destroy());

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops on %s with a complete recording and nothing attached', async (signal, code) => {
    const file = path.join(lab.dir, `${signal}.skbtrail`);
    const rec = await startRecorder(file);
    expect(ourPrograms().length).toBeGreaterThan(0);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.242.0.2']);
    rec.child.kill(signal);
    expect(await rec.exited).toBe(code);
    expect(await waitGone()).toEqual([]);
    const info = cli(['info', file, '--format', 'json']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).not.toContain('warning');
    expect(JSON.parse(info.stdout)).toMatchObject([{ complete: true }]);
  });

  it('stops by itself after --duration and after --max-events', async () => {
    const timed = path.join(lab.dir, 'duration.skbtrail');
    const rec = await startRecorder(timed, ['--duration', '1']);
    expect(await rec.exited).toBe(0);
    expect(await waitGone()).toEqual([]);

    const counted = path.join(lab.dir, 'count.skbtrail');
    const rec2 = await startRecorder(counted, ['--max-events', '5']);
    lab.run(a, 'ping', ['-c', '5', '-i', '0.2', '-W', '1', '10.242.0.2']);
    expect(await rec2.exited).toBe(0);
    expect(await waitGone()).toEqual([]);
    const q = cli(['query', counted, 'SELECT count(*) AS n FROM events', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ n: 5 }]);
  });

  it('leaves nothing attached when its JavaScript side crashes', async () => {
    const file = path.join(lab.dir, 'crash.skbtrail');
    const ready = `${file}.ready`;
    const child = spawn(process.execPath, [path.join(here, 'crash-after-ready.mjs'), '-w', file, '--ready-file', ready], { stdio: 'pipe' });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(err).toContain('injected crash');
    expect(await waitGone()).toEqual([]);
  });

  it('keeps the complete batches of a recorder killed with SIGKILL, with a warning', async () => {
    const file = path.join(lab.dir, 'killed.skbtrail');
    const rec = await startRecorder(file);
    lab.run(a, 'ping', ['-c', '20', '-i', '0.1', '-W', '1', '10.242.0.2']);
    await new Promise((r) => setTimeout(r, 1500)); // at least one timed flush
    rec.child.kill('SIGKILL');
    await rec.exited;
    expect(await waitGone()).toEqual([]);
    expect(fs.statSync(file).size).toBeGreaterThan(0);
    const info = cli(['info', file, '--format', 'json']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toMatch(/warning: .*not closed/);
    const [parsed] = JSON.parse(info.stdout);
    expect(parsed.complete).toBe(false);
    expect(parsed.events).toBeGreaterThan(0);
  });
});
