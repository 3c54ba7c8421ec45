#!/bin/busybox sh
# PID 1 of the initramfs that test/vm/setup.mjs builds. It assembles the guest's root and
# hands over to stage2.sh (which vm.mjs puts on the "ctl" share for every run):
#   /            overlay: the host's / (9p, read-only) below, a tmpfs above, so anything is writable
#   $OUT_DIR     the host's out dir (9p, writable), at the same path as on the host
#   /run/skbtrail-vm/ctl  the run's control dir (9p, writable): env.sh, cmd.sh, stage2.sh, results
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1

fail() { echo "skbtrail-vm: init: $*"; poweroff -f; sleep 5; exit 1; }

mount -t proc proc /proc
mount -t sysfs sys /sys
# 9p, its virtio transport and overlay (plus virtio itself on 6.1), in dependency order.
for module in $(cat /modules/load-order); do
  insmod "/modules/$module" || fail "insmod $module failed"
done

mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ctl /ctl || fail "cannot mount the ctl share"
. /ctl/env.sh

# cache=loose: the host's files do not change under a test, and node reads thousands of them.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro host /host || fail "cannot mount the host root"
mount -t tmpfs -o mode=755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work root /newroot || fail "cannot mount the overlay"

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs -o mode=755 run $R/run
mount -t tracefs tracefs $R/sys/kernel/tracing
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t securityfs securityfs $R/sys/kernel/security
mount -t bpf bpf $R/sys/fs/bpf
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup

mkdir -p $R/run/skbtrail-vm/ctl
mount --move /ctl $R/run/skbtrail-vm/ctl
cp /bin/busybox $R/run/skbtrail-vm/busybox
mkdir -p "$R$OUT_DIR"
# cache=mmap: without it a shared writable mmap of a file on 9p fails with EINVAL.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap out "$R$OUT_DIR" || fail "cannot mount the out share"

# The kernel's module autoloading runs /sbin/modprobe (kmod, from the host) inside the new root:
# point /lib/modules/<release> and /boot/config-<release> at the unpacked Debian package.
mkdir -p $R/lib/modules $R/boot
ln -sfn "$PACKAGE_ROOT/lib/modules/$KERNEL_RELEASE" "$R/lib/modules/$KERNEL_RELEASE"
ln -sf "$PACKAGE_ROOT/boot/config-$KERNEL_RELEASE" "$R/boot/config-$KERNEL_RELEASE"
ln -sf "$PACKAGE_ROOT/boot/System.map-$KERNEL_RELEASE" "$R/boot/System.map-$KERNEL_RELEASE"

umount /proc /sys
exec switch_root $R /run/skbtrail-vm/busybox sh /run/skbtrail-vm/ctl/stage2.sh
