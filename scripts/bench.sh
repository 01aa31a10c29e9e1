#!/usr/bin/env bash
# Forwarding rate of ferrowall against dpdk-testpmd io forwarding, same vdevs, same run:
# a 64-byte UDP pcap replayed from memory (net_pcap infinite_rx) into net_null.
# Both use lcore 0 on CPU 0 (control) and one forwarding core on CPU 1.
#
# Usage: scripts/bench.sh [ROUNDS] [SECONDS]    (default 3 rounds of 10 s; medians)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=${1:-3}
SECS=${2:-10}
WORK=$(mktemp -d /tmp/ferrowall-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

scripts/setup.sh >/dev/null
cargo build --release -q -p ctrlplane

if scripts/hugepages.sh 1024 >/dev/null 2>&1; then
  MEM='"--in-memory", "-m", "512"'; MEM_ARGS=(--in-memory -m 512); PAGES="2 MiB hugepages"
else
  MEM='"--no-huge", "-m", "1024"'; MEM_ARGS=(--no-huge -m 1024); PAGES="no hugepages"
fi

# net_pcap names its first port's MAC 02:70:63:61:70:00 ("pcap"), and cannot change it.
PCAP=$WORK/udp64.pcap
python3 scripts/gen_pcap.py udp "$PCAP" --dst-mac 02:70:63:61:70:00 --flows 1024
sed -e "s|@PCAP@|$PCAP|" -e "s|@EAL_MEM@|$MEM|" bench/l3.toml > "$WORK/l3.toml"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Median of the per-second Tx-pps of port 1 (net_null), warm-up seconds skipped.
testpmd_rate() {
  timeout -s INT "$SECS" dpdk-testpmd -l 0,1 --no-pci "${MEM_ARGS[@]}" --file-prefix bench-tp \
    --log-level lib.eal:error \
    --vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
    --forward-mode=io --auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs 16384 \
    >"$WORK/testpmd.log" 2>&1 || true
  python3 - "$WORK/testpmd.log" <<'PY'
import re, sys, statistics
text = open(sys.argv[1], errors="replace").read()
blocks = re.findall(r"NIC statistics for port 1.*?Tx-pps:\s+(\d+)", text, re.S)
rates = [int(x) for x in blocks][2:]
print(int(statistics.median(rates)) if rates else 0)
PY
}

ferrowall_rate() {
  timeout -s INT "$SECS" target/release/ferrowall --config "$WORK/l3.toml" --stats-interval 1 \
    >"$WORK/fw.log" 2>&1 || true
  grep -a '^rate:' "$WORK/fw.log" | awk '{print $6}' | tail -n +3 | median
}

echo "L3 forwarding, 64-byte UDP, net_pcap(infinite_rx) -> net_null, 1 forwarding core, $PAGES"
tp_all=(); fw_all=()
for r in $(seq 1 "$ROUNDS"); do
  tp=$(testpmd_rate); fw=$(ferrowall_rate)
  printf 'round %d: testpmd io %8.2f Mpps   ferrowall %8.2f Mpps\n' "$r" "$(echo "$tp/1000000" | bc -l)" "$(echo "$fw/1000000" | bc -l)"
  tp_all+=("$tp"); fw_all+=("$fw")
done
tp=$(printf '%s\n' "${tp_all[@]}" | median); fw=$(printf '%s\n' "${fw_all[@]}" | median)
printf 'median:  testpmd io %8.2f Mpps   ferrowall %8.2f Mpps   ratio %.2f\n' \
  "$(echo "$tp/1000000" | bc -l)" "$(echo "$fw/1000000" | bc -l)" "$(echo "$fw/$tp" | bc -l)"
