#!/usr/bin/env bash
# Reserves hugepages for DPDK and mounts hugetlbfs. Installed as ferrowall-hugepages;
# the service runs it before ferrowall starts, with FERROWALL_HUGEPAGES from
# /etc/default/ferrowall.
#
# Usage: hugepages.sh [--dry-run] [--size 2M|1G] [--node N] [PAGES]
#   PAGES      pages wanted (1024 of 2 MiB = 2 GiB); none, or an empty string, reserves
#              nothing. Never shrinks a larger reservation.
#   --size     page size: 2M (default) or 1G (1G pages are best reserved at boot:
#              default_hugepagesz=1G hugepagesz=1G hugepages=N on the kernel command line)
#   --node N   reserve on NUMA node N only (the node of the NIC and the worker cores);
#              default: the kernel spreads them over the nodes
#   --dry-run  print what would be written or mounted, change nothing
# FERROWALL_SYSFS (default /sys) lets tests point it at a copy of sysfs.
# Exits 1 if fewer pages than asked for could be reserved (memory too fragmented:
# reserve at boot instead).
set -euo pipefail
SYS=${FERROWALL_SYSFS:-/sys}
DRY=""
SIZE=2M
NODE=""
PAGES=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --size) SIZE=${2:?--size needs 2M or 1G}; shift ;;
    --node) NODE=${2:?--node needs a number}; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "hugepages: unknown option $1" >&2; exit 2 ;;
    *) PAGES=$1 ;;
  esac
  shift
done
if [ -z "$PAGES" ]; then
  echo "hugepages: none asked for; leaving the reservation as it is"
  exit 0
fi
case "$PAGES" in *[!0-9]*) echo "hugepages: $PAGES is not a number of pages" >&2; exit 2 ;; esac
case "$SIZE" in
  2M | 2m) KB=2048 ;;
  1G | 1g) KB=1048576 ;;
  *) echo "hugepages: size $SIZE is not 2M or 1G" >&2; exit 2 ;;
esac
case "$NODE" in *[!0-9]*) echo "hugepages: node $NODE is not a number" >&2; exit 2 ;; esac

if [ -n "$NODE" ]; then
  dir=$SYS/devices/system/node/node$NODE/hugepages/hugepages-${KB}kB
  where="node $NODE"
else
  dir=$SYS/kernel/mm/hugepages/hugepages-${KB}kB
  where="all nodes"
fi
if [ ! -d "$dir" ]; then
  echo "hugepages: $dir does not exist (no such NUMA node, or the CPU has no $SIZE pages)" >&2
  exit 1
fi
have=$(cat "$dir/nr_hugepages")
run() {
  if [ -n "$DRY" ]; then echo "would: $*"; else "$@"; fi
}
write() { # VALUE FILE
  if [ -n "$DRY" ]; then echo "would: echo $1 > $2"; else echo "$1" >"$2"; fi
}
if [ "$have" -lt "$PAGES" ]; then
  write "$PAGES" "$dir/nr_hugepages"
else
  echo "hugepages: $have x $SIZE on $where already (asked for $PAGES)"
fi

mnt=/dev/hugepages
[ "$KB" = 2048 ] || mnt=/dev/hugepages-1G
if mountpoint -q "$mnt" 2>/dev/null; then
  echo "hugepages: hugetlbfs mounted on $mnt"
else
  run mkdir -p "$mnt"
  run mount -t hugetlbfs -o "pagesize=$SIZE" nodev "$mnt"
fi

[ -z "$DRY" ] || exit 0
got=$(cat "$dir/nr_hugepages")
echo "hugepages: $got x $SIZE on $where"
if [ "$got" -lt "$PAGES" ]; then
  echo "hugepages: only $got of $PAGES could be reserved (memory too fragmented?): reserve them at boot" \
    "with hugepages=$PAGES on the kernel command line" >&2
  exit 1
fi
