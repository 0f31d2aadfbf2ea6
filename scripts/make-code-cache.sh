#!/bin/sh
# Writes dist/*.cache (V8 code caches, see scripts/boot.js) by running the commands
# whose start-up matters, as far as they go without a real container: `state` of a
# missing container, and `create` of a bundle whose rootfs is missing, which still
# validates the config and plans. Needs no privileges.
set -u
node=${1:-node}
dist=$(cd "$(dirname "$0")/../dist" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bundle"
sed 's|"path": "rootfs"|"path": "/nonexistent-rootfs"|' "$(dirname "$0")/../bundles/busybox-config.json" > "$tmp/bundle/config.json"
rm -f "$dist"/*.cache  # never let a cache of an older bundle be the base of a new one
export CORRAL_WRITE_CODE_CACHE=1
# Each run must end where it is meant to; one that stops earlier (e.g. before the addon is
# in dist/) would leave a cache of half the code, and every start would pay for the rest.
train() {
  want=$1; shift
  out=$("$node" "$dist/boot.js" --root "$tmp/root" "$@" 2>&1)
  case "$out" in
    *"$want"*) ;;
    *) echo "make-code-cache: '$*' did not get as far as \"$want\": $out" >&2; exit 1 ;;
  esac
}
train 'does not exist' state none
train 'rootfs /nonexistent-rootfs' create --bundle "$tmp/bundle" none
train 'rootfs /nonexistent-rootfs' run --bundle "$tmp/bundle" none
train 'does not exist' exec none true
train 'does not exist' update --pids-limit 1 none
test -s "$dist/corral.cache" && test -s "$dist/cmd-create.cache"
