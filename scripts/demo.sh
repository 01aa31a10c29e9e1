#!/usr/bin/env bash
# The main job on the built-in default config: ferrowall between lab namespaces.
# Builds, brings up the lab, starts the appliance, sends a ping and a TCP transfer across
# it, shows its counters, and tears everything down.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LAB_PREFIX=fwl
BIN=$ROOT/target/release/ferrowall
FW_PID=""
LOG=$(mktemp /tmp/ferrowall-demo.XXXXXX.log)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; [ ! -s "$LOG" ] || { echo "--- ferrowall log"; cat "$LOG"; } >&2; exit 1; }
cleanup() {
  [ -z "$FW_PID" ] || kill -KILL "$FW_PID" 2>/dev/null || true
  scripts/lab.sh down
  rm -f "$LOG"
}
trap cleanup EXIT

step "install what is missing, build"
scripts/setup.sh
cargo build --release -q -p ctrlplane || die "build failed"

step "lab: client 192.168.1.1 -- [ferrowall 192.168.1.254 | 203.0.113.2] -- server 203.0.113.1"
LAB_SERVER_ROUTE=1 scripts/lab.sh up 1   # the server may route to the inside: the policy, not routing, keeps it out

step "start ferrowall (built-in default config) in namespace $LAB_PREFIX-fw"
ip netns exec "$LAB_PREFIX-fw" "$BIN" >"$LOG" 2>&1 &
FW_PID=$!
for _ in $(seq 1 100); do grep -q "ferrowall running" "$LOG" && break; kill -0 "$FW_PID" 2>/dev/null || die "ferrowall exited"; sleep 0.2; done
grep -q "ferrowall running" "$LOG" || die "ferrowall did not start"
grep "port up" "$LOG" | sed 's/^.*INFO //'

step "ping the server through the appliance"
ip netns exec "$LAB_PREFIX-c1" ping -c 4 -i 0.3 203.0.113.1 || die "ping failed"

step "TCP transfer of 8 MiB to the server (it sees the client as 203.0.113.2: easy-IP NAT)"
ip netns exec "$LAB_PREFIX-srv" python3 tests/lab/peer.py tcp-serve 203.0.113.1 5001 &
sleep 0.5
start=$(date +%s.%N)
ip netns exec "$LAB_PREFIX-c1" python3 tests/lab/peer.py tcp-send 203.0.113.1 5001 8388608 || die "transfer failed"
end=$(date +%s.%N)
python3 -c "print(f'  {8*8/($end-$start):.0f} Mbit/s over af_packet veths')"

step "ping from the server to the client: unsolicited, dropped by the security policy"
if ip netns exec "$LAB_PREFIX-srv" ping -c 2 -W 1 192.168.1.1; then die "unsolicited ping got through"; fi

step "display firewall session-table (SIGUSR1)"
kill -USR1 "$FW_PID"
sleep 0.5
sed -n '/^display firewall session-table/,/^[^ d]/p' "$LOG" | grep -v '^packets:'

step "stop ferrowall (SIGTERM) and show its counters"
kill -TERM "$FW_PID"
wait "$FW_PID" || die "ferrowall exited with an error"
FW_PID=""
grep -v "^\S*Z *INFO\|^\S* *INFO" "$LOG" | sed -n '/^packets:/,$p' | tail -n 20

step "tear down"
