# Shared by the lab tests: start/stop ferrowall in the appliance namespace, checks.
# Sourced; expects $ROOT (repository root) and $LAB_PREFIX.

FW_BIN=${FW_BIN:-$ROOT/target/release/ferrowall}
# Everything a run names is its own, so two runs on one machine never meet: namespaces
# ($LAB_PREFIX-*, the scripts default it to one with their PID), the EAL's file prefix
# and the API socket (under $RUN_DIR).
RUN_DIR=/run/ferrowall-$LAB_PREFIX
mkdir -p "$RUN_DIR"

# lab_config CONFIG: the lab config on stdout with this run's EAL file prefix and socket.
lab_config() {
  sed -e "s|\"--file-prefix\", \"fwt-|\"--file-prefix\", \"$LAB_PREFIX-|" \
    -e "s|/run/ferrowall-test/|$RUN_DIR/|" "$1"
}
FW_PID=""
FW_LOG=""
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }

# fw_start CONFIG [OPTION...]: starts ferrowall in $LAB_PREFIX-fw; waits until it
# reports running.
fw_start() {
  # One log at a time: a test that restarts ferrowall keeps only the current run's.
  [ -z "$FW_LOG" ] || rm -f "$FW_LOG"
  FW_LOG=$(mktemp /tmp/ferrowall-lab.XXXXXX.log)
  ip netns exec "$LAB_PREFIX-fw" "$FW_BIN" --config "$1" "${@:2}" >"$FW_LOG" 2>&1 &
  FW_PID=$!
  for _ in $(seq 1 100); do
    grep -q "ferrowall running" "$FW_LOG" && return 0
    kill -0 "$FW_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "ferrowall did not start:"; cat "$FW_LOG"
  return 1
}

# fw_stop: SIGTERM, wait (20 s at most: then a watchdog kills it, and the status is
# 137); returns ferrowall's exit status. Output stays in $FW_LOG.
fw_stop() {
  [ -n "$FW_PID" ] || return 0
  kill -TERM "$FW_PID" 2>/dev/null || true
  (sleep 20; kill -KILL "$FW_PID" 2>/dev/null) &
  local dog=$! rc=0
  wait "$FW_PID" || rc=$?
  kill "$dog" 2>/dev/null; wait "$dog" 2>/dev/null
  [ $rc != 137 ] || echo "ferrowall did not stop within 20 s of SIGTERM"
  FW_PID=""
  return $rc
}

lab_cleanup() {
  if [ -n "$FW_PID" ]; then kill -KILL "$FW_PID" 2>/dev/null || true; wait "$FW_PID" 2>/dev/null || true; fi
  "$ROOT/scripts/lab.sh" down
  [ -z "$FW_LOG" ] || rm -f "$FW_LOG"
  # This run's directory: configs, the API socket (ferrowall removes the socket itself).
  rm -rf "$RUN_DIR"
}

# fw_drops REASON: the running ferrowall's count of drops for REASON, from its API.
fw_drops() {
  "$ROOT/target/release/fwctl" --socket "$RUN_DIR/api.sock" --json display statistics |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["drops"][sys.argv[1]])' "$1"
}

summary() { echo "$1: $PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; }

# listening HOST tcp|udp PORT: whether something in the lab host HOST listens there.
listening() { ip netns exec "$LAB_PREFIX-$1" ss -H -ln"${2:0:1}" "sport = :$3" | grep -q .; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.05 s until it succeeds or the
# deadline passes (then returns 1). No fixed sleep decides a verdict.
wait_until() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# pptpd_start DIR: the real PPTP server (pptpd) in the server namespace on 203.0.113.1,
# with tests/lab/ppp_standin.py in place of pppd (no kernel PPP here).
PPTPD_PID=""
pptpd_start() {
  local dir=$1
  mkdir -p "$dir"
  : >"$dir/options"
  printf 'option %s\nlocalip 10.99.0.1\nremoteip 10.99.0.2-200\nconnections 50\n' "$dir/options" >"$dir/pptpd.conf"
  # Its own process group (setsid), so it and its pptpctrl children stop together.
  ip netns exec "$LAB_PREFIX-srv" setsid pptpd -f -c "$dir/pptpd.conf" -e "$ROOT/tests/lab/ppp_standin.py" \
    -p "$dir/pid" -l 203.0.113.1 >"$dir/log" 2>&1 &
  PPTPD_PID=$!
  for _ in $(seq 1 50); do
    ip netns exec "$LAB_PREFIX-srv" ss -ltn 2>/dev/null | grep -q ":1723 " && return 0
    sleep 0.1
  done
  return 1
}

pptpd_stop() {
  [ -n "$PPTPD_PID" ] || return 0
  kill -TERM -- "-$PPTPD_PID" 2>/dev/null || kill "$PPTPD_PID" 2>/dev/null
  wait "$PPTPD_PID" 2>/dev/null
  PPTPD_PID=""
}
