#!/usr/bin/env bash
# Reserves 2 MiB hugepages and mounts hugetlbfs (benchmarks; the lab runs without).
# Usage: scripts/hugepages.sh [PAGES]   (default 512 = 1 GiB)
set -euo pipefail
pages=${1:-512}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$pages" ]; then
  echo "$pages" > /proc/sys/vm/nr_hugepages
fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
echo "hugepages: $got x 2 MiB"
[ "$got" -ge "$pages" ]
