# PID 1 after switch_root, run by busybox sh. vm.mjs copies this file to the ctl share for every
# run, so changing it needs no initramfs rebuild. It runs ctl/cmd.sh (written by vm.mjs: cwd, env,
# command), stores its stdout, stderr and exit status in the ctl dir, then powers the VM off.
B=/run/skbtrail-vm/busybox
CTL=/run/skbtrail-vm/ctl
. $CTL/env.sh

# A bare devtmpfs has no fd links; programs open /dev/stdout and /dev/fd/N by name.
$B ln -sf /proc/self/fd /dev/fd
$B ln -sf /proc/self/fd/0 /dev/stdin
$B ln -sf /proc/self/fd/1 /dev/stdout
$B ln -sf /proc/self/fd/2 /dev/stderr
$B ln -sf pts/ptmx /dev/ptmx
$B hostname skbtrail-vm
$B ip link set lo up

# Power off even if nobody waits for this VM any more (vm.mjs also kills qemu at its own timeout).
( $B sleep "$DEADLINE_S"; echo "skbtrail-vm: guest deadline of ${DEADLINE_S}s reached"; $B poweroff -f ) &

echo "skbtrail-vm: running command"
$B env -i /bin/sh $CTL/cmd.sh </dev/null >$CTL/stdout 2>$CTL/stderr
echo $? >$CTL/status
$B sync
$B poweroff -f
