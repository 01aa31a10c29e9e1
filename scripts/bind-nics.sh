#!/usr/bin/env bash
# Binds NIC ports to vfio-pci so DPDK can drive them, or gives them back to a kernel
# driver. Installed as ferrowall-bind-nics; the service runs it before ferrowall starts
# with FERROWALL_BIND from /etc/default/ferrowall.
#
# Usage: bind-nics.sh [--dry-run] [--driver NAME] [--force] PCI...
#        bind-nics.sh --status
#   PCI        0000:03:00.0 or 03:00.0
#   --driver   the driver to bind to (default vfio-pci; a kernel driver such as ixgbe
#              gives a port back to Linux)
#   --force    unbind a port whose Linux interface is up (it is cut off at once: never
#              the port you are logged in through)
#   --dry-run  check everything and print each write, change nothing
#   --status   the network PCI devices, their drivers and interfaces
# The same writes as DPDK's dpdk-devbind.py (driver_override, unbind, drivers_probe).
# FERROWALL_SYSFS (default /sys) lets tests point it at a copy of sysfs.
set -euo pipefail
SYS=${FERROWALL_SYSFS:-/sys}
DRY=""
FORCE=""
DRIVER=vfio-pci
STATUS=""
DEVICES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --force) FORCE=1 ;;
    --driver) DRIVER=${2:?--driver needs a name}; shift ;;
    --status) STATUS=1 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bind-nics: unknown option $1" >&2; exit 2 ;;
    *) DEVICES+=("$1") ;;
  esac
  shift
done

driver_of() { local l=$SYS/bus/pci/devices/$1/driver; [ -L "$l" ] && basename "$(readlink "$l")" || echo "none"; }
# The Linux interfaces of a device (virtio puts them one level down).
ifaces_of() {
  local d=$SYS/bus/pci/devices/$1
  for n in "$d"/net/* "$d"/virtio*/net/*; do [ -e "$n" ] && basename "$n"; done
  return 0
}
is_up() { # IFACE: IFF_UP in its flags
  local f; f=$(cat "$SYS/class/net/$1/flags" 2>/dev/null || echo 0)
  [ $(( f & 1 )) = 1 ]
}

if [ -n "$STATUS" ]; then
  printf '%-14s %-10s %-12s %s\n' "PCI" "vendor:dev" "driver" "interfaces"
  for d in "$SYS"/bus/pci/devices/*; do
    [ -e "$d/class" ] || continue
    case "$(cat "$d/class")" in 0x02*) ;; *) continue ;; esac
    a=$(basename "$d")
    v="$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")"
    printf '%-14s %-10s %-12s %s\n' "$a" "$v" "$(driver_of "$a")" "$(ifaces_of "$a" | tr '\n' ' ')"
  done
  exit 0
fi
if [ ${#DEVICES[@]} = 0 ]; then
  echo "bind-nics: no devices given; nothing to bind"
  exit 0
fi

write() { # VALUE FILE
  if [ -n "$DRY" ]; then echo "would: echo $1 > $2"; else echo "$1" >"$2"; fi
}
failed=0
refuse() { echo "bind-nics: $*" >&2; failed=1; }

# The driver must be there before anything is unbound.
if [ ! -d "$SYS/bus/pci/drivers/$DRIVER" ]; then
  if [ -n "$DRY" ]; then echo "would: modprobe $DRIVER"; else modprobe "$DRIVER" || refuse "cannot load $DRIVER"; fi
fi
if [ "$DRIVER" = vfio-pci ] && [ -z "$(ls -A "$SYS/kernel/iommu_groups" 2>/dev/null)" ]; then
  refuse "no IOMMU groups: turn the IOMMU on (intel_iommu=on iommu=pt or amd_iommu=on on the kernel command" \
    "line, VT-d/AMD-Vi in the firmware) for vfio-pci"
fi

for a in "${DEVICES[@]}"; do
  [[ "$a" == ????:* ]] || a=0000:$a
  if [[ ! "$a" =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]]; then
    refuse "$a is not a PCI address (0000:03:00.0)"; continue
  fi
  dev=$SYS/bus/pci/devices/$a
  if [ ! -d "$dev" ]; then refuse "$a: no such PCI device (see --status)"; continue; fi
  current=$(driver_of "$a")
  if [ "$current" = "$DRIVER" ]; then echo "bind-nics: $a already on $DRIVER"; continue; fi
  # NVIDIA/Mellanox PMDs drive the port through its kernel driver (bifurcated): taking
  # it away breaks DPDK's access rather than granting it.
  case "$current" in mlx4_core | mlx5_core)
    refuse "$a is on $current: mlx4/mlx5 ports stay on their kernel driver for DPDK (leave it out)"
    continue ;;
  esac
  up=""
  for i in $(ifaces_of "$a"); do is_up "$i" && up+="$i "; done
  if [ -n "$up" ] && [ -z "$FORCE" ]; then
    refuse "$a: interface ${up% } is up; unbinding it cuts off whatever uses it (ip link set ${up% } down, or --force)"
    continue
  fi
  echo "bind-nics: $a: $current -> $DRIVER"
  write "$DRIVER" "$dev/driver_override"
  [ "$current" = none ] || write "$a" "$dev/driver/unbind"
  write "$a" "$SYS/bus/pci/drivers_probe"
  if [ -z "$DRY" ] && [ "$(driver_of "$a")" != "$DRIVER" ]; then
    refuse "$a: still on $(driver_of "$a") after the probe (dmesg says why)"
  fi
done
exit $failed
