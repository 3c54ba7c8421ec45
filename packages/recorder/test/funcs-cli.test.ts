// `skbtrail record` on this machine's kernel: function discovery from BTF, and the one-line answers
// to a backend or module the kernel lacks. (The backends themselves run in test/vm's matrix.)
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cli, liveSkipReason, ourPrograms } from './netlab.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-funcs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const live = liveSkipReason();
const native = live ? null : (createRequire(path.join(ROOT, 'native/package.json'))('./index.cjs') as typeof import('@skbtrail/native'));

describe.skipIf(live)('skbtrail record --list-funcs', () => {
  it('lists the BTF functions taking an skb, with its argument position and module, and counts them on stderr', () => {
    const r = cli(['record', '--list-funcs']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(500);
    expect(rows).toContainEqual(['ip_rcv', '1', 'vmlinux']);
    expect(rows).toContainEqual(['ip_output', '3', 'vmlinux']);
    expect(r.stderr).toMatch(new RegExp(`^skbtrail: ${rows.length} functions taking an skb \\(`));
  });

  it('narrows the list with --filter-func and reads another BTF file with --kernel-btf', () => {
    const btf = path.join(dir, 'vmlinux.btf');
    fs.copyFileSync('/sys/kernel/btf/vmlinux', btf);
    const r = cli(['record', '--list-funcs', '--kernel-btf', btf, '--filter-func', 'ip_(rcv|output)']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['ip_output\t3\tvmlinux', 'ip_rcv\t1\tvmlinux']);
  });

  it('names a --kernel-btf file it cannot read, in one line', () => {
    const r = cli(['record', '--list-funcs', '--kernel-btf', path.join(dir, 'missing.btf')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skbtrail: reading functions from BTF \(.*missing\.btf\) failed: .*\n$/);
  });

  it('names a --kmods module that is not loaded, in one line', () => {
    const r = cli(['record', '--list-funcs', '--kmods', 'skbtrail_no_such_module']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^skbtrail: --kmods: module skbtrail_no_such_module not loaded .*\n$/);
  });
});

const kprobeMulti = native?.probeBackend('kprobe-multi', 'ip_rcv');
describe.skipIf(live || kprobeMulti?.ok)('skbtrail record --backend kprobe-multi on a kernel without it', () => {
  it('names the missing kernel feature and the backends that work, in one line, and attaches and writes nothing', () => {
    const file = path.join(dir, 'never.skbtrail');
    const r = cli(['record', '--backend', 'kprobe-multi', '-w', file, '--ready-file', `${file}.ready`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skbtrail: --backend kprobe-multi needs kprobe-multi links \(CONFIG_FPROBE, Linux 5\.18\+\), which this kernel refuses \(.*\) — backends that work here: .*tracepoint\n$/);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(`${file}.ready`)).toBe(false);
    expect(ourPrograms()).toEqual([]);
  });
});
