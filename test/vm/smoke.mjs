#!/usr/bin/env node
// Boots each prepared kernel once and shows what it offers the recorder's backends, and that
// host binaries, module autoloading (veth, nf_tables) and the writable out share work.
// Usage: node test/vm/smoke.mjs [6.1] [6.12]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runInVm } from './vm.mjs';

const checks = `
echo "release:        $(uname -r)"
echo "node:           $(node -e 'console.log(process.version)')"
echo "btf:            $(ls /sys/kernel/btf/vmlinux)"
echo "lockdown:       $(cat /sys/kernel/security/lockdown 2>/dev/null || echo '(no securityfs)')"
echo "filter funcs:   $(wc -l < /sys/kernel/tracing/available_filter_functions)"
echo "kprobe syms:    $(grep -c kprobe /proc/kallsyms)"
echo "fprobe syms:    $(grep -c ' register_fprobe' /proc/kallsyms)"
echo "kconfig:        $(grep -E '^CONFIG_(KPROBES|FPROBE|DYNAMIC_FTRACE_WITH_DIRECT_CALLS)=' /boot/config-$(uname -r) | tr '\\n' ' ')"
echo 'p:skbtrail_smoke ip_rcv' > /sys/kernel/tracing/kprobe_events && echo "kprobe event:   ip_rcv ok"
echo > /sys/kernel/tracing/kprobe_events
ip netns add x && ip link add v0 type veth peer name v1 && nft add table inet smoke && nft list ruleset | head -1
echo "modules:        $(lsmod | awk 'NR>1 && /^(veth|nf_tables) /{print $1}' | tr '\\n' ' ')"
ls -l /dev/stdout /dev/fd >/dev/null && echo "dev links:      ok"
echo written > "$SKBTRAIL_VM_OUT/smoke.txt"
echo "to stderr" >&2
`;

const kernels = process.argv.slice(2).length ? process.argv.slice(2) : ['6.1', '6.12'];
let failed = false;
for (const kernel of kernels) {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skbtrail-vm-smoke-'));
  try {
    const result = await runInVm({ kernel, command: checks, outDir });
    const written = fs.readFileSync(path.join(outDir, 'smoke.txt'), 'utf8').trim();
    console.log(`== ${kernel} (${result.release}): exit ${result.code}, boot ${result.bootMs} ms, total ${result.totalMs} ms`);
    console.log(result.stdout.trimEnd());
    console.log(`stderr:         ${JSON.stringify(result.stderr)}`);
    console.log(`out share:      ${written}`);
    failed ||= result.code !== 0 || written !== 'written' || result.stderr !== 'to stderr\n';
  } catch (error) {
    console.log(`== ${kernel}: ${error.message}`);
    failed = true;
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
