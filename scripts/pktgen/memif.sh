#!/usr/bin/env bash
# Runs the Pktgen-DPDK profiles against ferrowall over net_memif on one machine: ferrowall
# with its two ports as memif servers (memif.toml), pktgen as the client on both. What
# it prints is INDICATIVE ONLY: on a 2-core machine pktgen's two busy-polling lcores
# share CPU 0 with ferrowall's main lcore, and memif copies every frame; the figures say
# that the profiles run and what crosses, not what a server with NICs forwards
# (docs/benchmarking.md tells how to run them there).
#
# Usage: scripts/pktgen/memif.sh [SECONDS] [PROFILE...]   (default 10 s, nat-udp gre-pool)
# Skips, saying so, when pktgen is not built (scripts/pktgen/build.sh builds it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${1:-10}
shift $(( $# > 0 ? 1 : 0 ))
PROFILES=("${@:-nat-udp gre-pool}")
read -r -a PROFILES <<< "${PROFILES[*]}"
PKTGEN=${PKTGEN:-$ROOT/target/pktgen/build/app/pktgen}
if [ ! -x "$PKTGEN" ]; then
  echo "pktgen-memif: SKIPPED: no pktgen at $PKTGEN (scripts/pktgen/build.sh builds it)"
  exit 0
fi
cargo build --release -q -p ctrlplane

WORK=$(mktemp -d /tmp/ferrowall-pktgen.XXXXXX)
HUGE_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
FW=""; PG=""
cleanup() {
  [ -z "$PG" ] || kill -INT "$PG" 2>/dev/null || true
  [ -z "$FW" ] || kill -INT "$FW" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
  echo "$HUGE_BEFORE" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
}
trap cleanup EXIT
# Pktgen takes about 1.3 GB per port (its pools are sized at compile time).
scripts/hugepages.sh 2560 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {printf "%d\n", (NR == 0 ? 0 : NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "Pktgen-DPDK $(cat "$ROOT/target/pktgen/src/VERSION" 2>/dev/null || echo '?') over net_memif, ${SECS} s per profile; INDICATIVE ONLY on $(nproc) cores"
for profile in "${PROFILES[@]}"; do
  pkt=scripts/pktgen/$profile.pkt
  [ -f "$pkt" ] || { echo "pktgen-memif: no profile $pkt" >&2; exit 2; }
  pcap_arg=()
  if [ "$profile" = gre-pool ]; then
    python3 scripts/gen_pcap.py gre "$WORK/gre-pool.pcap" --dst-mac 02:fe:00:00:00:02 --src-mac 02:fe:00:00:01:02 \
      --server 198.18.0.7 --public 198.51.100.10 --call-ids 1-4096
    pcap_arg=(-s "1:$WORK/gre-pool.pcap")
  fi
  sed -e "s|@SOCKETS@|$WORK|" -e 's|@EAL_MEM@|"-m", "1024"|' scripts/pktgen/memif.toml >"$WORK/fw.toml"
  target/release/ferrowall --config "$WORK/fw.toml" --stats-interval 1 >"$WORK/fw.log" 2>&1 &
  FW=$!
  for _ in $(seq 1 50); do grep -q "ferrowall running" "$WORK/fw.log" && break; sleep 0.2; done
  grep -q "ferrowall running" "$WORK/fw.log" || { cat "$WORK/fw.log" >&2; exit 1; }
  # The profile between a pause for memif to connect (pktgen computes its rate from the
  # link speed, which memif reports only once connected) and a timed stop.
  { echo "delay 3000"; grep -v '^#' "$pkt"; echo "sleep $SECS"; echo "stop all"; echo "delay 2000"; echo "quit"; } >"$WORK/run.pkt"
  timeout -s KILL $((SECS + 40)) "$PKTGEN" --lcores '0@0,1@0' --no-pci --file-prefix pktgen-pg \
    --log-level lib.eal:error \
    --vdev "net_memif0,role=client,id=0,socket=$WORK/inside.sock,mac=02:fe:00:00:01:01" \
    --vdev "net_memif1,role=client,id=0,socket=$WORK/outside.sock,mac=02:fe:00:00:01:02" \
    -- -m "1.[0-1]" "${pcap_arg[@]}" -f "$WORK/run.pkt" </dev/null >"$WORK/pktgen.out" 2>&1 &
  PG=$!
  wait "$PG" || { echo "pktgen-memif: pktgen failed or hung; its last words:" >&2; tail -c 2000 "$WORK/pktgen.out" | tr -d '\033' >&2; exit 1; }
  PG=""
  kill -INT "$FW"; wait "$FW" || true; FW=""
  stats=$(grep -a '^pktgen-port-stats' "$WORK/pktgen.out" || true)
  [ -n "$stats" ] || { echo "pktgen-memif: pktgen printed no port counters" >&2; tail -c 2000 "$WORK/pktgen.out" >&2; exit 1; }
  sent0=$(echo "$stats" | sed -n 's/.*port=0 .*opackets=\([0-9]*\).*/\1/p')
  sent1=$(echo "$stats" | sed -n 's/.*port=1 .*opackets=\([0-9]*\).*/\1/p')
  got1=$(echo "$stats" | sed -n 's/.*port=1 ipackets=\([0-9]*\).*/\1/p')
  got0=$(echo "$stats" | sed -n 's/.*port=0 ipackets=\([0-9]*\).*/\1/p')
  # ferrowall's rate while pktgen sent: its per-second lines with traffic in them.
  rx=$(grep -a '^rate:' "$WORK/fw.log" | awk '$3 > 0 {print $3}' | median)
  fwd=$(grep -a '^rate:' "$WORK/fw.log" | awk '$3 > 0 {print $6}' | median)
  drops=$(awk '$1 == "drop" {n[$2] = $3} END {for (r in n) printf "%s %d, ", r, n[r]}' "$WORK/fw.log")
  printf '%-9s pktgen sent %s (port 0) + %s (port 1) frames, received %s (port 1) + %s (port 0)\n' \
    "$profile" "$sent0" "$sent1" "$got1" "$got0"
  printf '%-9s ferrowall: received %s pps, forwarded %s pps (medians of the seconds with traffic); dropped: %s\n' \
    "$profile" "$rx" "$fwd" "${drops:-none}"
done
