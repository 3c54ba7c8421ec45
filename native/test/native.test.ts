// The native recorder against the live kernel: two network namespaces joined by a
// veth pair, a ping between them, and the events the tracepoints report about it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Native from '../index.js';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(nativeDir, 'build/Release/skbtrail_native.node')) && existsSync(join(nativeDir, 'build/skbtrail.bpf.o'));
const skipReason = process.getuid?.() !== 0 ? 'needs root' : !built ? 'addon not built (npm run build -w native)' : null;
if (skipReason && process.env.CI === 'true') throw new Error(`native tests can't run in CI: ${skipReason}`);

const NS_A = 'skbt-nat-a';
const NS_B = 'skbt-nat-b';
const ADDR_A = '10.199.0.1';
const ADDR_B = '10.199.0.2';
const ETH_P_IP = 0x0800;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
const netnsInode = (ns: string) => Number(/net:\[(\d+)\]/.exec(sh('ip', ['netns', 'exec', ns, 'readlink', '/proc/self/ns/net']))![1]);

function deleteNamespaces() {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

function createNamespaces() {
  deleteNamespaces();
  sh('ip', ['netns', 'add', NS_A]);
  sh('ip', ['netns', 'add', NS_B]);
  sh('ip', ['-n', NS_A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS_B]);
  for (const [ns, dev, addr] of [[NS_A, 'va', ADDR_A], [NS_B, 'vb', ADDR_B]]) {
    sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

// Ids of the BPF programs a process holds, read from its fds: bpftool 7.1 can't show owners.
function heldProgIds(pid: number | 'self'): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed since the listing
    }
    const m = /^prog_id:\s*(\d+)/m.exec(info);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

// The kernel frees programs asynchronously once their last reference is gone.
async function expectProgramsGone(ids: Set<number>) {
  let still: number[] = [];
  for (let i = 0; i < 40; i++) {
    const loaded = new Set((JSON.parse(sh('bpftool', ['prog', 'list', '-j'])) as { id: number }[]).map((p) => p.id));
    still = [...ids].filter((id) => loaded.has(id));
    if (still.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(still, 'BPF programs still loaded').toEqual([]);
}

const ipv4 = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

describe.skipIf(skipReason !== null)(`native recorder${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let native: typeof Native;

  beforeAll(() => {
    native = createRequire(import.meta.url)('../index.cjs');
  });

  it('lists the probe table by id, one tp_btf program per tracepoint', () => {
    const probes = native.probes();
    expect(probes.map((p) => p.id)).toEqual(probes.map((_, i) => i));
    expect(probes[0]).toEqual({ id: 0, name: 'kfree_skb', program: 'tp_kfree_skb', target: 'skb:kfree_skb' });
    expect(probes.map((p) => p.name)).toContain('net_dev_queue');
  });

  it("reads the kernel's drop reasons from its BTF", () => {
    const reasons = native.btfEnum(null, 'skb_drop_reason');
    expect(reasons.map((r) => r.name)).toContain('SKB_DROP_REASON_NOT_SPECIFIED');
    expect(reasons.every((r) => Number.isInteger(r.value))).toBe(true);
    expect(reasons.map((r) => r.name)).toContain('SKB_DROP_REASON_NETFILTER_DROP');
    expect(native.btfEnum(null, 'no_such_enum_here')).toEqual([]);
  });

  it('says what is wrong when asked the impossible', () => {
    expect(() => native.open('/nonexistent/skbtrail.bpf.o')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => native.open(native.objectPath, { snaplen: 4096 })).toThrow(/snaplen 4096 is above the maximum of 256/);
    const handle = native.open(native.objectPath);
    try {
      expect(() => native.attach(handle, 'tp_kfree_skb')).toThrow(expect.objectContaining({ code: 'EINVAL', errno: 22 }));
      expect(() => native.setAutoload(handle, 'tp_nope', false)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    } finally {
      native.close(handle);
      native.close(handle);
    }
    expect(() => native.load(handle)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  describe('a ping from netns a to netns b', () => {
    const batches: Native.NativeBatch[] = [];
    const comms: string[] = [];
    let inodeA = 0;
    let inodeB = 0;
    let heldWhileAttached = new Set<number>();
    let lost: number[] = [];

    beforeAll(async () => {
      createNamespaces();
      inodeA = netnsInode(NS_A);
      inodeB = netnsInode(NS_B);
      const handle = native.open(native.objectPath, { snaplen: 256, ringbufBytes: 4 << 20 });
      try {
        expect(native.load(handle).unavailable).toEqual([]);
        for (const p of native.probes()) native.attach(handle, p.program);
        heldWhileAttached = heldProgIds('self');
        native.start(handle, (batch) => {
          batches.push(batch);
          comms.push(...batch.newComms);
        }, { maxBatchMs: 20 });
        const ping = spawnSync('ip', ['netns', 'exec', NS_A, 'ping', '-c', '3', '-i', '0.2', '-W', '1', ADDR_B], { timeout: 10_000 });
        expect(ping.status, String(ping.stderr)).toBe(0);
        await native.stop(handle);
        lost = native.lost(handle);
      } finally {
        native.close(handle);
      }
    });

    afterAll(deleteNamespaces);

    // Every event as a small object: fine for a test, never on the recorder's hot path.
    const events = () =>
      batches.flatMap((b) =>
        Array.from({ length: b.length }, (_, i) => ({
          func: native.probes()[b.probe[i]].name,
          netns: b.netns[i],
          comm: comms[b.comm[i]],
          protocol: b.protocol[i],
          hasMac: b.has_mac[i],
          netOff: b.net_off[i],
          transOff: b.trans_off[i],
          headers: b.headers.subarray(b.headerOffsets[i], b.headerOffsets[i + 1]),
        })),
      );

    it('delivers columnar batches with every column the same length', () => {
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) {
        for (const key of ['ts', 'skb', 'pid', 'netns', 'probe', 'comm', 'has_mac', 'stack_id'] as const) expect(b[key].length).toBe(b.length);
        expect(b.headerOffsets.length).toBe(b.length + 1);
        expect(b.headerOffsets[b.length]).toBe(b.headers.length);
      }
      expect(lost.reduce((a, b) => a + b, 0)).toBe(0);
      expect(comms).toContain('ping');
    });

    it('sees the packet leave in netns a and arrive in netns b', () => {
      const funcsIn = (inode: number) => new Set(events().filter((e) => e.netns === inode).map((e) => e.func));
      expect(funcsIn(inodeA)).toContain('net_dev_queue');
      const arrivals = funcsIn(inodeB);
      expect(['netif_receive_skb', 'consume_skb', 'kfree_skb'].some((f) => arrivals.has(f)), [...arrivals].join()).toBe(true);
    });

    it('captures the echo request headers: ethernet, then IPv4 ICMP from a to b', () => {
      const sent = events().find((e) => e.netns === inodeA && e.func === 'net_dev_queue' && e.protocol === ETH_P_IP);
      expect(sent).toBeDefined();
      const { headers, hasMac, netOff, transOff } = sent!;
      expect(hasMac).toBe(1);
      expect(netOff).toBe(14);
      expect((headers[12] << 8) | headers[13]).toBe(ETH_P_IP);
      expect(headers[netOff] >> 4).toBe(4);
      expect(headers[netOff + 9]).toBe(1); // IPPROTO_ICMP
      expect(ipv4(headers, netOff + 12)).toBe(ADDR_A);
      expect(ipv4(headers, netOff + 16)).toBe(ADDR_B);
      expect(transOff).toBe(netOff + 20);
      expect(headers[transOff]).toBe(8); // echo request
    });

    it('leaves no program loaded after close', async () => {
      expect(heldWhileAttached.size).toBeGreaterThanOrEqual(native.probes().length);
      expect(heldProgIds('self')).toEqual(new Set());
      await expectProgramsGone(heldWhileAttached);
    });
  });

  it('leaves no program loaded when the recording process is killed', async () => {
    const script = `
      const n = require(${JSON.stringify(join(nativeDir, 'index.cjs'))});
      const h = n.open(n.objectPath);
      n.load(h);
      for (const p of n.probes()) n.attach(h, p.program);
      n.start(h, () => {});
      console.log('ready');`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      const held = heldProgIds(child.pid!);
      expect(held.size).toBeGreaterThanOrEqual(native.probes().length);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await expectProgramsGone(held);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
