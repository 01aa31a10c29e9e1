#!/usr/bin/env bash
# The installed ferrowall.service under a real systemd: a container (systemd-nspawn)
# boots this machine's /usr read-only on a volatile root, with no network but its own,
# and a config of null ports. There: start (Type=notify: systemctl returns once ferrowall
# says READY=1), its log in the journal, the hardening the unit sets, the health check timer and service,
# reload valid and invalid, the watchdog restarting a stalled ferrowall, a bad config
# stopping the start at ExecStartPre, and stop.
# Expects the package installed (tests/packaging/package.sh calls it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/ferrowall-svc.XXXXXX)
NAME=fwsvc$$
NSPAWN=""
CPID=""
# The cgroups nspawn and the container's systemd leave at the root of this machine's
# hierarchies when they run outside any systemd unit: removed after, if the run made them.
CGROUPS=()
for h in unified systemd; do
  for d in payload/init.scope payload supervisor; do
    [ -d "/sys/fs/cgroup/$h/$d" ] || CGROUPS+=("/sys/fs/cgroup/$h/$d")
  done
done
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
cleanup() {
  if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
    # The container's init, known or not: it outlives an nspawn that is killed.
    local inits
    inits="$CPID $(pgrep -P "$NSPAWN")"
    kill -TERM "$NSPAWN" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$NSPAWN" 2>/dev/null
    wait "$NSPAWN" 2>/dev/null
    # SIGKILL to a PID namespace's init ends everything in it.
    for p in $inits; do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && kill -KILL "$p" 2>/dev/null
    done
  fi
  sleep 0.5
  for d in "${CGROUPS[@]}"; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
finish() { echo "service: $PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; exit $?; }

echo "service (systemd in a container)"
[ -f /lib/systemd/system/ferrowall.service ] || { fail "the package is not installed"; finish; }
command -v systemd-nspawn >/dev/null || { fail "systemd-nspawn missing (scripts/setup.sh installs systemd-container)"; finish; }

# Null ports, no hugepages, metrics on the container's own loopback.
/usr/sbin/ferrowall --print-default-config | sed \
  -e 's|^device = "net_af_packet0.*|device = "net_null0"|' -e 's|^device = "net_af_packet1.*|device = "net_null1"|' \
  -e "s|\"--file-prefix\", \"ferrowall-demo\"|\"--file-prefix\", \"$NAME\"|" >"$WORK/ferrowall.toml"
cp "$WORK/ferrowall.toml" "$WORK/good.toml"
printf 'FERROWALL_HUGEPAGES=""\nFERROWALL_BIND=""\nFERROWALL_OPTS=""\n' >"$WORK/default"

# nspawn's /sys has no /sys/module, where EAL looks for the vfio module (a container
# without it is not a system ferrowall runs on): the host's, read-only.
systemd-nspawn -D / --volatile=yes --private-network --register=no --keep-unit -M "$NAME" -b --console=pipe \
  --bind-ro="$WORK/ferrowall.toml:/etc/ferrowall/ferrowall.toml" --bind-ro="$WORK/default:/etc/default/ferrowall" \
  --bind-ro=/sys/module \
  >"$WORK/boot.log" 2>&1 &
NSPAWN=$!
# The container's init: nspawn's child once it is systemd (children before it are
# nspawn's own, and short-lived).
for _ in $(seq 1 200); do
  for c in $(pgrep -P "$NSPAWN"); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && CPID=$c
  done
  [ -n "$CPID" ] && break
  sleep 0.1
done
[ -n "$CPID" ] || { fail "no systemd in the container: $(tail -3 "$WORK/boot.log")"; finish; }
in_c() { nsenter -t "$CPID" -a "$@"; }
# Until its manager answers at all, then until it has booted.
for _ in $(seq 1 100); do
  state=$(timeout 60 nsenter -t "$CPID" -a systemctl is-system-running --wait 2>&1)
  [[ "$state" == *"Failed to connect"* ]] || break
  sleep 0.2
done
if [ "$state" = running ] || [ "$state" = degraded ]; then ok "a container booted systemd ($state)"; else fail "systemd in the container: '$state' $(tail -3 "$WORK/boot.log")"; finish; fi
show() { in_c systemctl show -P "$1" ferrowall.service; }
# A unit's journal, whole: read into a variable before grep, since `grep -q` leaving a
# pipe early fails the pipeline (pipefail) while journalctl still writes.
journal() { in_c journalctl -u "${1:-ferrowall}" --no-pager 2>&1; }
has() { local text; text=$(journal "${2:-ferrowall}"); grep -q -- "$1" <<<"$text"; }
# The config is bind-mounted into the container: change it in place (same inode).
edit() { sed "$1" "$WORK/ferrowall.toml" >"$WORK/edited"; cat "$WORK/edited" >"$WORK/ferrowall.toml"; }

# Start: returns when ferrowall says READY=1.
if out=$(in_c timeout 120 systemctl start ferrowall.service 2>&1) && [ "$(in_c systemctl is-active ferrowall.service)" = active ]; then
  ok "systemctl start returns with the service active: $(show StatusText)"
else
  fail "start: $out $(journal | tail -8)"; finish
fi
if has "config OK: 2 port(s), 1 worker(s)"; then ok "ExecStartPre checked the config first"; else fail "no --check-config in the journal"; fi
log=$(journal)
if grep -q "ferrowall\[[0-9]*\]: *INFO ctrlplane::run: ferrowall running" <<<"$log" \
  && ! grep -qE "ferrowall\[[0-9]*\]: [0-9]{4}-[0-9]{2}-[0-9]{2}T" <<<"$log"; then
  ok "the journal's lines carry one timestamp (the journal's own)"
else
  fail "log lines: $(grep -m2 "ferrowall\[" <<<"$log")"
fi
pid=$(show MainPID)
# Inside ferrowall's own mount namespace: the system read-only, its runtime directory not.
in_fw() { in_c nsenter -t "$pid" -m "$@"; }
if in_c grep -q "^NoNewPrivs:[[:space:]]*1$" "/proc/$pid/status" \
  && ! in_fw touch /etc/fw-probe 2>/dev/null && ! in_fw touch /var/fw-probe 2>/dev/null \
  && in_fw touch /run/ferrowall/fw-probe && in_fw rm /run/ferrowall/fw-probe \
  && [ "$(in_fw stat -c %a /run/ferrowall)" = 700 ] && [ -z "$(in_fw ls -A /home 2>/dev/null)" ]; then
  ok "ferrowall runs sandboxed (NoNewPrivileges; /etc and /var read-only, /home empty, /run/ferrowall 0700 writable) and DPDK starts anyway"
else
  fail "sandbox of PID $pid: $(in_fw sh -c 'touch /etc/fw-probe; touch /run/ferrowall/fw-probe; ls -ld /run/ferrowall /home' 2>&1)"
fi
if [ "$(in_c systemctl is-active ferrowall-healthcheck.timer)" = active ]; then ok "the health check timer runs with it"; else fail "healthcheck timer: $(in_c systemctl is-active ferrowall-healthcheck.timer)"; fi
if in_c systemctl start ferrowall-healthcheck.service && has "ferrowall: healthy" ferrowall-healthcheck; then
  ok "ferrowall-healthcheck.service: fwctl health says healthy"
else
  fail "health check: $(journal ferrowall-healthcheck | tail -5)"
fi
w0=$(show WatchdogTimestampMonotonic)
sleep 6
w1=$(show WatchdogTimestampMonotonic)
if [ -n "$w0" ] && [ "$w1" -gt "$w0" ]; then ok "systemd hears the watchdog (last ping moved $(( (w1 - w0) / 1000 )) ms in 6 s)"; else fail "watchdog pings: $w0 -> $w1"; fi

# Reload: valid, then a file that does not parse.
edit 's/^name = "lan-to-internet"/name = "lan-out-reloaded"/'
if out=$(in_c systemctl reload ferrowall.service 2>&1) && has "reload: applied"; then
  ok "systemctl reload: fwctl reload applied the change"
else
  fail "reload: $out"
fi
echo "nonsense = [" >>"$WORK/ferrowall.toml"
out=$(in_c systemctl reload ferrowall.service 2>&1); rc=$?
if [ $rc != 0 ] && [ "$(in_c systemctl is-active ferrowall.service)" = active ] && [ "$(show MainPID)" = "$pid" ]; then
  ok "a reload of an invalid file fails, and the service runs on unchanged"
else
  fail "invalid reload (rc $rc): $out; $(in_c systemctl is-active ferrowall.service)"
fi
cp "$WORK/good.toml" "$WORK/ferrowall.toml"

# A stalled ferrowall (every thread stopped) misses the watchdog: systemd restarts it.
in_c kill -STOP "$pid"
restarted() { [ "$(show NRestarts)" -ge 1 ] && [ "$(in_c systemctl is-active ferrowall.service)" = active ] && [ "$(show MainPID)" != "$pid" ]; }
for _ in $(seq 1 120); do restarted && break; sleep 0.5; done
if restarted; then
  ok "stalled: the watchdog fired and systemd restarted ferrowall ($(journal | grep -m1 -o 'Watchdog timeout[^.]*'))"
else
  fail "no restart after a stall: NRestarts $(show NRestarts), $(in_c systemctl is-active ferrowall.service)"
fi

# A config that does not validate keeps a (re)start from happening, and says why.
edit 's/^workers = \[1\]/workers = [1, 1]/'
out=$(in_c timeout 60 systemctl restart ferrowall.service 2>&1); rc=$?
if [ $rc != 0 ] && has "cores.workers\[1\]: CPU 1 is given to two workers"; then
  ok "an invalid config stops the start at ExecStartPre; the journal names the field"
else
  fail "restart with a bad config (rc $rc): $(journal | tail -8)"
fi
cp "$WORK/good.toml" "$WORK/ferrowall.toml"
in_c systemctl reset-failed ferrowall.service 2>/dev/null
if in_c timeout 120 systemctl start ferrowall.service && in_c timeout 60 systemctl stop ferrowall.service \
  && [ "$(show Result)" = success ] && [ "$(show ExecMainStatus)" = 0 ]; then
  ok "start again, then systemctl stop: ferrowall exits 0 (Result=success)"
else
  fail "stop: Result $(show Result), status $(show ExecMainStatus)"
fi
if [ "$(in_c systemctl is-active ferrowall-healthcheck.timer)" = inactive ]; then ok "the health check timer stops with it"; else fail "timer after stop: $(in_c systemctl is-active ferrowall-healthcheck.timer)"; fi
finish
