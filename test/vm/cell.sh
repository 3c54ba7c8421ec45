#!/bin/bash
# One matrix cell, inside a test VM (see matrix.test.ts): records fixtures/scenarios/icmp-pass-drop.sh
# with the given record options into $SKBTRAIL_VM_OUT/cell.skbtrail, then writes what the kernel
# still holds from the recorder to $SKBTRAIL_VM_OUT/leftovers.json, and phase times to times.json.
# Usage: bash test/vm/cell.sh [record options...]
set -uo pipefail
now() { cut -d' ' -f1 /proc/uptime; }
started=$(now)
READY_TIMEOUT_S=900 bash fixtures/scenarios/icmp-pass-drop.sh "$SKBTRAIL_VM_OUT/cell.skbtrail" "$@"
status=$?
recorded=$(now)
# The kernel frees programs and unregisters probes asynchronously once the last reference is gone.
count() { "$@" 2>/dev/null | grep -c . ; }
for _ in $(seq 1 50); do
  progs=$(count bpftool prog show)
  [ "$progs" -eq 0 ] && break
  sleep 0.1
done
cat > "$SKBTRAIL_VM_OUT/leftovers.json" <<JSON
{"programs": $progs, "links": $(count bpftool link show), "kprobes": $(count cat /sys/kernel/debug/kprobes/list),
 "ftraceHooks": $(count cat /sys/kernel/tracing/enabled_functions)}
JSON
awk -v a="$started" -v b="$recorded" 'BEGIN { printf "{\"bootS\": %s, \"scenarioS\": %.2f}\n", a, b - a }' > "$SKBTRAIL_VM_OUT/times.json"
exit $status
