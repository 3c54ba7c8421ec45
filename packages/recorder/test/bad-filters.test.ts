/**
 * Filters that can't be: an unknown namespace or interface, a bad mark, pwru options skbtrail
 * has no meaning for. One clear line, exit code 2, nothing attached, no file left behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cli, ourPrograms } from './netlab.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-badfilter-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const noAddon = fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node')) ? null : 'native addon not built (npm run build)';
if (noAddon && process.env.CI === 'true') throw new Error(`filter bad-input tests cannot run on CI: ${noAddon}`);
if (noAddon) console.log(`skipping filter bad-input tests: ${noAddon}`);
const root = process.getuid?.() === 0;

describe.skipIf(noAddon)('skbtrail record with filters that name nothing', () => {
  it.each([
    [['--filter-netns', 'skbtrail-no-such-ns'], /^skbtrail: --filter-netns skbtrail-no-such-ns: no network namespace named skbtrail-no-such-ns \(ip netns list shows the names\)$/],
    [['--filter-netns', '/proc/999999999/ns/net'], /^skbtrail: --filter-netns \/proc\/999999999\/ns\/net: no such namespace file/],
    [['--filter-netns', '/etc/hostname'], /^skbtrail: --filter-netns \/etc\/hostname: \/etc\/hostname is not a network namespace$/],
    [['--filter-netns', '/proc/self/ns/pid'], /is not a network namespace$/],
    [['--filter-netns', 'inode:12345'], /^skbtrail: --filter-netns inode:12345: no network namespace with inode 12345/],
    [['--filter-netns', 'inode:lots'], /^skbtrail: --filter-netns inode:lots: not an inode number/],
    [['--filter-ifname', 'skbt-noif0'], /^skbtrail: --filter-ifname skbt-noif0: no interface skbt-noif0 in the recorder's netns$/],
    [['--filter-ifname', 'lo', '--filter-netns', 'skbtrail-no-such-ns'], /no network namespace named skbtrail-no-such-ns/],
    [['--filter-mark', 'abc'], /^skbtrail: option '--filter-mark <mark\[\/mask\]>' argument 'abc' is invalid\. "abc" is not a mark: give a 32-bit value with an optional nonzero mask, e\.g\. 0x100 or 0x100\/0xff00 — see skbtrail record --help$/],
    [['--filter-mark', '0x100000000'], /"0x100000000" is not a mark/],
    [['--filter-mark', '1/0'], /"1\/0" is not a mark/],
    [['--filter-mark', '-1'], /is not a mark|argument missing/],
    [['--filter-mark', '0x3/0x1'], /"0x3\/0x1": the value has bits outside the mask, so no packet could match/],
    [['--filter-track-max', '10'], /^skbtrail: --filter-track-max needs --filter-track-skb$/],
    [['--filter-track-skb', '--filter-track-max', '0'], /--filter-track-max must be a positive integer/],
    [['--timestamp', 'sometimes'], /--timestamp.*sometimes.*Allowed choices are none, current, relative, absolute/],
  ])('%j: one line, exit 2, no file, nothing attached', (args, message) => {
    const file = path.join(dir, 'never.skbtrail');
    const ready = path.join(dir, 'never.ready');
    const text = path.join(dir, 'never.txt');
    const r = cli(['record', ...args, '-w', file, '--ready-file', ready, '--output-file', text]);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    for (const f of [file, ready, text]) expect(fs.existsSync(f), f).toBe(false);
    if (root) expect(ourPrograms()).toEqual([]);
  });
});
