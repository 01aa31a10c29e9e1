#!/usr/bin/env bash
# Live test: a client and a server in namespaces, ferrowall routing between them.
# Ping through and to the appliance, a TCP transfer, TTL expiry, clean exit on SIGTERM.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-fwt$$}
. "$ROOT/tests/lab/lib.sh"
trap lab_cleanup EXIT

echo "lab l3_forwarding"
LAB_SERVER_ROUTE=1 "$ROOT/scripts/lab.sh" up 1
lab_config "$ROOT/tests/lab/l3.toml" >"$RUN_DIR/l3.toml"
fw_start "$RUN_DIR/l3.toml" || { fail "ferrowall starts"; summary l3_forwarding; exit 1; }
ok "ferrowall starts on af_packet ports"

c1() { ip netns exec "$LAB_PREFIX-c1" "$@"; }
srv() { ip netns exec "$LAB_PREFIX-srv" "$@"; }

check "client pings the appliance's inside address" c1 ping -c 3 -i 0.2 -W 2 192.168.1.254
check "client pings the appliance's outside address (zone trust: ping = any)" c1 ping -c 3 -i 0.2 -W 2 203.0.113.2
check "server pings the appliance's outside address" srv ping -c 3 -i 0.2 -W 2 203.0.113.2
check "server's pings to the inside address go unanswered (zone untrust: ping = interface)" \
  bash -c "! ip netns exec $LAB_PREFIX-srv ping -c 2 -i 0.2 -W 1 192.168.1.254"
# A host on the inside claims the appliance's address (gratuitous ARP, twice): not
# answered, not learned, counted, and the operator warned (at most once per 10 s).
c1 /usr/bin/python3 -c "
from scapy.all import ARP, Ether, sendp
for op in (1, 2):
    sendp(Ether(dst='ff:ff:ff:ff:ff:ff') / ARP(op=op, psrc='192.168.1.254', pdst='192.168.1.254', hwsrc='02:66:66:66:66:66'), iface='eth0', verbose=False)
"
if wait_until 5 grep -q "arp_address_conflict" "$FW_LOG"; then ok "a gratuitous ARP for the appliance's address is logged as a conflict"; else fail "no conflict warning"; fi
check "the appliance still answers for its address after the conflict" c1 ping -c 2 -i 0.2 -W 2 192.168.1.254
check "client pings the server through the appliance" c1 ping -c 5 -i 0.2 -W 2 203.0.113.1
check "server pings the client through the appliance" srv ping -c 3 -i 0.2 -W 2 192.168.1.1

srv python3 "$ROOT/tests/lab/peer.py" tcp-serve 203.0.113.1 5001 >/dev/null 2>&1 &
SRV=$!
wait_until 10 listening srv tcp 5001
check "TCP transfer of 4 MiB client -> server, digest verified" c1 python3 "$ROOT/tests/lab/peer.py" tcp-send 203.0.113.1 5001 4194304
wait "$SRV" 2>/dev/null

# TTL 1 expires at the appliance: the client hears time exceeded from 192.168.1.254.
ttl_out=$(c1 ping -c 1 -t 1 -W 2 203.0.113.1 2>&1)
if echo "$ttl_out" | grep -q "From 192.168.1.254.*Time to live exceeded"; then ok "TTL 1 answered with time exceeded"; else fail "TTL 1 answered with time exceeded: $ttl_out"; fi

if fw_stop; then ok "ferrowall exits 0 on SIGTERM"; else fail "ferrowall exits 0 on SIGTERM"; fi
fwd=$(awk '/^packets:/ {for (i=1;i<=NF;i++) if ($i=="forwarded") print $(i+1)}' "$FW_LOG" | tail -1)
if [ "${fwd:-0}" -gt 2000 ]; then ok "counters show $fwd forwarded packets"; else fail "forwarded counter ${fwd:-missing}"; cat "$FW_LOG"; fi

conflicts=$(awk '$1 == "drop" && $2 == "arp_address_conflict" {print $3}' "$FW_LOG" | tail -1)
if [ "${conflicts:-0}" = 2 ]; then ok "the 2 conflicting ARPs counted as arp_address_conflict"; else fail "arp_address_conflict ${conflicts:-missing}, expected 2"; fi
denied=$(awk '$1 == "drop" && $2 == "to_self_denied" {print $3}' "$FW_LOG" | tail -1)
if [ "${denied:-0}" = 2 ]; then ok "the server's 2 pings to the inside address counted as to_self_denied"; else fail "to_self_denied ${denied:-missing}, expected 2"; fi

summary l3_forwarding
