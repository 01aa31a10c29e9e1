#!/usr/bin/env bash
# Live test: security policy and NAT. The inside reaches the server by TCP, UDP and ICMP
# and is seen as the appliance's outside address; nothing from outside gets in
# unsolicited, though the server has a route to the inside; the session table shows the
# translations.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-fwt$$}
. "$ROOT/tests/lab/lib.sh"
trap lab_cleanup EXIT

echo "lab nat_policy"
LAB_SERVER_ROUTE=1 "$ROOT/scripts/lab.sh" up 1
lab_config "$ROOT/tests/lab/nat.toml" >"$RUN_DIR/nat.toml"
fw_start "$RUN_DIR/nat.toml" || { fail "ferrowall starts"; summary nat_policy; exit 1; }
ok "ferrowall starts with a policy and easy-IP NAT"

c1() { ip netns exec "$LAB_PREFIX-c1" "$@"; }
srv() { ip netns exec "$LAB_PREFIX-srv" "$@"; }
PEER="$ROOT/tests/lab/peer.py"
OUT=$(mktemp)
# The server's connect attempt gives up after one SYN retransmission (3 s).
srv sysctl -qw net.ipv4.tcp_syn_retries=1

srv python3 "$PEER" tcp-serve 203.0.113.1 5001 >"$OUT" 2>&1 &
SRV=$!
wait_until 10 listening srv tcp 5001
check "TCP from inside reaches the server (1 MiB, digest verified)" c1 python3 "$PEER" tcp-send 203.0.113.1 5001 1048576
wait "$SRV" 2>/dev/null
if grep -q "^peer 203.0.113.2:" "$OUT"; then ok "the server sees TCP from 203.0.113.2 ($(cut -d' ' -f2 "$OUT"))"; else fail "TCP source translated: $(cat "$OUT")"; fi

srv python3 "$PEER" udp-serve 203.0.113.1 5353 >"$OUT" 2>&1 &
SRV=$!
wait_until 10 listening srv udp 5353
answer=$(c1 python3 "$PEER" udp-send 203.0.113.1 5353)
wait "$SRV" 2>/dev/null
if echo "$answer" | grep -q "^seen 203.0.113.2:"; then ok "UDP from inside reaches the server and the answer comes back ($answer)"; else fail "UDP through NAT: $answer"; fi

check "ping from inside reaches the server" c1 ping -c 3 -i 0.2 -W 2 203.0.113.1

d0=$(fw_drops policy_deny)
if srv ping -c 2 -i 0.2 -W 1 192.168.1.1 >/dev/null 2>&1; then fail "unsolicited ping from outside is dropped"; else ok "unsolicited ping from outside is dropped"; fi
d1=$(fw_drops policy_deny)
if [ $((d1 - d0)) = 2 ]; then ok "both pings counted as policy_deny"; else fail "policy_deny $d0 -> $d1 for 2 pings"; fi
c1 python3 "$PEER" tcp-serve 192.168.1.1 2222 >/dev/null 2>&1 &
INSIDE=$!
wait_until 10 listening c1 tcp 2222
if srv timeout 10 python3 "$PEER" tcp-send 192.168.1.1 2222 10 >/dev/null 2>&1; then fail "unsolicited TCP from outside is dropped"; else ok "unsolicited TCP from outside is dropped"; fi
d2=$(fw_drops policy_deny)
if [ "$d2" -gt "$d1" ]; then ok "its SYNs counted as policy_deny ($((d2 - d1)))"; else fail "policy_deny $d1 -> $d2 for the TCP attempt"; fi
# Exactly three SYNs, written by hand: exactly three denied.
srv python3 "$PEER" syn 192.168.1.1 2222 3 >/dev/null
three_more() { [ "$(fw_drops policy_deny)" = $((d2 + 3)) ]; }
if wait_until 5 three_more; then ok "3 crafted SYNs, 3 more policy_deny"; else fail "policy_deny $d2 -> $(fw_drops policy_deny) for 3 SYNs"; fi
deny_live=$(fw_drops policy_deny)
kill "$INSIDE" 2>/dev/null; wait "$INSIDE" 2>/dev/null

# A long-lived flow to show in the session table.
srv python3 "$PEER" udp-serve 203.0.113.1 5354 >/dev/null 2>&1 &
SRV=$!
wait_until 10 listening srv udp 5354
c1 python3 "$PEER" udp-send 203.0.113.1 5354 >/dev/null
wait "$SRV" 2>/dev/null
kill -USR1 "$FW_PID"
wait_until 5 grep -Eq "^ udp .*:5354$" "$FW_LOG"
if grep -Eq "^ udp VPN:public --> public 192\.168\.1\.1:[0-9]+\[203\.0\.113\.2:[0-9]+\] --> 203\.0\.113\.1:5354$" "$FW_LOG"; then
  ok "session table: $(grep -m1 -E '^ udp .*:5354$' "$FW_LOG" | sed 's/^ //')"
else
  fail "session table shows the NATed UDP session"; sed -n '/display firewall session-table/,$p' "$FW_LOG"
fi
if grep -Eq "^ tcp VPN:public --> public 192\.168\.1\.1:[0-9]+\[203\.0\.113\.2:[0-9]+\] --> 203\.0\.113\.1:5001$" "$FW_LOG"; then
  ok "session table shows the closed TCP session until it ages out"
else
  fail "session table shows the TCP session"
fi

if fw_stop; then ok "ferrowall exits 0 on SIGTERM"; else fail "ferrowall exits 0 on SIGTERM"; fi
deny=$(awk '$1=="drop" && $2=="policy_deny" {print $3}' "$FW_LOG" | tail -1)
if [ "${deny:-0}" = "$deny_live" ]; then ok "the exit report counts the $deny unsolicited packets under policy_deny, as the API did"; else fail "policy_deny at exit: ${deny:-none}, $deny_live expected"; cat "$FW_LOG"; fi

# A NAT pool and two workers. An inside host's flows all leave from one pool address,
# whichever worker owns each; with queues on both workers, packets that reach the worker
# not owning their flow are handed over, and every exchange is still answered (three
# queue pairs per port: a TX queue each for the two workers and the slow path).
lab_config "$ROOT/tests/lab/nat.toml" | sed -e 's/^workers = \[1\]/workers = [0, 1]/' -e 's/qpairs=2/qpairs=3/' \
  -e '/^name = "lan-out"$/a pool = "public"' >"$RUN_DIR/pool.toml"
printf '\n[[nat_pool]]\nname = "public"\naddresses = ["203.0.113.10-203.0.113.13"]\n' >>"$RUN_DIR/pool.toml"
fw_start "$RUN_DIR/pool.toml" || { fail "ferrowall starts with a pool and two workers"; summary nat_policy; exit 1; }
srv python3 "$PEER" udp-serve 203.0.113.1 5353 20 >"$OUT" 2>&1 &
SRV=$!
srv python3 "$PEER" tcp-serve 203.0.113.1 5001 >"$OUT.tcp" 2>&1 &
SRV_TCP=$!
wait_until 10 listening srv udp 5353 && wait_until 10 listening srv tcp 5001 || fail "servers listen"
answered=0
for _ in $(seq 1 20); do c1 python3 "$PEER" udp-send 203.0.113.1 5353 >/dev/null 2>&1 && answered=$((answered + 1)); done
check "TCP through the pool (1 MiB, digest verified)" c1 python3 "$PEER" tcp-send 203.0.113.1 5001 1048576
wait "$SRV" "$SRV_TCP" 2>/dev/null
sources=$(cat "$OUT" "$OUT.tcp" | awk '/^peer/ {split($2, a, ":"); print a[1]}' | sort | uniq -c)
if [ "$answered" = 20 ] && [ "$(echo "$sources" | grep -c .)" = 1 ] && echo "$sources" | grep -Eq " 21 203\.0\.113\.1[0-3]$"; then
  ok "20 UDP flows and a TCP connection all answered, all from one pool address:$sources"
else
  fail "pool: $answered/20 answered, sources: $sources"
fi
handoffs=$("$ROOT/target/release/fwctl" --socket "$RUN_DIR/api.sock" --json display statistics |
  python3 -c 'import json,sys; h=json.load(sys.stdin)["handoffs"]; print(h["out"], h["in"])')
read -r h_out h_in <<<"$handoffs"
if [ "${h_in:-0}" -gt 0 ] && [ "$h_in" = "$h_out" ]; then ok "two workers: $h_in packets handed to their flow's owner, none lost"; else fail "hand-offs out/in: $handoffs"; fi
if fw_stop; then ok "ferrowall exits 0 on SIGTERM"; else fail "ferrowall exits 0 on SIGTERM"; fi
rm -f "$OUT" "$OUT.tcp"
summary nat_policy
