#!/usr/bin/env bash
# Soak: ferrowall in the live lab under churn for DURATION seconds (default 600), then
# quiet until every timeout has passed; memory and tables must come back to where they
# were. The load, all at once, each a loop until the deadline:
#   - TCP churn: client 1 opens, fills (64 KiB) and closes a connection after another;
#   - PPTP: client 2 sets up a tunnel (lab PNS and PAC, tests/lab/pptp_peer.py), sends
#     20 GRE packets through it and tears it down, again and again;
#   - UDP: client 3 sends datagrams from ever new ports.
# Every SAMPLE seconds (default 10): ferrowall's RSS, mbufs in use, sessions, server-map
# entries, PPTP calls and connections, forwarded packets and drops (CSV in $SOAK_CSV,
# default /tmp/ferrowall-soak.csv). Verdict: RSS flat (the last half's peak within 2% +
# 2 MiB of the first half's), mbufs in use back to the start, no session, entry or call
# left after the quiet period, ferrowall alive throughout.
#
# Usage: scripts/soak.sh [DURATION] [SAMPLE]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-600}
SAMPLE=${2:-10}
CSV=${SOAK_CSV:-/tmp/ferrowall-soak.csv}
export LAB_PREFIX=fwsoak$$
. "$ROOT/tests/lab/lib.sh"
WORK=$(mktemp -d /tmp/ferrowall-soak.XXXXXX)
PIDS=()
cleanup() {
  touch "$WORK/stop"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  lab_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

"$ROOT/scripts/setup.sh" >/dev/null
cargo build --release -q -p ctrlplane
"$ROOT/scripts/lab.sh" up 3 >/dev/null
ip netns exec "$LAB_PREFIX-srv" ip addr add 203.0.113.3/24 dev eth0
# The control-plane lab's config with short timeouts, so the quiet period is short.
lab_config "$ROOT/tests/lab/control.toml" >"$WORK/ferrowall.toml"
cat >>"$WORK/ferrowall.toml" <<'CONF'

[timeouts]
tcp = 60
tcp_fin_rst = 5
udp = 15
gre = 30
CONF
sed -i 's/^session_events = true/session_events = false/' "$WORK/ferrowall.toml"
sed -i 's/^\[alg.pptp\]/[alg.pptp]\nserver_map_timeout = 60/' "$WORK/ferrowall.toml"
fw_start "$WORK/ferrowall.toml" || exit 1
ns() { ip netns exec "$LAB_PREFIX-$1" "${@:2}"; }
# metric NAME [PART]: the sum of NAME's samples (those whose labels contain PART).
metric() {
  ns fw curl -sf http://127.0.0.1:9469/metrics |
    awk -v m="$1" -v p="${2:-}" 'index($1, m) == 1 && index($1, p) > 0 {s += $2} END {print s + 0}'
}
PEER="$ROOT/tests/lab/peer.py"

ns srv python3 "$PEER" tcp-serve 203.0.113.1 5001 100000000 >/dev/null 2>&1 & PIDS+=($!)
ns srv python3 "$PEER" udp-serve 203.0.113.1 5353 100000000 >/dev/null 2>&1 & PIDS+=($!)
ns srv python3 "$ROOT/tests/lab/pptp_peer.py" server 203.0.113.3 256 100000000 >/dev/null 2>&1 & PIDS+=($!)
wait_until 10 ns srv ss -ltn sport = :5001 -H | grep -q 5001
wait_until 10 ns srv ss -ltn sport = :1723 -H | grep -q 1723

loop() { # NAME COMMAND...: runs COMMAND until the stop file appears, counting
  local name=$1 ok=0 bad=0; shift
  while [ ! -e "$WORK/stop" ]; do
    if "$@" >"$WORK/$name.out" 2>&1; then ok=$((ok + 1)); else bad=$((bad + 1)); cp "$WORK/$name.out" "$WORK/$name.err"; fi
    echo "$ok $bad" >"$WORK/$name.count"
  done
}
loop tcp ns c1 timeout 20 python3 "$PEER" tcp-send 203.0.113.1 5001 65536 & PIDS+=($!)
loop pptp ns c2 timeout 20 python3 "$ROOT/tests/lab/pptp_peer.py" client 203.0.113.3 192.168.1.2 4660 20 & PIDS+=($!)
loop udp ns c3 timeout 5 python3 "$PEER" udp-send 203.0.113.1 5353 3 & PIDS+=($!)

sample() {
  local rss; rss=$(ps -o rss= -p "$FW_PID" 2>/dev/null | tr -d ' ')
  echo "$1,${rss:-0},$(metric ferrowall_mempool_mbufs_in_use),$(metric 'ferrowall_sessions{'),$(metric ferrowall_server_map_entries),$(metric ferrowall_pptp_calls),$(metric ferrowall_pptp_connections),$(metric ferrowall_core_packets_total 'outcome="forwarded"'),$(metric ferrowall_dropped_packets_total)"
}
echo "t,rss_kib,mbufs_in_use,sessions,server_map_entries,pptp_calls,pptp_connections,forwarded,dropped" >"$CSV"
START=$(date +%s)
sample 0 >>"$CSV"
BASE_MBUFS=$(tail -1 "$CSV" | cut -d, -f3)
while [ $(( $(date +%s) - START )) -lt "$DURATION" ]; do
  sleep "$SAMPLE"
  kill -0 "$FW_PID" 2>/dev/null || { echo "soak: ferrowall died"; cat "$FW_LOG"; exit 1; }
  sample $(( $(date +%s) - START )) >>"$CSV"
done
touch "$WORK/stop"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=()
# Quiet: every timeout (60 s at most here, and the ALG's 60 s) passes.
QUIET_END=$(( $(date +%s) + 75 ))
while [ "$(date +%s)" -lt "$QUIET_END" ]; do sleep "$SAMPLE"; sample $(( $(date +%s) - START )) >>"$CSV"; done
LAST=$(tail -1 "$CSV")
DROPS=$(ns fw curl -sf http://127.0.0.1:9469/metrics |
  awk -F'[{}" ]+' '/^ferrowall_dropped_packets_total\{/ && $NF > 0 {printf "%s %s, ", $3, $NF}')

echo "soak: $DURATION s of load, then 75 s quiet; samples every $SAMPLE s in $CSV"
echo "  drops by reason: ${DROPS:-none}"
for n in tcp pptp udp; do
  echo "  $n: $(cut -d' ' -f1 "$WORK/$n.count") done, $(cut -d' ' -f2 "$WORK/$n.count") failed"
  [ -e "$WORK/$n.err" ] && sed 's/^/      last failure: /' "$WORK/$n.err" | tail -3
done
python3 - "$CSV" "$DURATION" "$BASE_MBUFS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
dur, base_mbufs = int(sys.argv[2]), int(sys.argv[3])
load = [r for r in rows if int(r["t"]) <= dur]
half = len(load) // 2
first = max(int(r["rss_kib"]) for r in load[1:half + 1] or load)
last = max(int(r["rss_kib"]) for r in load[half + 1:] or load)
peak = {k: max(int(r[k]) for r in load) for k in ("sessions", "server_map_entries", "pptp_calls", "mbufs_in_use")}
end = rows[-1]
print(f"  RSS: first half peak {first} KiB, second half peak {last} KiB")
print(f"  under load, peaks: " + ", ".join(f"{k} {v}" for k, v in peak.items()))
print(f"  after the quiet period: sessions {end['sessions']}, server-map entries {end['server_map_entries']}, "
      f"calls {end['pptp_calls']}, connections {end['pptp_connections']}, mbufs in use {end['mbufs_in_use']} (start {base_mbufs})")
print(f"  forwarded {end['forwarded']}, dropped {end['dropped']}")
bad = []
if last > first * 1.02 + 2048:
    bad.append("RSS grew")
if int(end["mbufs_in_use"]) > base_mbufs + 64:
    bad.append("mbufs not back")
if any(int(end[k]) != 0 for k in ("sessions", "server_map_entries", "pptp_calls", "pptp_connections")):
    bad.append("state left")
print("soak: " + ("FAILED: " + ", ".join(bad) if bad else "passed"))
sys.exit(1 if bad else 0)
PY
