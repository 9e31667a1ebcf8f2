#!/bin/sh
# qemu/netns.sh up|down: a network namespace holding a tap device for the
# guest and a real Linux peer: the namespace side of the tap is 10.0.3.1/24,
# the guest is 10.0.3.2. `NET=tap make run` uses it; inside the namespace:
#   ip netns exec gomenuos nc -N 10.0.3.2 5001    (after replyhi in the guest)
#   ip netns exec gomenuos tcpdump -i gmtap0
# Needs root. Traffic never leaves the namespace.
set -eu
NETNS=${NETNS:-gomenuos}
TAP=${TAP:-gmtap0}
case ${1:-up} in
up)
	ip netns list | grep -qw "$NETNS" || ip netns add "$NETNS"
	ip netns exec "$NETNS" ip link set lo up
	if ! ip netns exec "$NETNS" ip link show "$TAP" >/dev/null 2>&1; then
		ip netns exec "$NETNS" ip tuntap add dev "$TAP" mode tap
		ip netns exec "$NETNS" ip addr add 10.0.3.1/24 dev "$TAP"
	fi
	ip netns exec "$NETNS" ip link set "$TAP" up
	;;
down)
	ip netns del "$NETNS" 2>/dev/null || true
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
