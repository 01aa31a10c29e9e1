#!/usr/bin/env bash
# Where a worker's instructions go, per packet and by stage, on a real EAL: ferrowall
# runs under callgrind on the benchmark's nat-1k setup (1,000 established NATed UDP
# flows replayed from memory by net_pcap into net_null, one worker) for SECONDS, and
# scripts/profile_report.py splits the instructions per packet between the PMDs' RX
# and TX, the read-ahead stage, the pipeline and its steps. Instruction counts do not
# move with the machine's load as rates do: two builds compare exactly.
#
# Usage: scripts/profile.sh [--smoke] [SECONDS]   (default 30; --smoke: 3 s, checks that
#        the report comes out)
# Needs valgrind (installed by scripts/setup.sh profile). No hugepages: EAL runs on
# ordinary memory (--no-huge), which callgrind can follow. PROFILE_KEEP=FILE keeps the
# callgrind output (for callgrind_annotate --auto=yes FILE, instructions by line).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=30
case "${1:-}" in
  --smoke) SECS=3 ;;
  "") ;;
  *) SECS=$1 ;;
esac
command -v valgrind >/dev/null || scripts/setup.sh profile
cargo build --release -q -p ctrlplane

WORK=$(mktemp -d /tmp/ferrowall-profile.XXXXXX)
trap '[ -n "${PROFILE_DEBUG:-}" ] || rm -rf "$WORK"' EXIT
python3 scripts/gen_pcap.py udp "$WORK/nat.pcap" --dst-mac 02:70:63:61:70:00 --flows 1000 >/dev/null
sed -e "s|@PCAP@|$WORK/nat.pcap|" -e 's|@EAL_MEM@|"--no-huge", "-m", "128"|' -e "s|@MBUFS@|16383|" \
  -e "s|@SESSIONS@|4096|" -e "s|@POOL@|198.51.100.10-198.51.100.13|" \
  -e "s|\"--file-prefix\", \"bench-fw\"|\"--file-prefix\", \"profile-$$\"|" bench/nat.toml >"$WORK/nat.toml"

echo "profile: nat-1k under callgrind for $SECS s once running (about 100 times slower than native)"
valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$WORK/callgrind.out" \
  target/release/ferrowall --config "$WORK/nat.toml" --stats-interval 3600 >"$WORK/fw.log" 2>&1 &
pid=$!
# EAL's start takes seconds under valgrind: the time counts from ferrowall's "running".
for _ in $(seq 1 240); do
  grep -q "ferrowall running" "$WORK/fw.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
sleep "$SECS"
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || true
if ! grep -q "^packets: rx" "$WORK/fw.log"; then
  echo "profile: ferrowall did not run to its exit report:" >&2
  tail -20 "$WORK/fw.log" >&2
  exit 1
fi
python3 scripts/profile_report.py "$WORK/callgrind.out"
if [ -n "${PROFILE_KEEP:-}" ]; then cp "$WORK/callgrind.out" "$PROFILE_KEEP"; fi
