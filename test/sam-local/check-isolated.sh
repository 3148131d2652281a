#!/usr/bin/env bash
# Exits non-zero unless this network namespace can reach nothing but itself: its interfaces are
# loopback, the bridge and (with --bridge-ports) the veths podman plugged into the bridge, and
# every IPv4 and IPv6 route, in every table, is one the kernel makes for loopback or for the
# bridge's own subnet. A default route, another interface or any other route fails it.
# ("linkdown" is the kernel's note on a route whose bridge has no port up yet.)
#
#   check-isolated.sh BRIDGE GATEWAY/PREFIX [--bridge-ports]
set -uo pipefail

bridge=$1
gateway=${2%/*}
prefix=${2#*/}
allow_ports=${3:-}

fail() {
  echo "sam-local: NOT ISOLATED: $*" >&2
  exit 1
}

subnet=$(ip -4 -o route show dev "$bridge" proto kernel scope link | awk '{print $1}')
[ "$subnet" != "" ] || fail "$bridge has no subnet route"
[ "${subnet#*/}" = "$prefix" ] || fail "$bridge's subnet is $subnet, not a /$prefix"

for link in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
  case "$link" in
    lo | "$bridge") ;;
    veth*)
      [ -n "$allow_ports" ] || fail "interface $link before any container"
      master=$(ip -o link show dev "$link" | grep -o 'master [^ ]*' | cut -d' ' -f2)
      [ "$master" = "$bridge" ] || fail "interface $link is not a port of $bridge"
      ;;
    *) fail "interface $link" ;;
  esac
done

g=${gateway//./\\.}
s=${subnet//./\\.}
unexpected=$(
  ip -4 route show table all | grep -v -E \
    -e "^$s dev $bridge proto kernel scope link src $g( linkdown)? *$" \
    -e "^(local|broadcast) [0-9.]+ dev $bridge table local proto kernel scope (host|link) src $g( linkdown)? *$" \
    -e "^(local|broadcast) 127\.[0-9./]+ dev lo table local proto kernel scope (host|link) src 127\.0\.0\.1 *$"
  ip -6 route show table all | grep -v -E \
    -e "^fe80::/64 dev ($bridge|veth[^ ]*) proto kernel metric [0-9]+( linkdown)? pref medium *$" \
    -e "^(local|anycast) (::1|fe80::[0-9a-f:]*) dev (lo|$bridge|veth[^ ]*) table local proto kernel metric 0 pref medium *$" \
    -e "^multicast ff00::/8 dev ($bridge|veth[^ ]*) table local proto kernel metric 256( linkdown)? pref medium *$"
)
[ -z "$unexpected" ] || fail "route(s) beyond loopback and $subnet: $unexpected"

echo "sam-local: isolated: only lo, $bridge${allow_ports:+ and its veth ports}; routes only to 127.0.0.0/8 and $subnet"
