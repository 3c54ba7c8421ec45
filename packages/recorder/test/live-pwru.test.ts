/**
 * A pwru user's habits on the real kernel: a pwru command line records (print-only options get
 * a one-line note, --output-limit-lines stops it, --output-file gets pwru's text lines), --live
 * shows the same lines while recording, and --output-caller names every event's caller.
 * Root only; on CI these must run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openRecording } from '@skbtrail/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Netlab, cli, liveSkipReason } from './netlab.js';

const skip = liveSkipReason();
if (skip) console.log(`skipping live pwru-compatibility tests: ${skip}`);

const A = '10.248.0.1';
const B = '10.248.0.2';

/** The cells of a pwru-style line (TUPLE and FUNC have no spaces). */
const cells = (line: string) => line.trim().split(/\s+/);

describe.skipIf(skip)('skbtrail record for pwru users', () => {
  const lab = new Netlab();
  let a = '';
  let b = '';
  beforeAll(() => {
    a = lab.ns('a');
    b = lab.ns('b');
    lab.veth(a, A, b, B, ['veth-pa', 'veth-pb']);
    for (const ns of [a, b]) lab.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    lab.run(a, 'ping', ['-c', '1', '-W', '1', B]);
  });
  afterAll(() => lab.destroy());

  /** Starts `skbtrail record` with stdout captured; resolves once it is attached. */
  async function recorder(file: string, args: string[]) {
    const ready = `${file}.ready`;
    const child = spawn(process.execPath, [CLI, 'record', '-w', file, '--ready-file', ready, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
    for (let i = 0; !fs.existsSync(ready); i++) {
      if (child.exitCode !== null || i > 600) throw new Error(`recorder not ready: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { child, exited, stdout: () => out, stderr: () => err };
  }

  it('takes a pwru command line: notes the print-only options, stops at --output-limit-lines, writes --output-file as text', async () => {
    const file = path.join(lab.dir, 'pwru.skbtrail');
    const text = path.join(lab.dir, 'pwru.txt');
    const rec = await recorder(file, [
      '--output-tuple', '--output-meta', '--timestamp', 'relative', '--output-limit-lines', '6', '--output-file', text, '--filter-netns', a, `dst host ${B} and icmp`,
    ]);
    lab.run(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', B]);
    expect(await rec.exited, rec.stderr()).toBe(0);
    const notes = rec.stderr().split('\n').filter((l) => l.includes('note:'));
    expect(notes).toEqual(['skbtrail: note: --output-tuple, --output-meta, --timestamp relative only change how events are printed: skbtrail show renders that from any recording (skbtrail show --help)']);
    expect(rec.stdout()).toBe(''); // the lines went to the file, as with pwru

    const recording = openRecording(file);
    expect(recording.end).toMatchObject({ stopReason: 'max-events', events: 6 });
    const lines = fs.readFileSync(text, 'utf8').trimEnd().split('\n');
    expect(cells(lines[0])).toEqual(['SKB', 'CPU', 'PROCESS', 'NETNS', 'MARK/x', 'IFACE', 'PROTO', 'MTU', 'LEN', 'TUPLE', 'FUNC']);
    expect(lines).toHaveLength(7);
    // The live text is what skbtrail show prints from the recording, cell for cell.
    const show = cli(['show', file]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.trimEnd().split('\n').map(cells)).toEqual(lines.map(cells));
    expect(cells(lines[1])).toEqual([expect.stringMatching(/^0x[0-9a-f]{16}$/), expect.any(String), expect.stringMatching(/^ping:\d+$/), a, '0', expect.stringMatching(/^veth-pa:\d+$/), '0x0800', '1500', '98', `${A}:0->${B}:0(icmp)`, 'net_dev_queue']);
  });

  it('--live prints pwru-style lines on stdout while it records, drops with their reason', async () => {
    lab.nft(b, 'table inet skbtlive { chain input { type filter hook input priority 0; policy accept; icmp type echo-request drop; }; }');
    const file = path.join(lab.dir, 'live.skbtrail');
    const rec = await recorder(file, ['--live', 'icmp']);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', B]);
    // Seen before the recorder stops.
    for (let i = 0; i < 100 && (rec.stdout().match(/NETFILTER_DROP/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const live = rec.stdout();
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);
    lab.exec(b, 'nft', ['delete', 'table', 'inet', 'skbtlive']);

    const drops = live.split('\n').filter((l) => l.includes('kfree_skb('));
    expect(drops).toHaveLength(2);
    for (const line of drops) {
      expect(cells(line).slice(3)).toEqual([b, '0', expect.stringMatching(/^veth-pb:\d+$/), '0x0800', '1500', '84', `${A}:0->${B}:0(icmp)`, 'kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)']);
    }
    expect(openRecording(file).meta.recorder.options).toMatchObject({ live: { stdout: true, file: null } });
  });

  it('--output-caller names the caller of every event: a free\'s location, else the frame after the probed function', async () => {
    const file = path.join(lab.dir, 'caller.skbtrail');
    const rec = await recorder(file, ['--output-caller', 'icmp']);
    lab.run(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', B]);
    await new Promise((r) => setTimeout(r, 300));
    rec.child.kill('SIGINT');
    expect(await rec.exited, rec.stderr()).toBe(130);

    const show = cli(['show', file, '--output-caller', '--format', 'json']);
    expect(show.code, show.stderr).toBe(0);
    const rows = JSON.parse(show.stdout) as { func: string; caller: string | null }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.caller, r.func).toMatch(/^[\w.]+\+0x[0-9a-f]+$/);
    const q = cli(['query', file, "SELECT func, location, stack_id FROM events WHERE func IN ('kfree_skb', 'consume_skb')", '--format', 'json']);
    const frees = JSON.parse(q.stdout) as { func: string; location: string; stack_id: number | null }[];
    expect(frees.length).toBeGreaterThan(0);
    // Frees carry their location; only the other events needed a stack.
    for (const f of frees) expect(f).toMatchObject({ location: expect.stringMatching(/\+0x/), stack_id: null });
    expect(rows.filter((r) => r.func === 'consume_skb').map((r) => r.caller)).toEqual(frees.filter((f) => f.func === 'consume_skb').map((f) => f.location));
  });
});
