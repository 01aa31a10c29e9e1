#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and property tests, DPDK vdev tests,
# config errors, the deployment helpers and the Debian package (built, installed, run,
# purged), a smoke run of the benchmark suite, then the live lab in network namespaces.
# Installs what is missing first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# The README's test command tests this checkout, all of it: whatever the caller's
# environment says about another binary, a router to compare with or a subset of the
# scenarios does not apply here.
unset FW_BIN ROUTER SCENARIOS LAB_PREFIX KEEP

T0=$(date +%s)
LAST=""
step() {
  local now; now=$(date +%s)
  [ -z "$LAST" ] || printf '   (%d s)\n' $((now - LAST))
  LAST=$now
  printf '\n== %s\n' "$*"
}

step "setup"
scripts/setup.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -q -- -D warnings
python3 scripts/module_cycles.py wire dpdk dataplane ctrlplane

step "wire without DPDK"
scripts/wire_alone.sh

step "unit, property, DPDK and config tests"
CARGO_LOG=$(mktemp /tmp/ferrowall-cargo-test.XXXXXX.log)
trap 'rm -f "$CARGO_LOG"' EXIT
cargo test --release --workspace 2>&1 | tee "$CARGO_LOG"
grep -q "test result: FAILED" "$CARGO_LOG" && exit 1

step "deployment: helpers' dry runs, the Debian package and the container image's steps"
# Builds the package through docker/steps.sh, installs it with apt on this machine,
# checks and runs what it installed, and purges it.
bash tests/packaging/helpers.sh
bash tests/packaging/package.sh

step "benchmark suite, smoke run"
# Every scenario for seconds, its report and plot into a scratch directory: the suite
# cannot rot unnoticed. Figures from this run mean nothing.
scripts/bench.sh --smoke
# And the per-stage profile of a real worker under callgrind (seconds of it).
scripts/profile.sh --smoke

step "live lab"
cargo build --release -q -p ctrlplane
lab_failed=0
for t in tests/lab/l3_forwarding.sh tests/lab/nat_policy.sh tests/lab/control_plane.sh tests/lab/pptp_scenarios.sh; do
  bash "$t" || lab_failed=1
done
[ "$lab_failed" = 0 ] || { echo "lab: FAILED"; exit 1; }
step "done"
echo "all tests passed in $(( $(date +%s) - T0 )) s"
