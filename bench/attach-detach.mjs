#!/usr/bin/env node
// Attach and detach time for every kernel function taking an skb, kprobe-multi against kprobe,
// measured in the same run inside the Debian 6.12 VM (test/vm; needs root and node test/vm/setup.mjs).
// pwru's FOSDEM 2024 figures: 1,556 functions attach "instantly" with kprobe-multi; with kprobes,
// 7 s to attach and 97 s to detach.
//   node bench/attach-detach.mjs [--kernel 6.12] [--rounds 3]     JSON on stdout, a summary on stderr
// The numbers are for qemu TCG (no KVM on the test host): read them as ratios, not absolutes.
import { createRequire } from 'node:module';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

if (process.argv.includes('--inside')) {
  process.stdout.write(JSON.stringify(await measure(Number(arg('--rounds', 3)))) + '\n');
} else {
  const { runInVm } = await import('../test/vm/vm.mjs');
  const kernel = arg('--kernel', '6.12');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-bench-attach-'));
  try {
    const vm = await runInVm({
      kernel,
      command: [process.execPath, 'bench/attach-detach.mjs', '--inside', '--rounds', arg('--rounds', '3')],
      cwd: root,
      outDir,
      timeoutMs: 30 * 60_000,
    });
    if (vm.code !== 0) throw new Error(`the benchmark failed in the VM (exit ${vm.code}): ${vm.stderr}`);
    const result = { kernel: vm.release, ...JSON.parse(vm.stdout) };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    for (const [backend, r] of Object.entries(result.backends)) {
      process.stderr.write(
        `${backend}: ${r.functions} functions, attach ${r.attachS.join(' / ')} s, detach ${r.detachS.join(' / ')} s (ignored ${r.ignored})\n`,
      );
    }
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

/** In the VM: each backend attaches the recorder's whole function list, then detaches it, `rounds` times (kprobe once: minutes). */
async function measure(rounds) {
  const require = createRequire(path.join(root, 'packages/recorder/package.json'));
  const native = require('@skbtrail/native');
  const { planRecording, prepareFuncPrograms } = await import(path.join(root, 'packages/recorder/dist/probeset.js'));
  const { attachFuncs } = await import(path.join(root, 'packages/recorder/dist/attach.js'));
  const backends = {};
  for (const [backend, times] of [['kprobe-multi', rounds], ['kprobe', 1]]) {
    const set = planRecording(native, { backend });
    const r = { functions: set.plan.funcs.length, attachS: [], detachS: [], ignored: 0 };
    for (let i = 0; i < times; i++) {
      const handle = native.open(native.objectPath, {});
      prepareFuncPrograms(native, handle, set);
      for (const p of native.probes()) native.setAutoload(handle, p.program, false);
      native.load(handle);
      let t = performance.now();
      const attached = attachFuncs(native, handle, set.choice.backend, set.plan.funcs);
      r.attachS.push(+((performance.now() - t) / 1000).toFixed(2));
      r.ignored = attached.ignored.length;
      t = performance.now();
      native.close(handle);
      r.detachS.push(+((performance.now() - t) / 1000).toFixed(2));
    }
    backends[backend] = r;
  }
  return { backends };
}
