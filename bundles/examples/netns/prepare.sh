#!/bin/sh
# A network namespace "corral-ex" with a veth pair: 10.0.0.1 here, 10.0.0.2 inside.
# `prepare.sh clean` removes it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ns=${CORRAL_EX_NETNS:-corral-ex}
ip netns del "$ns" 2>/dev/null || true
ip link del "$ns-h" 2>/dev/null || true
[ "${1:-}" = clean ] && exit 0
"$here/../rootfs.sh" "$here"
ip netns add "$ns"
ip link add "$ns-h" type veth peer name "$ns-c"
ip link set "$ns-c" netns "$ns"
ip addr add 10.0.0.1/24 dev "$ns-h"
ip link set "$ns-h" up
ip -n "$ns" addr add 10.0.0.2/24 dev "$ns-c"
ip -n "$ns" link set "$ns-c" up
ip -n "$ns" link set lo up
ip -n "$ns" route add default via 10.0.0.1
