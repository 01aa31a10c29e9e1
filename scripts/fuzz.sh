#!/usr/bin/env bash
# Runs the fuzz targets under libFuzzer, each for SECONDS (default 60):
#   packet_views  every packet view on arbitrary frames, representations round-trip
#   pptp_stream   two PPTP control connections cut, reordered and repeated at will:
#                 bytes that leave twice leave alike, no client Call ID reaches the
#                 server, nothing is left after the connections end
#   pipeline      frames on both sides of the whole appliance with a moving clock: every
#                 frame forwarded, answered or counted, nothing left after the timeouts
# The invariants live in fuzz/src (the harnesses), which the workspace's tests also run
# over fuzz/corpus and fuzz/regressions. New inputs go to $FUZZ_WORK (default
# /var/tmp/ferrowall-fuzz), so CPU time adds up across runs on one machine; a crash is
# saved in fuzz/artifacts/TARGET/: copy it to fuzz/regressions/TARGET/ and fix it. The
# fuzz build has its own target directory there too, so it never waits on another build.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (needs rustup's nightly toolchain)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
TARGETS=("${@:-packet_views pptp_stream pipeline}")
read -r -a TARGETS <<< "${TARGETS[*]}"
WORK=${FUZZ_WORK:-/var/tmp/ferrowall-fuzz}

scripts/setup.sh >/dev/null
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz

for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/$t"
  echo "== $t: ${SECS} s"
  cargo +nightly fuzz run --target-dir "$WORK/target" --features libfuzzer "$t" "$WORK/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
    grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|ERROR|panicked|SUMMARY|Test unit written|artifact_prefix" || true
  if ls fuzz/artifacts/"$t"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $t crashed; inputs in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
