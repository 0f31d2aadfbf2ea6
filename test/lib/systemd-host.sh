#!/bin/bash
# Boot a throw-away systemd (PID 1 of its own pid/mount/uts/ipc/cgroup
# namespaces) so corral's --systemd-cgroup driver can be tested against a real
# systemd D-Bus API on hosts where PID 1 is not systemd.
#
#   systemd-host.sh start DIR        boot it, print its host PID
#   systemd-host.sh exec DIR CMD...  run CMD inside (stdio + exit code passed)
#   systemd-host.sh stop DIR         power it off and remove every trace
#
# All mounts are made inside the private mount namespace, so the host never
# sees them and they vanish with the namespace. The only host-visible state is
# DIR (a few files/empty dirs) and /sys/fs/cgroup/*/$CG.
# Env: SYSTEMD_HOST_CGROUP (cgroup name, default corral-systemd-test),
#      SYSTEMD_HOST_BINDS (host dirs shared read-write inside, default /work).
set -eu

CG=${SYSTEMD_HOST_CGROUP:-corral-systemd-test}
BINDS=${SYSTEMD_HOST_BINDS:-/work}
TARGET=corral-test.target
die() { echo "systemd-host: $*" >&2; exit 1; }

# Host cgroup hierarchies as "name fstype superopts" (name = dir under
# /sys/fs/cgroup). Read from mountinfo so hosts with joined cpu,cpuacct or
# without name=systemd are reproduced as they are.
hierarchies() {
	awk '{ for (i = 7; $i != "-"; i++); t = $(i+1); o = $(i+3)
	       if ((t == "cgroup" || t == "cgroup2") && $5 ~ "^/sys/fs/cgroup/[^/]+$") {
	         sub("^/sys/fs/cgroup/", "", $5); print $5, t, o } }' /proc/self/mountinfo
}

# Move process $1 into our cgroup (or "" = hierarchy root) on every hierarchy.
cg_move() {
	hierarchies | while read -r h _ _; do
		echo "$1" > "/sys/fs/cgroup/$h${2:+/$2}/cgroup.procs"
	done
}

pid_of() {
	local pid
	pid=$(cat "$1/pid" 2>/dev/null) || die "$1: not started"
	[ -d "/proc/$pid" ] || die "$1: systemd (pid $pid) is gone"
	echo "$pid"
}

# Runs as PID 1 of the new namespaces: build the root, then exec systemd.
boot() {
	local D=$1 R=$1/root h t o b
	# Guard: if we were not moved into $CG, systemd would take over the
	# host's cgroup roots. (Host pid 1 of this namespace reads as "1".)
	hierarchies | while read -r h _ _; do
		grep -qx 1 "/sys/fs/cgroup/$h/$CG/cgroup.procs" || { echo "not in $h/$CG" >&2; exit 1; }
	done
	# Upper layer must be a tmpfs: an upper on the same fs as lower "/" is
	# rejected by overlayfs as overlapping layers.
	mount -t tmpfs -o mode=755 corral-sd-rw "$D/rw"
	mkdir "$D/rw/upper" "$D/rw/work"
	mount -t overlay -o "lowerdir=/,upperdir=$D/rw/upper,workdir=$D/rw/work" corral-sd-root "$R"
	# Plain (non-recursive) bind: DIR may live under /work and must not recurse.
	for b in $BINDS; do mount --bind "$b" "$R$b"; done
	mount -t proc proc "$R/proc"
	mount -t sysfs -o ro sysfs "$R/sys"

	# Same hybrid layout as the host; inside the cgroup namespace every
	# hierarchy is rooted at $CG. systemd needs name=systemd even in hybrid
	# mode and would mount it itself; a cgroupns cannot create new
	# hierarchies, so this only works because the host already has one. The
	# tmpfs is made read-only so systemd's failed attempts to mount
	# cpu,cpuacct, net_cls,net_prio, perf_event, hugetlb don't leave empty
	# dirs/symlinks that look like hierarchies.
	mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup "$R/sys/fs/cgroup"
	hierarchies | while read -r h t o; do
		o=${o#rw}; o=${o#,}
		mkdir "$R/sys/fs/cgroup/$h"
		mount -t "$t" -o "nosuid,nodev,noexec${o:+,$o}" cgroup "$R/sys/fs/cgroup/$h"
	done
	for h in /sys/fs/cgroup/*; do
		[ -L "$h" ] && cp -P "$h" "$R/sys/fs/cgroup/"
	done
	mount -o remount,ro "$R/sys/fs/cgroup"

	# Private /dev: real nodes, but no host devpts/shm/kmsg (systemd adds
	# /dev/pts and /dev/shm itself).
	mount -t tmpfs -o mode=755,nosuid dev "$R/dev"
	for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0 fuse:10:229; do
		IFS=: read -r h t o <<<"$n"; mknod -m 666 "$R/dev/$h" c "$t" "$o"
	done
	ln -s pts/ptmx "$R/dev/ptmx"; ln -s /proc/self/fd "$R/dev/fd"
	ln -s fd/0 "$R/dev/stdin"; ln -s fd/1 "$R/dev/stdout"; ln -s fd/2 "$R/dev/stderr"
	mkdir "$R/dev/pts"   # our own devpts: systemd's default has ptmxmode=000
	mount -t devpts -o newinstance,ptmxmode=666,mode=620,gid=5 devpts "$R/dev/pts"

	# Minimal boot: journald (init's stdio is /dev/null and there is no tty
	# /dev/console, so the journal is the only log: `exec DIR journalctl`)
	# and dbus. DefaultDependencies=no keeps sysinit.target
	# (journald, tmpfiles, udev, ...) out of the transaction; generators are
	# masked because they only add units we do not want and slow the boot.
	local E=$R/etc/systemd
	mkdir -p "$E/system-generators" "$E/system/dbus.socket.d" "$E/system/dbus.service.d"
	for b in /lib/systemd/system-generators/*; do ln -sf /dev/null "$E/system-generators/${b##*/}"; done
	# The audit socket would feed the host's audit records into our journal.
	ln -s /dev/null "$E/system/systemd-journald-audit.socket"
	printf '[Unit]\nDescription=corral test boot\nWants=systemd-journald.service systemd-journald-dev-log.socket dbus.socket dbus.service\nAllowIsolate=yes\n' > "$E/system/$TARGET"
	for b in socket service; do
		printf '[Unit]\nDefaultDependencies=no\nConflicts=shutdown.target\nBefore=shutdown.target\n' > "$E/system/dbus.$b.d/corral.conf"
	done
	systemd-id128 new > "$R/etc/machine-id"   # don't share the host's identity
	echo corral-systemd > "$R/etc/hostname"   # systemd sets it from here

	cd "$R"; mkdir .oldroot; pivot_root . .oldroot; umount -l /.oldroot; rmdir /.oldroot
	# In a container systemd takes its "kernel command line" from argv.
	exec env -i container=corral-test /lib/systemd/systemd systemd.unit=$TARGET systemd.show_status=0
}

start() {
	local D=$1 pid upid h i
	[ -e "$D/pid" ] && die "$D: already started (pid $(cat "$D/pid"))"
	for h in $(hierarchies | cut -d' ' -f1); do
		[ -e "/sys/fs/cgroup/$h/$CG" ] && die "/sys/fs/cgroup/$h/$CG exists (another instance?)"
	done
	mkdir -p "$D/rw" "$D/root"; echo "$CG" > "$D/cgroup"
	trap 'stop "$D" >/dev/null 2>&1' EXIT   # a failed start cleans up after itself
	hierarchies | while read -r h _ _; do
		mkdir "/sys/fs/cgroup/$h/$CG"
		# v1 cpuset children start empty; copy the parent and let descendants
		# (systemd's slices/scopes) inherit.
		if [ -e "/sys/fs/cgroup/$h/$CG/cpuset.cpus" ]; then
			cat "/sys/fs/cgroup/$h/cpuset.cpus" > "/sys/fs/cgroup/$h/$CG/cpuset.cpus"
			cat "/sys/fs/cgroup/$h/cpuset.mems" > "/sys/fs/cgroup/$h/$CG/cpuset.mems"
			echo 1 > "/sys/fs/cgroup/$h/$CG/cgroup.clone_children"
		fi
	done
	# The cgroup namespace root is the cgroup of the unsharing process, so move
	# into $CG first. setsid: survive the caller's process group/session.
	( cg_move $BASHPID "$CG"
	  exec setsid unshare --pid --fork --mount --uts --ipc --cgroup --propagation private \
		"$BASH" "$0" _boot "$D" </dev/null >"$D/log" 2>&1 ) &
	upid=$!
	for i in $(seq 100); do
		# (before the exec, children are cg_move's pipeline, not systemd)
		[ "$(cat "/proc/$upid/comm" 2>/dev/null)" = unshare ] &&
			pid=$(cat "/proc/$upid/task/$upid/children") && [ -n "$pid" ] && break
		sleep 0.05
	done
	[ -n "${pid:-}" ] || { cat "$D/log" >&2; die "namespace/root setup failed"; }
	pid=${pid% }; echo "$pid" > "$D/pid"; echo "$upid" > "$D/upid"
	cg_move "$upid" ""   # the waiting unshare parent does not belong to systemd's tree

	# The host can see the inside through /proc/PID/root.
	for i in $(seq 300); do
		[ -S "/proc/$pid/root/run/systemd/private" ] && break
		[ -d "/proc/$pid" ] || { cat "$D/log" >&2; die "systemd died during boot"; }
		sleep 0.05
	done
	timeout 60 "$BASH" "$0" exec "$D" systemctl is-system-running --wait >/dev/null || true
	state=$("$BASH" "$0" exec "$D" systemctl is-system-running) || true
	case $state in running|degraded) ;; *) cat "$D/log" >&2; die "boot failed: state '$state'";; esac
	trap - EXIT
	echo "$pid"
}

stop() {
	local D=$1 pid CG i h m n=0
	CG=$(cat "$D/cgroup" 2>/dev/null) || die "$D: not started"
	# (comm check: don't signal a recycled pid)
	if pid=$(cat "$D/pid" 2>/dev/null) && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
		kill -s SIGRTMIN+3 "$pid"   # systemd's "poweroff" signal
		for i in $(seq 200); do
			[ -d "/proc/$pid" ] || break
			# systemd-shutdown SIGSTOPs everything; a stopped `exec` child
			# makes its nsenter parent (host side, in $CG's root) stop itself,
			# and the namespace cannot die until that parent reaps the child.
			cat /sys/fs/cgroup/*/"$CG"/cgroup.procs 2>/dev/null | sort -u | xargs -r kill -CONT 2>/dev/null || :
			# Such children are not systemd-shutdown's, so it only notices
			# their exit on SIGCHLD or after 10s; poke it.
			kill -s CHLD "$pid" 2>/dev/null || :
			sleep 0.05
		done
		# Killing a pid namespace's init kills everything in it.
		[ -d "/proc/$pid" ] && { echo "systemd-host: poweroff timed out, SIGKILL" >&2; kill -9 "$pid"; }
	fi
	# The unshare parent exits with systemd. Its zombie is reaped by host init
	# (process_api does that only every ~2s); a zombie holds no cgroup.
	i=$(cat "$D/upid" 2>/dev/null) && while [ -d "/proc/$i" ] && [ $((n+=1)) -le 40 ] &&
		! grep -qs '^State:.*zombie' "/proc/$i/status"; do sleep 0.05; done
	# Cgroups become removable once the namespace's processes are reaped.
	for i in $(seq 100); do
		for h in /sys/fs/cgroup/*/"$CG"; do
			[ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || :
		done
		ls -d /sys/fs/cgroup/*/"$CG" >/dev/null 2>&1 || break
		sleep 0.05
	done
	ls -d /sys/fs/cgroup/*/"$CG" 2>/dev/null && die "could not remove cgroups above"
	# Mounts lived only in the dead namespace; anything under DIR here is a bug.
	m=$(awk -v d="$(realpath "$D")/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo)
	[ -z "$m" ] || { echo "$m" | sort -r | xargs -r umount -l; echo "systemd-host: unmounted stray: $m" >&2; }
	rm -f "$D/pid" "$D/upid" "$D/cgroup" "$D/log"; rmdir "$D/rw" "$D/root"
	rmdir "$D" 2>/dev/null || true
}

[ $# -ge 2 ] || die "usage: $0 start|stop DIR | exec DIR CMD..."
cmd=$1 D=$(realpath -m "$2"); shift 2
case $cmd in
start) start "$D";;
stop) stop "$D";;
_boot) boot "$D";;
exec)
	[ $# -ge 1 ] || die "exec: no command"
	pid=$(pid_of "$D")
	# Join a leaf of systemd's cgroup tree (/exec.scope inside), as a login
	# shell sits in a session scope: not its root, which on cgroup2 may not
	# hold processes once controllers are enabled below it. Keep cwd if it
	# exists inside.
	leaf="$(cat "$D/cgroup")/exec.scope"
	hierarchies | while read -r h _ _; do mkdir -p "/sys/fs/cgroup/$h/$leaf"; done
	cg_move $$ "$leaf"
	exec nsenter -t "$pid" -m -u -i -p -C -r -w -- \
		/bin/sh -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' "$PWD" "$@";;
*) die "unknown command $cmd";;
esac
