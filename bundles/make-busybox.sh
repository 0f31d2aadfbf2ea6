#!/bin/sh
# Makes an OCI bundle with a busybox rootfs from Debian's busybox-static:
#   bundles/make-busybox.sh DIR [--rootfs-only]   ->  DIR/rootfs, DIR/config.json
set -eu
dir=${1:?usage: make-busybox.sh DIR}
# Debian's busybox-static installs a statically linked /bin/busybox.
bb=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$' || true)
if [ -z "$bb" ] || ! file -L "$bb" | grep -q 'statically linked'; then
  echo "make-busybox: a static busybox is needed: apt-get install busybox-static" >&2
  exit 1
fi
rootfs=$dir/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"/bin "$rootfs"/sbin "$rootfs"/usr/bin "$rootfs"/usr/sbin "$rootfs"/etc "$rootfs"/proc \
  "$rootfs"/sys "$rootfs"/dev "$rootfs"/tmp "$rootfs"/root "$rootfs"/home "$rootfs"/var/www
cp "$bb" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list-full); do
  [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\nuser:x:1000:\n' >"$rootfs/etc/group"
echo busybox >"$rootfs/etc/hostname"
[ "${2:-}" = --rootfs-only ] || cp "$(dirname "$0")/busybox-config.json" "$dir/config.json"
echo "make-busybox: bundle in $dir"
