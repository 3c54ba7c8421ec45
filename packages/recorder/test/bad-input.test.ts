/** Bad input to `skbtrail record`: one clear line, the right exit code, nothing attached, no file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cli, liveSkipReason, ourPrograms } from './netlab.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bad-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^skbtrail: /);
  expect(lines[0]).toMatch(pattern);
}

describe('skbtrail record with bad input', () => {
  it.each([
    [['record', '--no-such-flag'], /unknown option '--no-such-flag'/],
    [['record', '--snaplen', '0'], /snaplen must be an integer from 1 to 256/],
    [['record', '--snaplen', '9000'], /snaplen must be an integer from 1 to 256/],
    [['record', '--duration', 'soon'], /positive number of seconds/],
    [['record', '--backend', 'kprobe-mystery'], /kprobe-mystery/],
    [['record', '--filter-func', '(unclosed'], /not a valid regular expression/],
    [['record', '--compress', 'zstd'], /argument 'zstd' is invalid\. Allowed choices are lz4, none\./],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const file = path.join(dir, 'never.skbtrail');
    const r = cli([...args, '-w', file]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, message);
    expect(fs.existsSync(file)).toBe(false);
  });
});

// libpcap compiles the expression (through the addon), before anything is loaded or written.
const noAddon = fs.existsSync(path.join(ROOT, 'native/build/Release/skbtrail_native.node')) ? null : 'native addon not built (npm run build)';
if (noAddon && process.env.CI === 'true') throw new Error(`pcap-filter bad-input tests cannot run on CI: ${noAddon}`);
if (noAddon) console.log(`skipping pcap-filter bad-input tests: ${noAddon}`);
describe.skipIf(noAddon)('skbtrail record with a pcap-filter libpcap refuses', () => {
  it.each([
    [['record', 'dst host 10.0.0.1 and and tcp'], /^skbtrail: invalid pcap-filter expression "dst host 10\.0\.0\.1 and and tcp": can't parse filter expression: syntax error — see man 7 pcap-filter$/],
    [['record', 'udp port http-alt-nope'], /invalid pcap-filter expression "udp port http-alt-nope": unknown port 'http-alt-nope'/],
    [['record', 'tcp', 'and'], /invalid pcap-filter expression "tcp and": can't parse filter expression: syntax error/],
    [['record', 'port 99999'], /invalid pcap-filter expression "port 99999": illegal port number 99999 > 65535/],
    [['record', 'ip and ip6'], /invalid pcap-filter expression "ip and ip6": expression rejects all packets/],
    [['record', '(udp'], /invalid pcap-filter expression "\(udp": can't parse filter expression: syntax error/],
    [['record', 'ip6 protochain 6'], /pcap-filter "ip6 protochain 6" can't run in the kernel: loops .* are not supported/],
  ])('%j is a usage error with libpcap\'s message (exit 2)', (args, message) => {
    const file = path.join(dir, 'never.skbtrail');
    const ready = path.join(dir, 'never.ready');
    const r = cli([...args, '-w', file, '--ready-file', ready]);
    expect(r.code, r.stderr).toBe(2);
    expectOneLine(r.stderr, message);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(ready)).toBe(false);
  });
});

const live = liveSkipReason();
describe.skipIf(live)('skbtrail record refusing to start on this kernel', () => {
  it('rejects a --filter-func that matches no probe, before attaching anything', () => {
    const file = path.join(dir, 'nomatch.skbtrail');
    const r = cli(['record', '--filter-func', 'no_such_function', '-w', file]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /matches no probe/);
    expect(fs.existsSync(file)).toBe(false);
    expect(ourPrograms()).toEqual([]);
  });

  it('attaches nothing for a pcap-filter libpcap refuses', () => {
    const file = path.join(dir, 'badfilter.skbtrail');
    const r = cli(['record', 'dst hots 10.0.0.1', '-w', file]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /invalid pcap-filter expression "dst hots 10\.0\.0\.1": /);
    expect(fs.existsSync(file)).toBe(false);
    expect(ourPrograms()).toEqual([]);
  });

  it('tells a user without privileges to run as root, and writes nothing', () => {
    const file = path.join(dir, 'unprivileged.skbtrail');
    fs.chmodSync(dir, 0o777);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'record', '-w', file, '--duration', '1'], {
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.status).toBe(1);
    expectOneLine(r.stderr, /run as root or grant CAP_BPF and CAP_PERFMON/);
    expect(fs.existsSync(file)).toBe(false);
  });
});
