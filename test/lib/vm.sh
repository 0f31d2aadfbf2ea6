#!/bin/sh
# vm.sh run 'SHELL COMMAND'
#
# Boots a throw-away QEMU VM that has a pure cgroup v2 hierarchy and systemd as
# PID 1, runs the command there as root in this repository (shared read-write at
# the same path), streams its stdout/stderr here, powers off and exits with the
# command's exit code. The VM's root is this host's / shared read-only over 9p
# with a tmpfs overlay for writes, so node and everything installed here is there.
#
# Kernel (Debian's linux-image-amd64) and a busybox initramfs are built on first
# use under $VM_CACHE. Env: VM_MEM (MiB, 2048), VM_CPUS (2), VM_TIMEOUT (s, 3600),
# VM_ACCEL (auto|kvm|tcg), VM_KEEP=1 keeps the run dir (console.log) for debugging,
# VM_CGROUP=hybrid boots systemd's hybrid layout (v1 controllers, cgroup2 at
# /sys/fs/cgroup/unified) instead of cgroup v2 alone (a host with 1GB huge pages and
# BFQ after `modprobe bfq`, for the other branch of test/lib/host.ts's probes),
# VM_APPEND adds to the kernel command line.
set -eu
CACHE=${VM_CACHE:-/var/tmp/corral-vm}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
[ "${1:-}" = run ] && [ $# -eq 2 ] || { echo "usage: $0 run 'SHELL COMMAND'" >&2; exit 2; }

# --- setup on first use: qemu, kernel + modules (kept), initramfs (redone when this file changes)
kernel() {
  command -v qemu-system-x86_64 >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null; }
  [ -x /bin/busybox ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  rm -rf "$CACHE/k" && mkdir -p "$CACHE" && cd "$CACHE"
  # Debian's cloud kernel lacks 9p, so take the generic one; extract it, don't install it.
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$pkg" ] || { apt-get update -qq; pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); }
  rm -f ./*.deb && apt-get download -qq "$pkg" 2>/dev/null && dpkg-deb -x ./"$pkg"_*.deb k.new && rm -f ./*.deb
  V=$(ls k.new/lib/modules) && busybox depmod -b k.new "$V"  # modules.dep/alias, for the VM's modprobe too
  ln -sf k/boot/vmlinuz-"$V" vmlinuz && mv k.new k
}
initrd() {   # static busybox, the modules that mount the 9p/overlay root, and /init
  cd "$CACHE" && rm -rf i && V=$(ls k/lib/modules)
  mkdir -p i/bin i/proc i/sys i/dev i/lower i/rw i/newroot && cp /bin/busybox i/bin/
  for m in $(grep -E '/(9p|9pnet_virtio|virtio_pci|overlay|virtio-rng)\.ko:' k/lib/modules/$V/modules.dep | tr -d :); do
    mkdir -p "i/lib/modules/$V/${m%/*}" && cp "k/lib/modules/$V/$m" "i/lib/modules/$V/$m"
  done
  cp k/lib/modules/$V/modules.dep i/lib/modules/$V/
  cat >i/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev
modprobe -a virtio_pci virtio_rng 9pnet_virtio 9p overlay
o=trans=virtio,version=9p2000.L,msize=512000
# root: host / read-only (cached), writes land in a tmpfs
mount -t 9p -o $o,ro,cache=loose root /lower && mount -t tmpfs -o mode=755 rw /rw &&
  mkdir /rw/u /rw/w && mount -t overlay -o lowerdir=/lower,upperdir=/rw/u,workdir=/rw/w root /newroot ||
  { echo "vm: cannot mount the root"; poweroff -f; }
# not the host's /run and /tmp (tmpfiles would walk it over 9p), and no /.dockerenv
# (systemd would think it runs in a container and ignore the kernel command line)
mount -t tmpfs -o mode=755,nosuid,nodev run /newroot/run && mount -t tmpfs -o mode=1777 tmp /newroot/tmp
rm -f /newroot/.dockerenv
mkdir -p /newroot/corral-vm && mount -t 9p -o $o,cache=mmap xchg /newroot/corral-vm
. /newroot/corral-vm/env      # REPO=, MODS=
# (its mount point may be under the fresh /tmp or /run: a clone in /tmp, say)
mkdir -p "/newroot$REPO" && mount -t 9p -o $o,cache=mmap work "/newroot$REPO"
# modules of the VM's kernel (the host has none of its own) and a modprobe for them
rm -rf /newroot/lib/modules && ln -s "$MODS" /newroot/lib/modules
[ -e /newroot/sbin/modprobe ] || ln -s /bin/busybox /newroot/sbin/modprobe
# a minimal target: sysinit + sockets (journald, dbus.socket, ...) and our command
u=/newroot/etc/systemd/system && mkdir -p $u
printf '[Unit]\nRequires=sysinit.target sockets.target\nAfter=sysinit.target sockets.target\nWants=dbus.socket corral-vm.service\nAllowIsolate=yes\n' >$u/corral-vm.target
printf '[Service]\nType=exec\nExecStart=/bin/sh /corral-vm/run.sh\n' >$u/corral-vm.service
umount /proc /sys && mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
EOF
  chmod +x i/init
  (cd i && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >initrd.img && rm -rf i
  echo "$STAMP" >stamp
}
STAMP=$(cksum <"$0")
mkdir -p "$CACHE" && exec 9>"$CACHE/lock" && flock 9   # one builder at a time
[ -e "$CACHE/vmlinuz" ] || (kernel) >&2
[ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$STAMP" ] || (initrd) >&2
flock -u 9 && exec 9>&-

# --- one run ------------------------------------------------------------------------
D=$(mktemp -d "$CACHE/run.XXXXXX")
cleanup() { [ -n "${VM_KEEP:-}" ] && echo "vm: kept $D" >&2 || rm -rf "$D"; }
trap cleanup EXIT
printf 'REPO=%s\nMODS=%s\n' "'$REPO'" "'$CACHE/k/lib/modules'" >"$D/env"
printf '%s\n' "$2" >"$D/cmd.sh"
cat >"$D/run.sh" <<EOF
# runs as corral-vm.service: wait for boot to finish, run the command, power off
stty -F /dev/ttyS1 raw -echo; stty -F /dev/ttyS2 raw -echo
systemctl is-system-running --wait >/dev/null
export HOME=/root
cd '$REPO' && sh /corral-vm/cmd.sh </dev/null >/dev/ttyS1 2>/dev/ttyS2
echo \$? >/corral-vm/rc
sync; systemctl poweroff -ff
EOF
# ttyS1/ttyS2 -> fifos -> our stdout/stderr (works whatever our fds are: tty, file, socket)
# (fds 3/4 hold the fifos open here so that the cats cannot hang if qemu never opens them)
mkfifo "$D/out" "$D/err" && exec 3<>"$D/out" 4<>"$D/err"
cat "$D/out" 3>&- 4>&- & o=$!
cat "$D/err" 3>&- 4>&- >&2 & e=$!
case ${VM_CGROUP:-v2} in
  v2) cgroups='systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all' ;;
  hybrid) cgroups='systemd.unified_cgroup_hierarchy=0' ;;
  *) echo "vm: VM_CGROUP must be v2 or hybrid" >&2; exit 2 ;;
esac
accel=${VM_ACCEL:-auto}
# KVM here is PVM (kvm_pvm), which only runs PVM guest kernels: use TCG then.
[ "$accel" = auto ] && { [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && accel=kvm || accel=tcg; }
[ "$accel" = kvm ] && cpu=host || { cpu=max; accel=tcg,thread=multi; }
# timeout runs qemu in a process group of its own: pass our INT/TERM on to it
set +e
timeout "${VM_TIMEOUT:-3600}" qemu-system-x86_64 -M pc -accel "$accel" -cpu "$cpu" \
  -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2048}" -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.img" \
  -append "console=ttyS0 quiet panic=-1 $cgroups systemd.unit=corral-vm.target systemd.show_status=0 ${VM_APPEND:-}" \
  -serial file:"$D/console.log" \
  -chardev file,id=out,path="$D/out" -serial chardev:out \
  -chardev file,id=err,path="$D/err" -serial chardev:err \
  -virtfs local,path=/,mount_tag=root,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs local,path="$REPO",mount_tag=work,security_model=passthrough,multidevs=remap \
  -virtfs local,path="$D",mount_tag=xchg,security_model=passthrough \
  -device virtio-rng-pci 3>&- 4>&- &
q=$!
trap 'kill $q 2>/dev/null' INT TERM HUP
wait $q; q=$?
exec 3>&- 4>&-; wait $o $e
[ -s "$D/rc" ] && exit "$(cat "$D/rc")"
echo "vm: the command did not finish (qemu exit $q); console:" >&2
tail -n 30 "$D/console.log" >&2 2>/dev/null
exit 125
