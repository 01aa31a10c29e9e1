#!/usr/bin/env bash
# Builds and tests the wire crate on a machine without DPDK: in a private mount
# namespace, DPDK's headers, pkg-config files and libraries are hidden (empty mounts
# over them), so anything in wire's build that reached for DPDK would fail. Its own
# target directory, so nothing built with DPDK is reused. Needs root (unshare).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
unshare --mount --propagation private bash -euo pipefail -c '
  for dir in /usr/include/dpdk /usr/include/x86_64-linux-gnu/dpdk /usr/lib/x86_64-linux-gnu/dpdk; do
    [ ! -d "$dir" ] || mount -t tmpfs none "$dir"
  done
  for f in /usr/lib/x86_64-linux-gnu/pkgconfig/libdpdk*.pc /usr/lib/x86_64-linux-gnu/librte_*; do
    [ ! -e "$f" ] || mount --bind /dev/null "$f"
  done
  if pkg-config --exists libdpdk 2>/dev/null || [ -e /usr/include/dpdk/rte_eal.h ]; then
    echo "wire alone: DPDK is still visible" >&2; exit 1
  fi
  echo "DPDK hidden: no libdpdk for pkg-config, no rte_*.h, every librte_* empty"
  CARGO_TARGET_DIR=target/wire-alone cargo test -q -p wire
'
# And by construction: nothing DPDK in what wire depends on, for tests included.
if cargo tree -p wire -e normal,build,dev --prefix none | grep -E "^(dpdk|dpdk-sys|dataplane) "; then
  echo "wire depends on DPDK" >&2; exit 1
fi
echo "wire: no DPDK crate in its dependency tree"
