# What the container sees, printed in sections ("@@ NAME"), run by busybox sh as
# sh -c "$(cat probe.sh)" probe "MASKED_AND_READONLY_PATHS" "SYSCTL_KEYS".
# Then it waits for a line on stdin (the harness reads the host's cgroup files meanwhile)
# and exits 3, so the exit status passes through too.
b=/bin/busybox
echo "@@ status"
$b grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status
echo "@@ umask"
umask
echo "@@ limits"
$b cat /proc/self/limits
echo "@@ hostname"
$b hostname
echo "@@ cwd"
$b pwd
echo "@@ env"
$b env | $b sort
echo "@@ mountinfo"
$b cat /proc/self/mountinfo
echo "@@ paths"
for p in $1; do
  t=$($b stat -c '%F' "$p" 2>/dev/null || echo missing)
  r=no
  if [ -d "$p" ]; then
    $b ls "$p" >/dev/null 2>&1 && r="yes ($($b ls -A "$p" 2>/dev/null | $b wc -l) entries)"
  else
    $b head -c 1 "$p" >/dev/null 2>&1 && r="yes ($($b head -c 64 "$p" 2>/dev/null | $b wc -c) bytes)"
  fi
  w=no
  [ -w "$p" ] && w=yes
  echo "$p: $t, readable $r, writable-bit $w"
done
echo "@@ sysctl"
for k in $2; do
  echo "$k = $($b cat /proc/sys/$(echo "$k" | $b tr . /) 2>&1)"
done
echo "@@ devices"
set -- $(for f in /dev/* /dev/*/*; do case "$f" in /dev/fd/*) ;; *) [ -e "$f" ] || [ -L "$f" ] && echo "$f";; esac; done)
$b stat -c '%n %A %u:%g %t:%T' "$@" 2>&1
for f in "$@"; do [ -L "$f" ] && echo "$f -> $($b readlink "$f")"; done
echo "@@ stdio"
for n in 0 1 2; do
  echo "$n $($b stat -L -c '%F' /proc/self/fd/$n) $($b stat -c '%A' /proc/self/fd/$n)"
done
echo "@@ end"
read line
exit 3
