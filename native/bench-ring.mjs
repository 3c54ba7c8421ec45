// How many events per second the native recorder delivers to JavaScript, and whether
// any were lost, under a ping flood between two network namespaces. Needs root and a
// built addon. Usage: node native/bench-ring.mjs [--count 200000] [--flows 1]
//   [--snaplen 128] [--stack] [--ringbuf-mib 16] [--batch 8192]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '200000' },
    flows: { type: 'string', default: '1' },
    snaplen: { type: 'string', default: '128' },
    stack: { type: 'boolean', default: false },
    'ringbuf-mib': { type: 'string', default: '16' },
    batch: { type: 'string', default: '8192' },
  },
});
const native = createRequire(import.meta.url)('./index.cjs');
const [NS_A, NS_B] = ['skbt-bench-a', 'skbt-bench-b'];

const sh = (...args) => execFileSync(args[0], args.slice(1), { stdio: 'pipe' });
function deleteNamespaces() {
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}
function createNamespaces() {
  deleteNamespaces();
  sh('ip', 'netns', 'add', NS_A);
  sh('ip', 'netns', 'add', NS_B);
  sh('ip', '-n', NS_A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS_B);
  for (const [ns, dev, addr] of [[NS_A, 'va', '10.198.0.1'], [NS_B, 'vb', '10.198.0.2']]) {
    sh('ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
}

// A flood ping finishes on its own; the timeout only guards a wedged run.
const flood = (count) =>
  new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', NS_A, 'ping', '-f', '-q', '-c', String(count), '-W', '1', '10.198.0.2'],
      { stdio: 'ignore', timeout: 120_000 });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ping exited ${code}`))));
  });

createNamespaces();
const handle = native.open(native.objectPath, {
  snaplen: Number(opt.snaplen),
  outputStack: opt.stack,
  ringbufBytes: Number(opt['ringbuf-mib']) << 20,
});
try {
  native.load(handle);
  for (const p of native.probes()) native.attach(handle, p.program);
  let events = 0;
  let batches = 0;
  let headerBytes = 0;
  native.start(handle, (b) => {
    events += b.length;
    batches++;
    headerBytes += b.headers.length;
  }, { maxBatchEvents: Number(opt.batch) });

  const flows = Number(opt.flows);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: flows }, () => flood(Number(opt.count) / flows)));
  await native.stop(handle);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const lost = native.lost(handle).reduce((a, b) => a + b, 0);

  console.log(JSON.stringify({
    pings: Number(opt.count), flows, snaplen: Number(opt.snaplen), stack: opt.stack, ringbufMiB: Number(opt['ringbuf-mib']),
    seconds: +seconds.toFixed(2), events, lost, batches,
    eventsPerSec: Math.round(events / seconds),
    avgHeaderBytes: +(headerBytes / Math.max(events, 1)).toFixed(1),
    recorderCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
  }));
} finally {
  native.close(handle);
  deleteNamespaces();
}
