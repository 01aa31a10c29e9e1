#!/usr/bin/env bash
# PPTP with real, independently written peers: Debian's pptp (pptp-linux) as clients,
# pptpd as the server, a router in the middle doing NAPT:
#   ROUTER=ferrowall  ferrowall on net_af_packet vdevs (the test scripts/test.sh runs)
#   ROUTER=linux      a Linux namespace: nftables masquerade + the pptp conntrack helper
# Scenarios: 1 one client; 2 two, then eight clients with the same Call ID; 3 teardown;
# 4 the refined policy (only client -> server TCP 1723); 5 the ALG off; 6 background
# TCP/UDP at the same time; 7 two calls on one control connection. Each prints ok/FAIL lines; with RESULTS=FILE, one line per
# scenario goes there too: scenario|pass|fail|set-up seconds|echo round trips/s|note.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUTER=${ROUTER:-ferrowall}
export LAB_PREFIX=${LAB_PREFIX:-fwt$$}
. "$ROOT/tests/lab/lib.sh"
WORK=$(mktemp -d /tmp/ferrowall-pptp.XXXXXX)
RESULTS=${RESULTS:-$WORK/results}
PPTPD_PID=""
BG=()
cleanup() {
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  pptpd_stop
  lab_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

SOCK=$RUN_DIR/api.sock
fwctl() { "$ROOT/target/release/fwctl" --socket "$SOCK" "$@"; }
ns() { ip netns exec "$LAB_PREFIX-$1" "${@:2}"; }
CLIENT="$ROOT/tests/lab/pptp_client.py"
PEER="$ROOT/tests/lab/peer.py"
SERVER=203.0.113.1

# --- the router ---------------------------------------------------------------------
# router_start [alg=on|off] [policy=open|refined]
router_start() {
  local alg=$1 policy=$2
  if [ "$ROUTER" = ferrowall ]; then
    local cfg="$WORK/ferrowall.toml"
    lab_config "$ROOT/tests/lab/control.toml" | sed -e '/^\[\[policy\]\]/,$d' >"$cfg"
    if [ "$policy" = refined ]; then
      printf '[[policy]]\nname = "pptp-only"\nfrom = "trust"\nto = "untrust"\nprotocol = "tcp"\nports = ["1723"]\ndestination = ["%s"]\naction = "permit"\n\n' "$SERVER" >>"$cfg"
    else
      printf '[[policy]]\nname = "lan-out"\nfrom = "trust"\nto = "untrust"\naction = "permit"\n\n' >>"$cfg"
    fi
    printf '[[nat]]\nname = "lan-out"\nfrom = "trust"\nto = "untrust"\n\n' >>"$cfg"
    [ "$alg" = on ] && printf '[alg.pptp]\nzones = [["trust", "untrust"]]\n\n' >>"$cfg"
    printf '[management]\nsocket = "%s"\n' "$SOCK" >>"$cfg"
    fw_start "$cfg"
  else
    ns fw ip addr flush dev fwl-in
    ns fw ip addr flush dev fwl-out
    ns fw ip addr add 192.168.1.254/24 dev fwl-in
    ns fw ip addr add 203.0.113.2/24 dev fwl-out
    ns fw ip link set fwl-in promisc off
    ns fw ip link set fwl-out promisc off
    ns fw sysctl -qw net.ipv4.ip_forward=1
    local helper="" accept="accept"
    [ "$alg" = on ] && helper='tcp dport 1723 ct helper set "pptp-h"'
    [ "$policy" = refined ] && accept="ip daddr $SERVER tcp dport 1723 accept"
    ns fw nft -f - <<EOF
table ip lab {
  ct helper pptp-h {
    type "pptp" protocol tcp
  }
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    $helper
  }
  chain forwarding {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "fwl-in" $accept
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "fwl-out" masquerade
  }
}
EOF
  fi
}
router_stop() {
  if [ "$ROUTER" = ferrowall ]; then
    local rc=0
    fw_stop || rc=$?
    [ $rc = 0 ] || fail "ferrowall stopped with status $rc"
  else
    ns fw nft delete table ip lab 2>/dev/null
    ns fw ip addr flush dev fwl-in
    ns fw ip addr flush dev fwl-out
    ns fw conntrack -F >/dev/null 2>&1
  fi
}

# --- clients ------------------------------------------------------------------------
# clients N CALLID HOLD: N pptp clients at once; their result lines in $WORK/client.N
clients() {
  local n=$1 id=$2 hold=$3 pids=()
  for c in $(seq 1 "$n"); do
    ns "c$c" timeout 60 python3 "$CLIENT" "$SERVER" "192.168.1.$c" --call-id "$id" --hold "$hold" \
      --echoes 200 --log "$WORK/pptp.$c.log" >"$WORK/client.$c" 2>&1 &
    pids+=($!)
  done
  CLIENT_PIDS=("${pids[@]}")
}
clients_wait() {
  local rc=0
  for p in "${CLIENT_PIDS[@]}"; do wait "$p" || rc=1; done
  return $rc
}
# Median set-up time and summed echo rate of clients 1..N.
figures() {
  local n=$1
  for c in $(seq 1 "$n"); do cat "$WORK/client.$c"; echo; done | python3 -c '
import re, statistics, sys
ups, rates = [], []
for line in sys.stdin:
    m = re.match(r"up ([0-9.]+) s, echoes (\d+)/(\d+), (\d+) round trips/s", line)
    if m:
        ups.append(float(m.group(1))); rates.append(int(m.group(4)))
print(f"{statistics.median(ups):.2f} {sum(rates)}" if ups else "- -")'
}
all_up() { # N: every client carried every echo
  local n=$1
  for c in $(seq 1 "$n"); do grep -q "echoes 200/200" "$WORK/client.$c" || return 1; done
}

# Call IDs of the OCRQs the server received, captured on its interface.
capture_start() {
  rm -f "$WORK/server.pcap"
  ns srv dumpcap -q -i eth0 -f "tcp port 1723" -w "$WORK/server.pcap" >"$WORK/dumpcap.log" 2>&1 &
  CAPTURE=$!
  # dumpcap writes the file's header once the interface is open and capturing.
  wait_until 5 test -s "$WORK/server.pcap" || fail "dumpcap did not start: $(cat "$WORK/dumpcap.log")"
}
capture_stop() {
  kill -INT "$CAPTURE" 2>/dev/null; wait "$CAPTURE" 2>/dev/null
  tshark -r "$WORK/server.pcap" -Y "pptp.control_message_type == 7" -T fields -e ip.src -e pptp.call_id 2>/dev/null | sort -u
}

record() { # scenario pass fail setup rate note
  echo "$1|$2|$3|$4|$5|$6" >>"$RESULTS"
}

run_scenario() { # NAME FUNCTION
  local before_p=$PASSED before_f=$FAILED
  NOTE=""; SETUP="-"; RATE="-"
  echo "-- $1"
  "$2"
  record "$1" $((PASSED - before_p)) $((FAILED - before_f)) "$SETUP" "$RATE" "$NOTE"
}

# --- scenarios ----------------------------------------------------------------------
s1_one_client() {
  router_start on open || { fail "router starts"; return; }
  clients 1 1234 6
  if [ "$ROUTER" = ferrowall ]; then
    # The client holds its tunnel 6 s after its echoes: the displays are read while it is up.
    wait_until 10 gre_sessions_shown 2 || fail "no two pptp-gre sessions within 10 s"
    local t m
    t=$(fwctl display firewall session-table)
    m=$(fwctl display firewall server-map)
    if echo "$t" | grep -Eq '^ pptp VPN:public --> public 192\.168\.1\.1:[0-9]+\[203\.0\.113\.2:[0-9]+\] \+-> 203\.0\.113\.1:1723$'; then
      ok "fwctl shows the control session: $(echo "$t" | grep '^ pptp ' | sed 's/^ //')"
    else fail "control session shown"; echo "$t"; fi
    if [ "$(echo "$t" | grep -c '^ pptp-gre ')" = 2 ]; then ok "fwctl shows two pptp-gre sessions"; else fail "two pptp-gre sessions"; echo "$t"; fi
    if [ "$(echo "$m" | grep -c 'Appro: pptp-gre')" = 2 ]; then ok "fwctl shows the two server-map entries"; else fail "two server-map entries"; echo "$m"; fi
    if echo "$m" | grep -Eq '^ Type: ASPF, 203\.0\.113\.1:0 -> 203\.0\.113\.2:[0-9]+\[192\.168\.1\.1:4660\], Zone: --- Protocol: tcp\(Appro: pptp-gre\), Left-Time: 00:0[0-9]:[0-5][0-9] VPN: public -> public$'; then
      ok "server map 1 translates back to the client's own Call ID 4660"
    else fail "server map 1 line"; fi
    echo "$t" "$m" | grep -E "pptp|Type" | sed 's/^ */     /'
  fi
  if clients_wait && all_up 1; then ok "tunnel up, data both ways: $(cat "$WORK/client.1")"; else fail "tunnel: $(cat "$WORK/client.1")"; fi
  read -r SETUP RATE < <(figures 1)
  router_stop
}

# translated_ids: distinct translated Call IDs in the server map (entries to the public
# address).
translated_ids() {
  fwctl --json display firewall server-map | python3 -c '
import json, sys
e = json.load(sys.stdin)["entries"]
print(len({x["match"]["call_id"] for x in e if x["match"]["dst"] == "203.0.113.2"}))'
}
translated_ids_are() { [ "$(translated_ids)" = "$1" ]; }
gre_sessions_shown() { [ "$(fwctl display firewall session-table | grep -c '^ pptp-gre ')" = "$1" ]; }

same_call_id() { # N
  local n=$1
  capture_start
  clients "$n" 1234 4
  if [ "$ROUTER" = ferrowall ]; then
    # Each client holds its tunnel 4 s after its echoes: every call is up at once.
    if wait_until 15 translated_ids_are "$n"; then ok "$n distinct translated Call IDs in the server map"
    else fail "server map translated IDs: $(translated_ids) of $n"; fi
  fi
  clients_wait
  local ids
  ids=$(capture_stop)
  [ -n "$ids" ] || echo "     (capture: $(tshark -r "$WORK/server.pcap" 2>/dev/null | grep -c .) packets, $(tshark -r "$WORK/server.pcap" -Y pptp 2>/dev/null | grep -c .) PPTP)"
  if all_up "$n"; then ok "$n clients with one Call ID: every tunnel up, data both ways ($(figures "$n" | awk '{print "median set-up " $1 " s, " $2 " round trips/s in all"}'))"; else fail "$n tunnels: $(cat "$WORK"/client.* | tr '\n' ';')"; fi
  if [ "$(echo "$ids" | awk '{print $2}' | sort -u | grep -c .)" = "$n" ]; then
    ok "the server saw $n distinct Call IDs from $(echo "$ids" | awk '{print $1}' | sort -u | tr '\n' ' ')"
  else
    fail "distinct Call IDs at the server: $(echo "$ids" | tr '\n' ' ')"
  fi
  read -r SETUP RATE < <(figures "$n")
}
s2_two_clients() { router_start on open || { fail "router starts"; return; }; same_call_id 2; router_stop; }
s2_eight_clients() { router_start on open || { fail "router starts"; return; }; same_call_id 8; router_stop; }

s3_teardown() {
  router_start on open || { fail "router starts"; return; }
  clients 2 1234 0
  clients_wait
  if all_up 2; then ok "both tunnels came up and carried their echoes before the teardown"
  else fail "tunnels before the teardown: $(cat "$WORK"/client.[12] | tr '\n' ';')"; fi
  read -r SETUP RATE < <(figures 2)
  local start gone=""
  start=$(date +%s.%N)
  for _ in $(seq 1 100); do
    if [ "$ROUTER" = ferrowall ]; then
      local left
      left=$(fwctl --json display nat statistics | python3 -c '
import json, sys
p = json.load(sys.stdin)["pptp"]; print(p["connections"] + p["calls"] + p["server_map_entries"])')
      if [ "$left" = 0 ] && ! fwctl display firewall session-table | grep -q "pptp-gre"; then gone=1; break; fi
    else
      if [ "$(ns fw conntrack -L -p gre 2>/dev/null | grep -c .)" = 0 ] && [ "$(ns fw conntrack -L -p gre -o extended 2>/dev/null | grep -c .)" = 0 ] \
        && ! ns fw conntrack -L expect 2>/dev/null | grep -q .; then gone=1; break; fi
    fi
    sleep 0.1
  done
  local took
  took=$(echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1-$2}')
  if [ -n "$gone" ]; then
    ok "clients exited: no tunnel state left after $took s"
    NOTE="state gone $took s after the clients exit"
  else
    if [ "$ROUTER" = linux ]; then
      NOTE="GRE conntrack entries stay after exit ($(ns fw conntrack -L -p gre 2>/dev/null | grep -c .) after 10 s; they age out)"
      ok "clients exited: $NOTE"
    else
      fail "tunnel state left 10 s after the clients exit"
      fwctl display nat statistics; fwctl display firewall server-map
    fi
  fi
  router_stop
}

s4_refined_policy() {
  router_start on refined || { fail "router starts"; return; }
  clients 1 1234 0
  if clients_wait && all_up 1; then ok "only client -> server TCP 1723 allowed, the tunnel works: $(cat "$WORK/client.1")"; else fail "refined policy: $(cat "$WORK/client.1")"; fi
  read -r SETUP RATE < <(figures 1)
  # What the policy does not allow must not cross: TCP to another port, UDP.
  ns srv timeout 20 python3 "$PEER" tcp-serve "$SERVER" 5001 >"$WORK/refused-srv.out" 2>&1 &
  local srv=$!
  ns srv timeout 20 python3 "$PEER" udp-serve "$SERVER" 5353 >/dev/null 2>&1 &
  local srv_udp=$!
  BG+=("$srv" "$srv_udp")
  wait_until 5 listening srv tcp 5001 && wait_until 5 listening srv udp 5353 || fail "servers listen"
  if [ "$ROUTER" = ferrowall ]; then
    local before after
    before=$(fw_drops policy_deny)
    ns c1 timeout 3 python3 "$PEER" tcp-send "$SERVER" 5001 1000 >/dev/null 2>&1 &
    local tcp=$!
    ns c1 python3 "$PEER" udp-send "$SERVER" 5353 >"$WORK/refused-udp.out" 2>&1 &
    local udp=$!
    policy_denied_more() { [ "$(fw_drops policy_deny)" -ge $((before + 2)) ]; }
    wait_until 5 policy_denied_more
    after=$(fw_drops policy_deny)
    if wait "$tcp"; then fail "refined policy: TCP to port 5001 crossed"
    else ok "refined policy: TCP to port 5001 refused"; fi
    if wait "$udp"; then fail "refined policy: UDP crossed: $(cat "$WORK/refused-udp.out")"
    else ok "refined policy: UDP refused"; fi
    if [ "$after" -ge $((before + 2)) ]; then ok "policy_deny counted them: $before -> $after"
    else fail "policy_deny $before -> $after, 2 or more expected"; fi
    if grep -q "^peer" "$WORK/refused-srv.out"; then fail "the TCP server saw a connection"; fi
  fi
  kill "$srv" "$srv_udp" 2>/dev/null
  router_stop
}

s5_alg_off() {
  router_start off open || { fail "router starts"; return; }
  clients 1 1234 0 
  clients_wait
  if all_up 1; then
    NOTE="without the helper the tunnel still works (GRE tracked by addresses only)"
    if [ "$ROUTER" = ferrowall ]; then fail "ALG off, the tunnel should fail"; else ok "ALG off: $NOTE"; fi
    read -r SETUP RATE < <(figures 1)
  else
    if [ "$ROUTER" = ferrowall ]; then
      local drops
      drops=$(fw_drops gre_no_session)
      if [ "${drops:-0}" -gt 0 ]; then ok "ALG off: the tunnel fails as under plain NAPT, $drops server GRE packets dropped (gre_no_session)"; else fail "ALG off: no gre_no_session drops"; fi
      NOTE="fails as plain NAPT: server GRE dropped ($drops)"
    else
      ok "ALG off: the tunnel fails ($(cat "$WORK/client.1"))"
      NOTE="fails: $(cat "$WORK/client.1")"
    fi
  fi
  router_stop
}

s6_background() {
  router_start on open || { fail "router starts"; return; }
  ns srv python3 "$PEER" tcp-serve "$SERVER" 5001 >/dev/null 2>&1 &
  local srv_tcp=$!
  ns srv python3 "$PEER" tcp-serve "$SERVER" 5002 >/dev/null 2>&1 &
  local srv_stream=$!
  ns srv python3 "$PEER" udp-serve "$SERVER" 5353 20 >/dev/null 2>&1 &
  local srv_udp=$!
  BG+=("$srv_tcp" "$srv_stream" "$srv_udp")
  wait_until 5 listening srv tcp 5001 && wait_until 5 listening srv tcp 5002 && wait_until 5 listening srv udp 5353 \
    || fail "servers listen"
  clients 2 1234 6
  # 20 UDP exchanges, each a new flow and a single datagram (a firewall that loses a new
  # flow's first packet fails here), beside the tunnels and a paced TCP stream (1 MB/s,
  # well below what the af_packet rings take, so no loss is the lab's own).
  ns c2 python3 "$PEER" tcp-stream "$SERVER" 5002 "$WORK/stream.stop" >"$WORK/stream.out" 2>&1 &
  local stream=$!
  local udp_ok=0 out
  for _ in $(seq 1 20); do
    out=$(ns c1 python3 "$PEER" udp-send "$SERVER" 5353 1 2>&1) && udp_ok=$((udp_ok + 1))
  done
  touch "$WORK/stream.stop"
  wait "$stream"; local stream_rc=$?
  # Then a 32 MiB transfer as fast as it goes, beside the tunnels.
  ns c2 python3 "$PEER" tcp-send "$SERVER" 5001 33554432 >"$WORK/tcp.out" 2>&1
  local tcp_rc=$?
  clients_wait
  if all_up 2; then ok "two tunnels up while TCP and UDP cross: $(figures 2 | awk '{print $2 " round trips/s in all"}')"; else fail "tunnels with background traffic"; fi
  if [ $udp_ok = 20 ]; then ok "20 new UDP flows beside the tunnels, each answered at its first datagram"; else fail "UDP beside the tunnels: $udp_ok/20 answered at the first datagram"; fi
  if [ $stream_rc = 0 ]; then ok "paced TCP stream beside them: $(tail -1 "$WORK/stream.out")"; else fail "paced TCP stream: $(tail -1 "$WORK/stream.out")"; fi
  if [ $tcp_rc = 0 ]; then ok "32 MiB TCP transfer beside the tunnels: $(cat "$WORK/tcp.out")"; else fail "TCP beside the tunnels: $(cat "$WORK/tcp.out")"; fi
  read -r SETUP RATE < <(figures 2)
  router_stop
}

# Two calls on one control connection: pptp-linux makes one call per connection, so the
# lab's small Python PNS and PAC (tests/lab/pptp_peer.py) make them, on a second server
# address.
s7_two_calls() {
  router_start on open || { fail "router starts"; return; }
  ns srv timeout 60 python3 "$ROOT/tests/lab/pptp_peer.py" server 203.0.113.3 256 1 >"$WORK/peer-server.log" 2>&1 &
  local srv=$!
  BG+=("$srv")
  pac_listening() { ns srv ss -H -lnt "src 203.0.113.3:1723" | grep -q .; }
  wait_until 5 pac_listening || fail "the Python PAC listens"
  local out
  out=$(ns c1 timeout 30 python3 "$ROOT/tests/lab/pptp_peer.py" client 203.0.113.3 192.168.1.1 4660 100 2 2>&1)
  local rc=$?
  if [ $rc = 0 ]; then
    ok "two calls on one control connection, GRE both ways on each: $out"
  else
    fail "two calls on one control connection: $out"
    NOTE="$out"
  fi
  wait "$srv" 2>/dev/null
  router_stop
}

echo "lab pptp_scenarios ($ROUTER)"
: >"$RESULTS"
"$ROOT/scripts/lab.sh" up 8
ns srv ip addr add 203.0.113.3/24 dev eth0
pptpd_start "$WORK/pptpd" || { fail "pptpd starts"; summary pptp_scenarios; exit 1; }
ok "pptpd listening on $SERVER:1723"
# SCENARIOS="1 3" runs a subset.
want() { [ -z "${SCENARIOS:-}" ] || [[ " $SCENARIOS " == *" $1 "* ]]; }
want 1 && run_scenario "1 one client" s1_one_client
want 2 && run_scenario "2 two clients, same Call ID" s2_two_clients
want 2 && run_scenario "2 eight clients, same Call ID" s2_eight_clients
want 3 && run_scenario "3 teardown" s3_teardown
want 4 && run_scenario "4 refined policy" s4_refined_policy
want 5 && run_scenario "5 ALG off (the tunnel must fail)" s5_alg_off
want 6 && run_scenario "6 background TCP/UDP" s6_background
want 7 && run_scenario "7 two calls on one control connection" s7_two_calls
summary "pptp_scenarios ($ROUTER)"
