#!/usr/bin/env bash
# The deployment helpers (ferrowall-hugepages, ferrowall-bind-nics) against a made-up
# sysfs: a NIC with one port up and one down, a port already on vfio-pci, NUMA node 0.
# Dry runs must print the writes a real run makes and change nothing; real runs (on the
# made-up files) must make exactly those writes; refusals must say why and exit 1.
# Then every helper command docs/deploy.md shows, run as a dry run against the same
# sysfs, and the real machine's sysfs read (never written) by dry runs and --status.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HUGE=$ROOT/scripts/hugepages.sh
BIND=$ROOT/scripts/bind-nics.sh
FAKE=$(mktemp -d /tmp/ferrowall-sysfs.XXXXXX)
trap 'rm -rf "$FAKE"' EXIT
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }

make_sysfs() {
  rm -rf "${FAKE:?}"/*
  local s=$FAKE
  mkdir -p "$s/kernel/mm/hugepages/hugepages-2048kB" "$s/kernel/mm/hugepages/hugepages-1048576kB" \
    "$s/devices/system/node/node0/hugepages/hugepages-2048kB" "$s/kernel/iommu_groups/12" \
    "$s/bus/pci/drivers/ixgbe" "$s/bus/pci/drivers/vfio-pci"
  echo 0 >"$s/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
  echo 0 >"$s/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
  echo 0 >"$s/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
  : >"$s/bus/pci/drivers_probe"
  port() { # ADDR DRIVER [IFACE FLAGS]
    local d=$s/bus/pci/devices/$1
    mkdir -p "$d"
    echo 0x020000 >"$d/class"; echo 0x8086 >"$d/vendor"; echo 0x10fb >"$d/device"
    ln -s "../../drivers/$2" "$d/driver"
    : >"$s/bus/pci/drivers/$2/unbind"
    if [ -n "${3:-}" ]; then
      mkdir -p "$d/net/$3" "$s/class/net/$3"
      echo "$4" >"$s/class/net/$3/flags"
    fi
  }
  port 0000:03:00.0 ixgbe eth2 0x1003 # up
  port 0000:03:00.1 ixgbe eth3 0x1002 # down
  port 0000:04:00.0 vfio-pci
  mkdir -p "$s/bus/pci/drivers/mlx5_core"
  port 0000:05:00.0 mlx5_core eth5 0x1002
}

# expect WHAT RC PATTERN COMMAND...: the exit status and a line of the output.
expect() {
  local what=$1 want_rc=$2 pattern=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want_rc" ] && grep -qE -- "$pattern" <<<"$out"; then
    ok "$what"
  else
    fail "$what (rc $rc, want $want_rc; no line like /$pattern/):"; sed 's/^/       /' <<<"$out"
  fi
}
unchanged() { # WHAT: the made-up sysfs is as make_sysfs left it
  local now; now=$(cd "$FAKE" && find . -type f -exec md5sum {} + | sort)
  if [ "$now" = "$PRISTINE" ]; then ok "$1: nothing written"; else fail "$1: sysfs changed"; fi
}

echo "deployment helpers"
export FERROWALL_SYSFS=$FAKE
make_sysfs
PRISTINE=$(cd "$FAKE" && find . -type f -exec md5sum {} + | sort)

expect "hugepages --dry-run 1024: the write it would make" 0 \
  "^would: echo 1024 > $FAKE/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages$" "$HUGE" --dry-run 1024
expect "hugepages --dry-run --node 0: the node's own count" 0 \
  "^would: echo 512 > $FAKE/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages$" \
  "$HUGE" --dry-run --node 0 512
expect "hugepages --dry-run --size 1G" 0 "hugepages-1048576kB/nr_hugepages$" "$HUGE" --dry-run --size 1G 4
expect "hugepages on a node that does not exist: refused" 1 "node1/.* does not exist" "$HUGE" --dry-run --node 1 512
expect "hugepages with a bad count: refused" 2 "is not a number" "$HUGE" --dry-run 1k
expect "hugepages with nothing asked for (an empty FERROWALL_HUGEPAGES)" 0 "none asked for" "$HUGE" ""
unchanged "hugepages dry runs"
echo 2048 >"$FAKE/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
expect "hugepages never shrinks a larger reservation" 0 "2048 x 2M on all nodes already" "$HUGE" --dry-run 1024
make_sysfs

expect "bind --dry-run: the down port, ixgbe -> vfio-pci" 0 "0000:03:00.1: ixgbe -> vfio-pci" "$BIND" --dry-run 03:00.1
out=$("$BIND" --dry-run 0000:03:00.1 2>&1)
want="would: echo vfio-pci > $FAKE/bus/pci/devices/0000:03:00.1/driver_override
would: echo 0000:03:00.1 > $FAKE/bus/pci/devices/0000:03:00.1/driver/unbind
would: echo 0000:03:00.1 > $FAKE/bus/pci/drivers_probe"
if [ "$(grep '^would:' <<<"$out")" = "$want" ]; then ok "bind --dry-run prints driver_override, unbind, drivers_probe"; else fail "bind writes: $out"; fi
expect "bind refuses a port whose interface is up" 1 "0000:03:00.0: interface eth2 is up" "$BIND" --dry-run 0000:03:00.0
expect "bind --force takes it anyway" 0 "0000:03:00.0: ixgbe -> vfio-pci" "$BIND" --dry-run --force 0000:03:00.0
expect "bind: a port already on vfio-pci is left alone" 0 "0000:04:00.0 already on vfio-pci" "$BIND" --dry-run 0000:04:00.0
expect "bind refuses to take an mlx5 port from its kernel driver" 1 "0000:05:00.0 is on mlx5_core: .* stay on their kernel driver" \
  "$BIND" --dry-run 0000:05:00.0
expect "bind: no such device" 1 "0000:09:00.0: no such PCI device" "$BIND" --dry-run 0000:09:00.0
expect "bind: not a PCI address" 1 "is not a PCI address" "$BIND" --dry-run eth2
expect "bind: a driver not loaded yet is loaded first" 0 "^would: modprobe uio_pci_generic$" \
  "$BIND" --dry-run --driver uio_pci_generic 0000:03:00.1
expect "bind: nothing given (an empty FERROWALL_BIND)" 0 "nothing to bind" "$BIND"
expect "bind --status lists the ports, drivers and interfaces" 0 "^0000:03:00.0 +8086:10fb +ixgbe +eth2" "$BIND" --status
unchanged "bind dry runs"
rmdir "$FAKE/kernel/iommu_groups/12"
expect "bind to vfio-pci without an IOMMU: refused with the kernel options" 1 "intel_iommu=on" \
  "$BIND" --dry-run 0000:03:00.1
make_sysfs

# Real runs on the made-up files: the writes land where the dry run said.
"$HUGE" 64 >/dev/null 2>&1
if [ "$(cat "$FAKE/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 64 ]; then ok "hugepages writes the count"; else fail "hugepages write"; fi
out=$("$BIND" 0000:03:00.1 2>&1); rc=$?
if [ "$(cat "$FAKE/bus/pci/devices/0000:03:00.1/driver_override")" = vfio-pci ] \
  && [ "$(cat "$FAKE/bus/pci/drivers/ixgbe/unbind")" = 0000:03:00.1 ] \
  && [ "$(cat "$FAKE/bus/pci/drivers_probe")" = 0000:03:00.1 ]; then
  ok "bind writes driver_override, unbind and drivers_probe"
else
  fail "bind writes: $out"
fi
# No kernel re-probes a made-up device: the check after the probe must see that.
if [ $rc = 1 ] && grep -q "still on ixgbe after the probe" <<<"$out"; then ok "bind checks the driver after the probe"; else fail "bind after probe (rc $rc): $out"; fi
make_sysfs

# The guide's helper commands, each as a dry run against the made-up sysfs, its ports
# down as the guide tells.
echo 0x1002 >"$FAKE/class/net/eth2/flags"
PRISTINE=$(cd "$FAKE" && find . -type f -exec md5sum {} + | sort)
guide=0
while IFS= read -r cmd; do
  guide=$((guide + 1))
  words=()
  read -r -a words <<<"$cmd"
  tool=${words[0]}
  args=("${words[@]:1}")
  case "$tool" in
    ferrowall-hugepages) script=$HUGE ;;
    ferrowall-bind-nics) script=$BIND ;;
  esac
  [[ " ${args[*]} " == *" --dry-run "* || " ${args[*]} " == *" --status "* ]] || args=(--dry-run "${args[@]}")
  out=$("$script" "${args[@]}" 2>&1); rc=$?
  if [ $rc = 0 ]; then ok "deploy.md: $cmd"; else fail "deploy.md: $cmd (rc $rc): $out"; fi
done < <(grep -hoE '^\s*(sudo )?ferrowall-(hugepages|bind-nics)( [^#|;&]*)?' "$ROOT/docs/deploy.md" | sed -E 's/^\s*(sudo )?//; s/\s+$//')
[ "$guide" -gt 0 ] || fail "deploy.md shows no helper commands"
unchanged "the guide's commands"

# This machine's own sysfs, read only.
unset FERROWALL_SYSFS
before=$(cat /proc/sys/vm/nr_hugepages)
expect "on this machine: hugepages --dry-run" 0 "^(would: echo|hugepages: .* already)" "$HUGE" --dry-run "$((before + 1))"
if [ "$(cat /proc/sys/vm/nr_hugepages)" = "$before" ]; then ok "on this machine: the reservation is untouched ($before)"; else fail "nr_hugepages changed"; fi
expect "on this machine: bind --status" 0 "^PCI +vendor:dev +driver" "$BIND" --status

echo "helpers: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
