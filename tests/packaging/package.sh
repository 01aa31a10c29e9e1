#!/usr/bin/env bash
# The Debian package and the container image, through the image's own build steps on
# this machine: docker/steps.sh build (scripts/package.sh), then steps.sh runtime,
# which installs the package with apt as the image does. Then the installed files, the
# sample config, the units, the entrypoint, the installed ferrowall running on null
# ports with fwctl health, and the service under a real systemd (service.sh); then the
# package is purged and must leave nothing behind.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/ferrowall-pkg.XXXXXX)
FW_PID=""
cleanup() {
  [ -z "$FW_PID" ] || { kill -KILL "$FW_PID" 2>/dev/null; wait "$FW_PID" 2>/dev/null; }
  if dpkg-query -W -f='${Status}' ferrowall 2>/dev/null | grep -q "install ok installed"; then
    apt-get purge -y -q ferrowall >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
finish() { echo "package: $PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; exit $?; }

echo "package"
if out=$(bash "$ROOT/docker/steps.sh" lint 2>&1); then ok "$out"; else fail "$out"; fi

# Build, as the image's build stage does.
if ! out=$(bash "$ROOT/docker/steps.sh" build "$WORK/out" 2>&1); then
  fail "steps.sh build: $(tail -5 <<<"$out")"; finish
fi
DEBS=("$WORK"/out/ferrowall_*.deb)
DEB=${DEBS[0]}
[ -f "$DEB" ] && ok "built $(basename "$DEB"): $(du -k "$DEB" | cut -f1) KiB" || { fail "no package in $WORK/out"; finish; }
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
if grep -q -- "-dev" <<<"$DEPENDS"; then fail "depends on a -dev package: $DEPENDS"; else ok "depends on runtime libraries only: $DEPENDS"; fi
if [ "$(dpkg-deb -f "$DEB" Version)" = "$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ctrlplane"))')-1" ]; then
  ok "version $(dpkg-deb -f "$DEB" Version), the crates' version"
else
  fail "version $(dpkg-deb -f "$DEB" Version)"
fi
conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)
if [ "$conffiles" = $'/etc/ferrowall/ferrowall.toml\n/etc/default/ferrowall' ]; then ok "conffiles: the config and /etc/default/ferrowall"; else fail "conffiles: $conffiles"; fi
"$ROOT/scripts/package.sh" --out "$WORK/again" >/dev/null 2>&1
if cmp -s "$DEB" "$WORK/again/$(basename "$DEB")"; then ok "packaging the same build again gives the same bytes"; else fail "a second packaging differs"; fi
owners=$(dpkg-deb --contents "$DEB" | awk '{print $2}' | sort -u)
if [ "$owners" = root/root ]; then ok "every file is root:root"; else fail "owners: $owners"; fi

# Install, as the image's runtime stage does.
if out=$(bash "$ROOT/docker/steps.sh" runtime "$WORK/out" 2>&1); then
  ok "steps.sh runtime: apt-get install $(basename "$DEB")"
else
  fail "steps.sh runtime: $(tail -5 <<<"$out")"; finish
fi
for f in /usr/sbin/ferrowall /usr/sbin/fwctl /usr/sbin/ferrowall-hugepages /usr/sbin/ferrowall-bind-nics \
  /usr/lib/ferrowall/container-entrypoint; do
  [ -x "$f" ] || fail "$f is not installed executable"
done
for f in /etc/ferrowall/ferrowall.toml /etc/default/ferrowall /lib/systemd/system/ferrowall.service \
  /lib/systemd/system/ferrowall-healthcheck.service /lib/systemd/system/ferrowall-healthcheck.timer \
  /usr/lib/tmpfiles.d/ferrowall.conf /usr/share/doc/ferrowall/deploy.md /usr/share/doc/ferrowall/copyright; do
  [ -f "$f" ] || fail "$f is not installed"
done
ok "binaries, helpers, entrypoint, config, units and docs in place"
if [ "$(stat -c '%U:%G %a' /run/ferrowall 2>/dev/null)" = "root:root 700" ]; then ok "/run/ferrowall: root:root 0700"; else fail "/run/ferrowall: $(stat -c '%U:%G %a' /run/ferrowall 2>&1)"; fi

# Every library the binaries load comes from a package the package depends on.
missing=$(ldd /usr/sbin/ferrowall /usr/sbin/fwctl | grep "not found")
[ -z "$missing" ] || fail "unresolved libraries: $missing"
undeclared=""
# What the Depends bring, following Depends only.
closure=$(apt-cache depends --installed --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $(sed 's/ ([^)]*)//g; s/,/ /g' <<<"$DEPENDS") 2>/dev/null | grep -v '^ ')
for lib in $(ldd /usr/sbin/ferrowall | awk '$3 ~ /^\// {print $3}' | sort -u); do
  pkg=$(dpkg -S "$(realpath "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
  grep -qxF "$pkg" <<<"$closure" || undeclared+="$lib ($pkg) "
done
if [ -z "$undeclared" ]; then ok "every shared library ferrowall loads is in Depends, directly or through them"; else fail "libraries from packages not depended on: $undeclared"; fi

v=$(/usr/sbin/ferrowall --version)
[ -n "$v" ] && ok "installed: $v" || fail "ferrowall --version"
out=$(/usr/sbin/ferrowall --config /etc/ferrowall/ferrowall.toml --check-config --cpus 0-3 2>&1); rc=$?
if [ $rc = 0 ] && [ "$out" = "config OK: 2 port(s), 2 worker(s)" ]; then ok "the installed sample config is valid for a server with CPUs 0-3: $out"; else fail "sample --check-config (rc $rc): $out"; fi
out=$(/usr/sbin/ferrowall --config /etc/ferrowall/ferrowall.toml --check-config 2>&1); rc=$?
if python3 -c "import os, sys; sys.exit(not {0, 1, 2, 3} <= os.sched_getaffinity(0))"; then
  [ $rc = 0 ] && ok "and on this machine: $out" || fail "sample on this machine (rc $rc): $out"
elif [ $rc = 2 ] && grep -q "cores.workers\[[0-9]\]: CPU [0-9]* is not available" <<<"$out"; then
  ok "on this machine (fewer CPUs) the same check names the field: $out"
else
  fail "sample on this machine (rc $rc): $out"
fi

out=$(systemd-analyze verify /lib/systemd/system/ferrowall.service /lib/systemd/system/ferrowall-healthcheck.service \
  /lib/systemd/system/ferrowall-healthcheck.timer 2>&1); rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: the three units, no warning"; else fail "systemd-analyze verify (rc $rc): $out"; fi
# The unit's preparation, with the installed defaults, as dry runs.
# shellcheck disable=SC1091
(. /etc/default/ferrowall && ferrowall-hugepages --dry-run $FERROWALL_HUGEPAGES && ferrowall-bind-nics --dry-run $FERROWALL_BIND) \
  >"$WORK/pre.log" 2>&1 && ok "the unit's ExecStartPre helpers with /etc/default/ferrowall (dry runs): $(tr '\n' ' ' <"$WORK/pre.log")" \
  || fail "ExecStartPre helpers: $(cat "$WORK/pre.log")"
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[+-]*\([^ ]*\).*/\1/p' /lib/systemd/system/ferrowall*.service | sort -u); do
  [ -x "$cmd" ] || fail "the units run $cmd, which is not installed"
done
ep=$(sed -n 's/^ENTRYPOINT \["\([^"]*\)"\]/\1/p' "$ROOT/docker/Dockerfile")
hc=$(sed -n 's/^HEALTHCHECK .*CMD \["\([^"]*\)".*/\1/p' "$ROOT/docker/Dockerfile")
if [ -x "$ep" ] && command -v "$hc" >/dev/null; then ok "the image's ENTRYPOINT ($ep) and HEALTHCHECK ($hc) are in the package"; else fail "ENTRYPOINT '$ep' / HEALTHCHECK '$hc'"; fi

# The entrypoint: no config mounted, then a config valid here.
out=$(FERROWALL_CONFIG=$WORK/none.toml "$ep" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "no config at $WORK/none.toml: mount one" <<<"$out"; then ok "entrypoint without a config: exit 2, says to mount one"; else fail "entrypoint without config (rc $rc): $out"; fi
# Null ports (no traffic, no namespaces), no hugepages, its own socket: the installed
# binaries with the installed DPDK plugins.
/usr/sbin/ferrowall --print-default-config | sed \
  -e 's|^device = "net_af_packet0.*|device = "net_null0"|' -e 's|^device = "net_af_packet1.*|device = "net_null1"|' \
  -e "s|\"--file-prefix\", \"ferrowall-demo\"|\"--file-prefix\", \"fwpkg-$$\"|" >"$WORK/null.toml"
printf '\n[management]\nsocket = "%s/api.sock"\n\n[metrics]\nlisten = ""\n' "$WORK" >>"$WORK/null.toml"
out=$(FERROWALL_CONFIG=$WORK/null.toml "$ep" --check-config 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "^config OK" <<<"$out"; then ok "entrypoint --check-config with a mounted config"; else fail "entrypoint --check-config (rc $rc): $out"; fi
FERROWALL_CONFIG=$WORK/null.toml "$ep" >"$WORK/fw.log" 2>&1 &
FW_PID=$!
for _ in $(seq 1 100); do grep -q "ferrowall running" "$WORK/fw.log" && break; kill -0 "$FW_PID" 2>/dev/null || break; sleep 0.2; done
if grep -q "ferrowall running" "$WORK/fw.log"; then
  ok "the entrypoint runs the installed ferrowall (null ports, installed PMDs and mempool driver)"
  out=$(/usr/sbin/fwctl --socket "$WORK/api.sock" health 2>&1); rc=$?
  if [ $rc = 0 ] && grep -q "ferrowall: healthy" <<<"$out"; then ok "the installed fwctl health: healthy"; else fail "fwctl health (rc $rc): $out"; fi
  if [ "$(cat "/proc/$FW_PID/comm" 2>/dev/null)" = ferrowall ]; then ok "the entrypoint execs ferrowall (it gets the container's signals)"; else fail "entrypoint's process is $(cat "/proc/$FW_PID/comm" 2>/dev/null)"; fi
  kill -TERM "$FW_PID"
  wait "$FW_PID"; rc=$?
  FW_PID=""
  [ $rc = 0 ] && ok "SIGTERM stops it, exit 0" || fail "exit $rc on SIGTERM: $(tail -3 "$WORK/fw.log")"
else
  fail "the installed ferrowall did not start: $(tail -5 "$WORK/fw.log")"
fi

# The compose lab: its files exist, its ferrowall config is valid.
out=$(cd "$ROOT/docker" && python3 - <<'PY'
import os, yaml
c = yaml.safe_load(open("compose.yaml"))
missing = [v.split(":")[0] for s in c["services"].values() for v in s.get("volumes", [])
           if not os.path.exists(v.split(":")[0])]
images = sorted({s["image"] for s in c["services"].values()})
print("missing " + " ".join(missing) if missing else "services %s, images %s" % (sorted(c["services"]), images))
PY
)
if grep -q "^services" <<<"$out"; then ok "compose.yaml: $out"; else fail "compose.yaml: $out"; fi
out=$(/usr/sbin/ferrowall --config "$ROOT/docker/lab.toml" --check-config 2>&1) && ok "docker/lab.toml: $out" || fail "docker/lab.toml: $out"

# The installed units under a real systemd, in a container.
if bash "$ROOT/tests/packaging/service.sh"; then ok "the service under systemd (above)"; else fail "the service under systemd (above)"; fi

# Upgrade and roll back as deploy.md says: an operator's edit of the config survives
# both, and the binary follows the version.
VERSION=$(dpkg-deb -f "$DEB" Version)
NEXT=${VERSION%-*}-$(( ${VERSION##*-} + 1 ))
echo "# edited by the operator" >>/etc/ferrowall/ferrowall.toml
if "$ROOT/scripts/package.sh" --out "$WORK/next" --revision "${NEXT##*-}" >/dev/null 2>&1 \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$WORK/next/ferrowall_${NEXT}_$(dpkg --print-architecture).deb" >"$WORK/up.log" 2>&1 \
  && [ "$(dpkg-query -W -f='${Version}' ferrowall)" = "$NEXT" ] && tail -1 /etc/ferrowall/ferrowall.toml | grep -q "edited by the operator"; then
  ok "upgrade $VERSION -> $NEXT with apt-get install: the operator's config kept"
else
  fail "upgrade to $NEXT: $(tail -3 "$WORK/up.log" 2>/dev/null)"
fi
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades "$DEB" >"$WORK/down.log" 2>&1 \
  && [ "$(dpkg-query -W -f='${Version}' ferrowall)" = "$VERSION" ] && tail -1 /etc/ferrowall/ferrowall.toml | grep -q "edited by the operator" \
  && /usr/sbin/ferrowall --config /etc/ferrowall/ferrowall.toml --check-config --cpus 0-3 >/dev/null; then
  ok "roll back to $VERSION with --allow-downgrades: the config kept and still valid"
else
  fail "rollback: $(tail -3 "$WORK/down.log")"
fi

# Remove: nothing of it stays.
if apt-get purge -y -q ferrowall >"$WORK/purge.log" 2>&1; then ok "apt-get purge ferrowall"; else fail "purge: $(tail -3 "$WORK/purge.log")"; fi
left=""
for f in /usr/sbin/ferrowall /usr/sbin/fwctl /usr/sbin/ferrowall-hugepages /usr/sbin/ferrowall-bind-nics \
  /usr/lib/ferrowall /etc/ferrowall /etc/default/ferrowall /lib/systemd/system/ferrowall.service \
  /usr/lib/tmpfiles.d/ferrowall.conf /usr/share/doc/ferrowall /run/ferrowall; do
  [ ! -e "$f" ] || left+="$f "
done
if [ -z "$left" ] && ! dpkg-query -W ferrowall >/dev/null 2>&1; then ok "purged: no file left"; else fail "left after purge: $left"; fi
finish
