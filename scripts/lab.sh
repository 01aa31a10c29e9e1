#!/usr/bin/env bash
# The lab: hosts in network namespaces around the appliance's namespace.
#
#   fwl-c1 .. fwl-cN          fwl-lan (bridge)         fwl-fw               fwl-srv
#   eth0 192.168.1.N/24 ──── lan-cN   lan-fw ──── fwl-in [ferrowall] fwl-out ──── eth0 203.0.113.1/24
#
# The appliance's ends (fwl-in, fwl-out) are bare: no addresses, DPDK opens them with
# net_af_packet. No namespace gets a route to the host's interfaces.
#
# Usage: scripts/lab.sh up [CLIENTS]   create (idempotent: tears down first)
#        scripts/lab.sh down           remove everything the lab created
#        scripts/lab.sh exec HOST CMD  run CMD in fwl-HOST (c1, srv, fw, lan)
# Environment: LAB_PREFIX (default fwl) names the namespaces; LAB_SERVER_ROUTE=1 gives the
# server a route back to the inside (plain routing, no NAT).
set -euo pipefail
P=${LAB_PREFIX:-fwl}

ns() { ip netns exec "$P-$1" "${@:2}"; }

host_setup() { # NS IF ADDR GW
  ns "$1" ip link set lo up
  ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ns "$1" ip addr add "$3" dev "$2"
  ns "$1" ip link set "$2" up
  # Unfinished checksums and GSO super-frames do not survive af_packet.
  ns "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
  [ -z "${4:-}" ] || ns "$1" ip route add default via "$4"
}

down() {
  for n in $(ip netns list | awk '{print $1}' | grep -E "^$P-(c[0-9]+|srv|fw|lan)$" || true); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$n"
  done
}

up() {
  local clients=${1:-1}
  down
  for n in fw lan srv; do ip netns add "$P-$n"; done
  ns fw sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ns fw ip link set lo up   # the metrics endpoint listens on the appliance's loopback
  ns lan sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ns lan ip link add br0 type bridge
  ns lan ip link set br0 up
  # appliance <-> LAN bridge
  ip link add fwl-in netns "$P-fw" type veth peer name lan-fw netns "$P-lan"
  ns lan ip link set lan-fw master br0 up
  # appliance <-> server
  ip link add fwl-out netns "$P-fw" type veth peer name eth0 netns "$P-srv"
  for i in fwl-in fwl-out; do
    ns fw ip link set "$i" up promisc on
    ns fw ethtool -K "$i" tx off tso off gso off gro off >/dev/null 2>&1 || true
  done
  host_setup srv eth0 203.0.113.1/24
  if [ "${LAB_SERVER_ROUTE:-0}" = 1 ]; then
    ns srv ip route add 192.168.1.0/24 via 203.0.113.2
  fi
  for c in $(seq 1 "$clients"); do
    ip netns add "$P-c$c"
    ip link add eth0 netns "$P-c$c" type veth peer name "lan-c$c" netns "$P-lan"
    ns lan ip link set "lan-c$c" master br0 up
    host_setup "c$c" eth0 "192.168.1.$c/24" 192.168.1.254
  done
}

case "${1:-}" in
  up) up "${2:-1}" ;;
  down) down ;;
  exec) ns "$2" "${@:3}" ;;
  *) echo "usage: $0 up [CLIENTS] | down | exec HOST CMD..." >&2; exit 2 ;;
esac
