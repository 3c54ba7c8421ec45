// The recorder's backends on Debian's own kernels, each in a qemu VM (vm.mjs): a cell boots one
// kernel and runs fixtures/scenarios/icmp-pass-drop.sh under `skbtrail record` with one backend (two
// pings from netns a to b that pass, two that nftables in b drops); the assertions read the
// recording on the host with `skbtrail query`. Run with `npm run test:vm` (not part of `npm test`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRecording } from '@skbtrail/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, afterFree, events, query, tripOf, type TraceEvent } from './trips.js';
import { runInVm } from './vm.mjs';

// For the fentry cell: one trampoline per function, so a selection along the ping's path.
const FENTRY_FUNCS =
  '^(ip_output|ip_finish_output2|__dev_queue_xmit|dev_hard_start_xmit|__netif_receive_skb|ip_rcv|ip_rcv_core|' +
  'ip_local_deliver|ip_local_deliver_finish|nf_hook_slow|icmp_rcv|kfree_skb_reason|sk_skb_reason_drop)$';
const FUNCTION_PATH = {
  transmit: [['ip_output'], ['__dev_queue_xmit', 'dev_queue_xmit']],
  receive: [['ip_rcv'], ['ip_local_deliver'], ['__netif_receive_skb', '__netif_receive_skb_core', '__netif_receive_skb_one_core']],
};
const TRACEPOINT_PATH = { transmit: [['net_dev_queue'], ['net_dev_start_xmit']], receive: [['netif_receive_skb', 'netif_rx']] };
// What may see a dropped skb after kfree_skb: the freeing itself.
const FREEING = /^(__kfree_skb|kfree_skbmem|skb_release_\w+|skb_free_head|sock_[rw]free|skb_attempt_defer_free)$/;

interface Cell {
  kernel: '6.1' | '6.12';
  backend: string;
  args: string[];
  path: typeof FUNCTION_PATH;
  /** a tc program on veth-b's ingress, traced with --filter-trace-tc */
  tc?: boolean;
}

const CELLS: Cell[] = [
  { kernel: '6.12', backend: 'kprobe-multi', args: ['--kmods', 'veth', '--filter-trace-tc'], path: FUNCTION_PATH, tc: true },
  { kernel: '6.12', backend: 'kprobe', args: [], path: FUNCTION_PATH },
  // With a pcap-filter: it is spliced into the kprobe programs too.
  { kernel: '6.1', backend: 'kprobe', args: ['icmp'], path: FUNCTION_PATH },
  { kernel: '6.1', backend: 'fentry', args: ['--filter-func', FENTRY_FUNCS], path: FUNCTION_PATH },
  { kernel: '6.12', backend: 'tracepoint', args: [], path: TRACEPOINT_PATH },
  { kernel: '6.1', backend: 'tracepoint', args: [], path: TRACEPOINT_PATH },
];

const CELL_TIMEOUT_MS = 15 * 60_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-matrix-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const funcsOf = (trip: TraceEvent[]) => new Set(trip.map((e) => e.func));
const expectVisits = (trip: TraceEvent[], groups: string[][], netns: string) => {
  for (const names of groups) {
    const hits = trip.filter((e) => names.includes(e.func));
    expect(hits.length, `${names.join(' or ')} in ${[...funcsOf(trip)].join(' > ')}`).toBeGreaterThan(0);
    expect(hits[0].netns_name, `${hits[0].func}'s netns`).toBe(netns);
  }
};

describe.each(CELLS)('Debian $kernel with the $backend backend', (cell) => {
  const outDir = path.join(tmp, `${cell.kernel}-${cell.backend}`);
  const recording = path.join(outDir, 'cell.skbtrail');
  let vm: Awaited<ReturnType<typeof runInVm>>;
  let all: TraceEvent[];

  beforeAll(async () => {
    fs.mkdirSync(outDir, { recursive: true });
    const env: Record<string, string> = {};
    if (cell.tc) {
      env.TC_OBJ = path.join(outDir, 'tc_pass.bpf.o');
      execFileSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', path.join(ROOT, 'test/vm/bpf/tc_pass.bpf.c'), '-o', env.TC_OBJ]);
    }
    vm = await runInVm({
      kernel: cell.kernel,
      command: ['bash', 'test/vm/cell.sh', '--backend', cell.backend, ...cell.args],
      cwd: ROOT,
      env,
      outDir,
      timeoutMs: CELL_TIMEOUT_MS,
    });
    const times = JSON.parse(fs.readFileSync(path.join(outDir, 'times.json'), 'utf8'));
    console.log(`${cell.kernel} ${cell.backend}: boot ${(vm.bootMs / 1000).toFixed(1)} s, scenario ${times.scenarioS} s, total ${(vm.totalMs / 1000).toFixed(1)} s`);
    expect(vm.code, vm.stderr).toBe(0);
    all = events(recording);
  }, CELL_TIMEOUT_MS);

  it(`records with the ${cell.backend} backend and says why on one line`, () => {
    const [{ value }] = query(recording, "SELECT value FROM meta WHERE key = 'backend'");
    expect(value).toBe(cell.backend);
    expect(vm.stderr).toMatch(new RegExp(`^skbtrail: ${cell.backend} backend requested`, 'm'));
  });

  it('follows a passing echo request from ip_output in netns a to ip_local_deliver in netns b', () => {
    // Passing: consumed in b (icmp_rcv answered it). A clone freed on the way (the ARP queue's) is not.
    const trip = all
      .filter((e) => e.icmp_type === 8 && e.len < 200)
      .map((e) => tripOf(all, e))
      .find((t) => t.at(-1)!.func === 'consume_skb' && t.at(-1)!.netns_name === 'b');
    expect(trip, 'an echo request consumed in netns b').toBeDefined();
    expectVisits(trip!, cell.path.transmit, 'a');
    expectVisits(trip!, cell.path.receive, 'b');
  });

  it('ends each dropped echo request in kfree_skb with NETFILTER_DROP at nf_hook_slow or nft_do_chain in netns b', () => {
    const drops = all.filter((e) => e.reason === 'NETFILTER_DROP');
    expect(drops).toHaveLength(2);
    for (const drop of drops) {
      expect(drop.func).toBe('kfree_skb');
      expect(drop.netns_name).toBe('b');
      expect(drop.location).toMatch(/^(nf_hook_slow|nft_do_chain)\+0x/);
      const trip = tripOf(all, drop);
      expect(trip.at(-1)).toBe(drop);
      expectVisits(trip, cell.path.transmit, 'a');
      expect(funcsOf(trip).has('icmp_rcv')).toBe(false);
      for (const e of afterFree(all, drop)) expect(e.func).toMatch(FREEING);
    }
  });

  it.runIf(cell.tc)('traces the tc program on veth-b with fentry and fexit, its verdict (TC_ACT_UNSPEC) as return value', () => {
    const trip = all
      .filter((e) => e.icmp_type === 8 && e.len < 200)
      .map((e) => tripOf(all, e))
      .find((t) => t.at(-1)!.func === 'consume_skb' && t.at(-1)!.netns_name === 'b')!;
    const tc = trip.find((e) => e.func === 'skbtrail_tc_pass');
    expect(tc, [...funcsOf(trip)].join(' > ')).toMatchObject({ kind: 'fentry', netns_name: 'b' });
    expect(trip.indexOf(tc!)).toBeLessThan(trip.findIndex((e) => e.func === 'ip_rcv'));
    const rec = openRecording(recording);
    const fexitId = rec.meta.probes.find((p) => p.kind === 'fexit' && p.name === 'skbtrail_tc_pass')!.id;
    const verdicts = rec.batches.flatMap((b) => {
      const probe = b.getChild('func')!.data.flatMap((d) => [...(d.values as Uint16Array)]);
      const retval = b.getChild('retval')!.toArray() as BigInt64Array;
      return probe.flatMap((id, i) => (id === fexitId ? [retval[i]] : []));
    });
    expect(verdicts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(verdicts)).toEqual(new Set([-1n]));
  });

  it('leaves no BPF program, link, kprobe or ftrace hook behind', () => {
    const leftovers = JSON.parse(fs.readFileSync(path.join(outDir, 'leftovers.json'), 'utf8'));
    expect(leftovers).toEqual({ programs: 0, links: 0, kprobes: 0, ftraceHooks: 0 });
  });
});

describe('Debian 6.1 asked for kprobe-multi', () => {
  it('says in one line that the kernel lacks kprobe-multi links and which backends work, and writes nothing', async () => {
    const outDir = path.join(tmp, 'no-kprobe-multi');
    fs.mkdirSync(outDir);
    const file = path.join(outDir, 'never.skbtrail');
    const vm = await runInVm({
      kernel: '6.1',
      command: `node bin/skbtrail.js record --backend kprobe-multi -w ${file}; echo "exit $?"; bpftool prog show | grep -c . || true`,
      cwd: ROOT,
      outDir,
      timeoutMs: 300_000,
    });
    expect(vm.stdout).toBe('exit 1\n0\n');
    expect(vm.stderr.trim().split('\n')).toHaveLength(1);
    expect(vm.stderr).toMatch(/^skbtrail: --backend kprobe-multi needs kprobe-multi links .* backends that work here: kprobe, fentry, tracepoint\n$/);
    expect(fs.existsSync(file)).toBe(false);
  }, 300_000);
});
