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
"$node" "$dist/boot.js" --root "$tmp/root" state none 2>/dev/null
"$node" "$dist/boot.js" --root "$tmp/root" create --bundle "$tmp/bundle" none 2>/dev/null
"$node" "$dist/boot.js" --root "$tmp/root" run --bundle "$tmp/bundle" none 2>/dev/null
"$node" "$dist/boot.js" --root "$tmp/root" exec none true 2>/dev/null
"$node" "$dist/boot.js" --root "$tmp/root" update --pids-limit 1 none 2>/dev/null
test -s "$dist/corral.cache" && test -s "$dist/cmd-create.cache"
