#!/usr/bin/env bash
# Forwarding rates of ferrowall against dpdk-testpmd io forwarding, same vdevs, same run:
# 64-byte UDP replayed from memory (net_pcap infinite_rx) into net_null. Both use lcore 0
# on CPU 0 (control) and one forwarding core on CPU 1. Scenarios:
#   l3        routed only (a permit policy, no NAT), 1,024 flows
#   nat-1k    established NATed UDP flows, 1,000 sessions
#   nat-100k  established NATed UDP flows, 100,000 sessions
#   gre       PPTP GRE from the server through its server-map (pptp-gre) session: a
#             control connection is played up to its OCRQ through five one-frame ports
#             (so its steps arrive in order), probe runs learn its NAT port and the Call
#             ID the ALG translates the client's to, then the server's GRE to it is
#             replayed (1,024 frames, one tunnel)
#   ctl-cost  nat-100k with and without the control plane at work: a Prometheus scrape
#             every second and full session-table displays (100,000 sessions) back to
#             back, through the management API, both pinned to CPU 0
#   gre-flood PPTP GRE as in gre, while a seventh port floods the tunnel's control
#             connection with Echo-Requests (1,024, looped: every one goes through the
#             ALG on the slow path); the tunnel's rate against gre's is the cost
#   flood-none, flood-syn, flood-gre, flood-frag
#             established NATed UDP (1,000 flows) with and while a flood arrives on a
#             port of its own: SYNs from 250 inside hosts to 32,768 servers (the
#             half-open cap holds), enhanced GRE with random keys at the NAT pool, non-
#             first IPv4 fragments at it. Reports the established flows' rate (what
#             leaves the outside port) and what the flood cost (BENCH_FLOODS below)
#   alg-setup tunnel set-ups per second on the slow path (OCRQ + OCRP with server-map
#             installation), without EAL: cargo bench -p dataplane --bench alg_setup
#
# Usage: scripts/bench.sh [ROUNDS] [SECONDS] [SCENARIO...]   (default 3 rounds of 10 s, all)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=${1:-3}
SECS=${2:-10}
shift $(( $# > 2 ? 2 : $# ))
SCENARIOS=("${@:-l3 nat-1k nat-100k gre ctl-cost alg-setup}")
read -r -a SCENARIOS <<< "${SCENARIOS[*]}"
WORK=$(mktemp -d /tmp/ferrowall-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

scripts/setup.sh >/dev/null
cargo build --release -q -p ctrlplane

if scripts/hugepages.sh 1024 >/dev/null 2>&1; then
  MEM='"--in-memory", "-m", "1024"'; MEM_ARGS=(--in-memory -m 1024); PAGES="2 MiB hugepages"
else
  MEM='"--no-huge", "-m", "1024"'; MEM_ARGS=(--no-huge -m 1024); PAGES="no hugepages"
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mpps() { echo "$1" | awk '{printf "%.2f", $1/1e6}'; }

# Median of the per-second Tx-pps of port 1 (net_null), warm-up seconds skipped.
testpmd_rate() { # PCAP MBUFS
  timeout -s INT "$SECS" dpdk-testpmd -l 0,1 --no-pci "${MEM_ARGS[@]}" --file-prefix bench-tp \
    --log-level lib.eal:error \
    --vdev "net_pcap0,rx_pcap=$1,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
    --forward-mode=io --auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs "$2" \
    >"$WORK/testpmd.log" 2>&1 || true
  python3 - "$WORK/testpmd.log" <<'PY'
import re, sys, statistics
text = open(sys.argv[1], errors="replace").read()
rates = [int(x) for x in re.findall(r"NIC statistics for port 1.*?Tx-pps:\s+(\d+)", text, re.S)][2:]
print(int(statistics.median(rates)) if rates else 0)
PY
}

# The same, while the control plane works: scrapes every second, displays back to back.
ferrowall_rate_loaded() { # CONFIG
  timeout -s INT "$SECS" target/release/ferrowall --config "$1" --stats-interval 1 >"$WORK/fw.log" 2>&1 &
  local fw=$! displays=0 scrapes=0 lines=0 start last
  sleep 2
  start=$(date +%s.%N); last=0
  while kill -0 "$fw" 2>/dev/null; do
    if [ "$(date +%s)" != "$last" ]; then
      taskset -c 0 curl -sf http://127.0.0.1:9469/metrics >/dev/null && scrapes=$((scrapes + 1))
      last=$(date +%s)
    fi
    if taskset -c 0 target/release/fwctl --socket "$WORK/api.sock" display firewall session-table >"$WORK/display.txt" 2>/dev/null; then
      displays=$((displays + 1)); lines=$(grep -c . "$WORK/display.txt")
    fi
  done
  wait "$fw" || true
  echo "$displays $scrapes ${lines:-0} $(echo "$(date +%s.%N) $start $displays" | awk '{printf "%.2f", ($1-$2)/($3>0?$3:1)}')" >"$WORK/load.txt"
  grep -a '^rate:' "$WORK/fw.log" | awk '{print $6}' | tail -n +3 | median
}

# From the last run's exit counters: a port's TX packets per second over the run, and
# the drops per second by reason.
port_tx_rate() { # PORT
  awk -v p="$1" -v s="$SECS" '$1 == p {for (i=1;i<=NF;i++) if ($i == "tx") {print int($(i+1)/s); exit}}' "$WORK/fw.log"
}
drop_rates() {
  awk '$1 == "drop" {n[$2] = $3} END {for (r in n) printf "%s %d/s, ", r, n[r] / s}' s="$SECS" "$WORK/fw.log"
}

ferrowall_rate() { # CONFIG
  timeout -s INT "$SECS" target/release/ferrowall --config "$1" --stats-interval 1 >"$WORK/fw.log" 2>&1 || true
  grep -a '^rate:' "$WORK/fw.log" | awk '{print $6}' | tail -n +3 | median
}

# net_pcap names its first port's MAC 02:70:63:61:70:00 ("pcap") and cannot change it.
# The bench config fixes the seed of NAT ports and Call IDs ([bench] seed), so short
# probe runs with the same layout tell the control connection's NAT port (for the
# server's segments to reach it) and then the client's translated Call ID (for its GRE).
probe() { # port|call-id
  python3 scripts/gen_pcap.py gre "$WORK/gre-probe.pcap" --dst-mac 02:70:63:61:70:00 --call-id 1 --frames 1
  sed -e "s|@GRE@|$WORK/gre-probe.pcap|" -e "s|@CTRL@|$WORK|" -e "s|@EAL_MEM@|$MEM|" -e "s|@MBUFS@|32768|" \
    -e "s|@OUT_TX@|$WORK/probe-tx0.pcap|" -e "s|@OUT_TX2@|$WORK/probe-tx1.pcap|" bench/gre.toml > "$WORK/probe.toml"
  rm -f "$WORK"/probe-tx*.pcap
  timeout -s INT 3 target/release/ferrowall --config "$WORK/probe.toml" >"$WORK/probe.log" 2>&1 || true
  python3 - "$1" "$WORK"/probe-tx*.pcap <<'PY' || { cat "$WORK/probe.log" >&2; exit 1; }
import struct, sys
want = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    at = 24
    while at + 16 <= len(data):
        n = struct.unpack("<I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + n]
        at += 16 + n
        if frame[23] != 6:
            continue
        ihl = (frame[14] & 15) * 4
        tcp = frame[14 + ihl:]
        payload = tcp[(tcp[12] >> 4) * 4:]
        if want == "port" and tcp[13] == 0x02:
            print(struct.unpack("!H", tcp[0:2])[0])
            sys.exit(0)
        if want == "call-id" and payload[4:8] == b"\x1a\x2b\x3c\x4d" and payload[9] == 7:
            print(struct.unpack("!H", payload[12:14])[0])
            sys.exit(0)
sys.exit(f"probe: no {want} in what the appliance sent")
PY
}

prepare() { # SCENARIO -> sets PCAP CONFIG MBUFS
  local flows template sessions
  if [ "$1" = ctl-cost ]; then
    prepare nat-100k
    printf '\n[management]\nsocket = "%s"\n' "$WORK/api.sock" >>"$CONFIG"
    return
  fi
  if [ "$1" = gre-flood ]; then
    prepare gre
    CONFIG=$WORK/gre-flood.toml
    python3 scripts/gen_pcap.py pptp-echo-flood "$WORK/echo.pcap" --dst-mac 02:70:63:61:70:06
    cp "$WORK/gre.toml" "$CONFIG"
    printf '\n[[port]]\nname = "control-flood"\ndevice = "net_pcap6,rx_pcap=%s,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null"\nzone = "trust"\naddress = "10.0.6.254/24"\n' \
      "$WORK/echo.pcap" >>"$CONFIG"
    return
  fi
  if [ "$1" = gre ]; then
    PCAP=$WORK/gre.pcap; CONFIG=$WORK/gre.toml; MBUFS=36864
    python3 scripts/gen_pcap.py pptp-control "$WORK" --ports 1,2,3,4,5
    local port id; port=$(probe port)
    python3 scripts/gen_pcap.py pptp-control "$WORK" --ports 1,2,3,4,5 --public-port "$port"
    id=$(probe call-id)
    python3 scripts/gen_pcap.py gre "$PCAP" --dst-mac 02:70:63:61:70:00 --call-id "$id" --frames 1024
    sed -e "s|@GRE@|$PCAP|" -e "s|@CTRL@|$WORK|" -e "s|@EAL_MEM@|$MEM|" -e "s|@MBUFS@|$MBUFS|" \
      -e "s|@OUT_TX@|/dev/null|" -e "s|@OUT_TX2@|/dev/null|" bench/gre.toml > "$CONFIG"
    return
  fi
  if [[ "$1" == flood-* ]]; then
    PCAP=$WORK/flood-udp.pcap; CONFIG=$WORK/$1.toml; MBUFS=98304
    python3 scripts/gen_pcap.py udp "$PCAP" --dst-mac 02:70:63:61:70:00 --flows 1000
    local fin="net_null1,no-rx=1" fout="net_null2,no-rx=1"
    case "$1" in
      flood-none) ;;
      flood-syn) python3 scripts/gen_pcap.py flood syn "$WORK/flood.pcap" --dst-mac 02:70:63:61:70:01
        fin="net_pcap1,rx_pcap=$WORK/flood.pcap,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null" ;;
      flood-gre|flood-frag) python3 scripts/gen_pcap.py flood "${1#flood-}" "$WORK/flood.pcap" --dst-mac 02:70:63:61:70:01
        fout="net_pcap1,rx_pcap=$WORK/flood.pcap,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null" ;;
      *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
    sed -e "s|@PCAP@|$PCAP|" -e "s|@EAL_MEM@|$MEM|" -e "s|@MBUFS@|$MBUFS|" -e "s|@FLOOD_IN@|$fin|" \
      -e "s|@FLOOD_OUT@|$fout|" bench/flood.toml > "$CONFIG"
    return
  fi
  case "$1" in
    l3) flows=1024; template=bench/l3.toml; sessions=4096 ;;
    nat-1k) flows=1000; template=bench/nat.toml; sessions=4096 ;;
    nat-100k) flows=100000; template=bench/nat.toml; sessions=131072 ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
  PCAP=$WORK/$1.pcap
  CONFIG=$WORK/$1.toml
  MBUFS=$(( flows + 16384 ))
  python3 scripts/gen_pcap.py udp "$PCAP" --dst-mac 02:70:63:61:70:00 --flows "$flows"
  sed -e "s|@PCAP@|$PCAP|" -e "s|@EAL_MEM@|$MEM|" -e "s|@MBUFS@|$MBUFS|" -e "s|@SESSIONS@|$sessions|" \
    "$template" > "$CONFIG"
}

echo "64-byte UDP, net_pcap(infinite_rx) -> net_null, 1 forwarding core, $PAGES, medians of ${SECS}-s runs"
for sc in "${SCENARIOS[@]}"; do
  if [ "$sc" = alg-setup ]; then
    cargo bench -q -p dataplane --bench alg_setup 2>/dev/null | sed 's/^/alg-setup /'
    continue
  fi
  prepare "$sc"
  if [ "$sc" = gre-flood ]; then
    for variant in gre gre-flood; do
      v_all=()
      for r in $(seq 1 "$ROUNDS"); do
        ferrowall_rate "$WORK/$variant.toml" >/dev/null
        v=$(port_tx_rate inside)
        v_all+=("$v")
        drops=$(drop_rates)
        alg=$(awk '$1 == "slow" && $2 == "path:" {print $0}' "$WORK/fw.log" | tail -1)
        printf '%-10s round %d: tunnel %7s Mpps; drops: %s %s\n' "$variant" "$r" "$(mpps "$v")" "${drops:-none}" "$alg"
      done
      med=$(printf '%s\n' "${v_all[@]}" | median)
      [ "$variant" = gre ] && GRE_BASE=$med
      printf '%-10s median : tunnel %7s Mpps, %s of gre alone\n' "$variant" "$(mpps "$med")" \
        "$(echo "$med $GRE_BASE" | awk '{printf "%.2f", $1/$2}')"
    done
    continue
  fi
  if [[ "$sc" == flood-* ]]; then
    est_all=()
    for r in $(seq 1 "$ROUNDS"); do
      ferrowall_rate "$CONFIG" >/dev/null
      # The outside port's TX over the run: the established flows alone.
      est=$(port_tx_rate outside)
      est_all+=("$est")
      drops=$(drop_rates)
      printf '%-10s round %d: established %7s Mpps; flood drops: %s\n' "$sc" "$r" "$(mpps "$est")" "${drops:-none}"
    done
    est=$(printf '%s\n' "${est_all[@]}" | median)
    [ "$sc" = flood-none ] && FLOOD_BASE=$est
    printf '%-10s median : established %7s Mpps%s\n' "$sc" "$(mpps "$est")" \
      "$([ -n "${FLOOD_BASE:-}" ] && echo "$est ${FLOOD_BASE}" | awk '{printf ", %.2f of no flood", $1/$2}')"
    continue
  fi
  if [ "$sc" = ctl-cost ]; then
    quiet_all=(); busy_all=()
    for r in $(seq 1 "$ROUNDS"); do
      quiet=$(ferrowall_rate "$CONFIG"); busy=$(ferrowall_rate_loaded "$CONFIG")
      read -r displays scrapes lines each <"$WORK/load.txt"
      quiet_all+=("$quiet"); busy_all+=("$busy")
      printf '%-9s round %d: ferrowall %7s Mpps alone, %7s Mpps with %d scrapes and %d displays of %d lines (%s s each)\n' \
        "$sc" "$r" "$(mpps "$quiet")" "$(mpps "$busy")" "$scrapes" "$displays" "$lines" "$each"
    done
    quiet=$(printf '%s\n' "${quiet_all[@]}" | median); busy=$(printf '%s\n' "${busy_all[@]}" | median)
    printf '%-9s median : ferrowall %7s Mpps alone, %7s Mpps with the control plane at work, ratio %.3f\n' \
      "$sc" "$(mpps "$quiet")" "$(mpps "$busy")" "$(echo "$busy $quiet" | awk '{print $1/$2}')"
    continue
  fi
  tp_all=(); fw_all=()
  for r in $(seq 1 "$ROUNDS"); do
    tp=$(testpmd_rate "$PCAP" "$MBUFS"); fw=$(ferrowall_rate "$CONFIG")
    tp_all+=("$tp"); fw_all+=("$fw")
    printf '%-9s round %d: testpmd io %7s Mpps  ferrowall %7s Mpps\n' "$sc" "$r" "$(mpps "$tp")" "$(mpps "$fw")"
  done
  tp=$(printf '%s\n' "${tp_all[@]}" | median); fw=$(printf '%s\n' "${fw_all[@]}" | median)
  sessions=$(grep -a 'session tables' "$WORK/fw.log" | sed -n 's/.*bytes_per_session=\([0-9]*\).*/\1/p' | tail -1)
  printf '%-9s median : testpmd io %7s Mpps  ferrowall %7s Mpps  ratio %.2f  (%s bytes/session)\n' \
    "$sc" "$(mpps "$tp")" "$(mpps "$fw")" "$(echo "$fw $tp" | awk '{print $1/$2}')" "${sessions:-?}"
done
