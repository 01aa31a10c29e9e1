#!/usr/bin/env bash
# The main job on the built-in default config: ferrowall between lab namespaces, with
# two real PPTP clients (pptp-linux) that pick the same Call ID, a real PPTP server
# (pptpd), and a TCP transfer beside them. Shows the session table, the server map and
# a few metrics while the tunnels carry data, then tears everything down.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LAB_PREFIX=fwl
FW_BIN=$ROOT/target/release/ferrowall
. tests/lab/lib.sh
WORK=$(mktemp -d /tmp/ferrowall-demo.XXXXXX)
FWCTL=$ROOT/target/release/fwctl
T0=$(date +%s)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
  echo "demo: $*" >&2
  [ -z "$FW_LOG" ] || [ ! -s "$FW_LOG" ] || { echo "--- ferrowall log (last lines)"; tail -20 "$FW_LOG"; } >&2
  exit 1
}
cleanup() {
  pptpd_stop
  lab_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT
c() { ip netns exec "$LAB_PREFIX-c$1" "${@:2}"; }
srv() { ip netns exec "$LAB_PREFIX-srv" "$@"; }

step "install what is missing, build"
scripts/setup.sh
cargo build --release -q -p ctrlplane || die "build failed"

step "lab: clients 192.168.1.1 and .2 -- [ferrowall 192.168.1.254 | 203.0.113.2] -- server 203.0.113.1"
scripts/lab.sh up 2 || die "lab set-up failed"
pptpd_start "$WORK/pptpd" || die "pptpd did not start"
echo "pptpd (a real PPTP server) listens on 203.0.113.1:1723"

step "start ferrowall (built-in default config: NAT to 203.0.113.2, PPTP ALG between trust and untrust)"
FW_LOG=$WORK/ferrowall.log
ip netns exec "$LAB_PREFIX-fw" "$FW_BIN" >"$FW_LOG" 2>&1 &
FW_PID=$!
for _ in $(seq 1 100); do grep -q "ferrowall running" "$FW_LOG" && break; kill -0 "$FW_PID" 2>/dev/null || die "ferrowall exited"; sleep 0.2; done
grep -q "ferrowall running" "$FW_LOG" || die "ferrowall did not start"
grep -E "port up|API listening|metrics at" "$FW_LOG" | sed 's/^.*INFO [a-z_:]*: //'

step "two PPTP clients with the same Call ID (4660), and 16 MiB of TCP beside them"
srv python3 tests/lab/peer.py tcp-serve 203.0.113.1 5001 >/dev/null 2>&1 &
sleep 0.3
for n in 1 2; do
  c "$n" python3 tests/lab/pptp_client.py 203.0.113.1 "192.168.1.$n" --call-id 1234 --hold 6 \
    --log "$WORK/pptp.$n.log" >"$WORK/client.$n" 2>&1 &
  eval "CLIENT_$n=\$!"
done
c 1 python3 tests/lab/peer.py tcp-send 203.0.113.1 5001 16777216 >"$WORK/tcp.out" 2>&1 || die "TCP transfer failed: $(cat "$WORK/tcp.out")"
echo "TCP: $(cat "$WORK/tcp.out")"
sleep 3

step "fwctl display firewall session-table"
"$FWCTL" display firewall session-table || die "fwctl failed"
step "fwctl display firewall server-map"
"$FWCTL" display firewall server-map

step "a few lines of /metrics"
ip netns exec "$LAB_PREFIX-fw" curl -sf http://127.0.0.1:9469/metrics \
  | grep -E '^ferrowall_(sessions\{protocol="pptp|server_map_entries|pptp_call_ids_in_use|alg_messages_total\{.*client_to_server.*type="ocrq"|dropped_packets_total\{reason="gre_no_session")' \
  || die "metrics unavailable"

step "the tunnels (each sends 200 LCP echoes through the tunnel and counts the replies)"
ok_all=1
for n in 1 2; do
  eval "wait \$CLIENT_$n" || ok_all=0
  echo "client 192.168.1.$n: $(cat "$WORK/client.$n")"
done
[ "$ok_all" = 1 ] || die "a tunnel failed"

step "clients gone: the ALG's state goes with them"
sleep 1
"$FWCTL" display nat statistics | grep -E "PPTP|messages"

step "stop ferrowall (SIGTERM)"
fw_stop || die "ferrowall exited with an error"
grep -E "pptp call (up|down)" "$FW_LOG" | sed 's/^.*ferrowall::event: /event: /'
sed -n '/^packets:/,/^slow path/p' "$FW_LOG" | tail -n 8
echo
echo "demo done in $(( $(date +%s) - T0 )) s"
