#!/usr/bin/env bash
# Builds Pktgen-DPDK 23.03.0 against Debian 12's DPDK 22.11 (meson, ninja) into
# target/pktgen, with the one patch it needs to run over net_memif (patches/).
#
# Usage: scripts/pktgen/build.sh [SOURCE]
#   SOURCE: a Pktgen-DPDK checkout or unpacked tarball of tag pktgen-23.03.0, or a git
#   repository holding that tag; without it the tag is cloned from GitHub.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=pktgen-23.03.0
OUT=$ROOT/target/pktgen
SRC=$OUT/src

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in meson ninja-build libpcap-dev libnuma-dev pkg-config libdpdk-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "pktgen: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

rm -rf "$SRC"; mkdir -p "$SRC"
if [ $# -ge 1 ] && [ -f "$1/meson.build" ]; then
  cp -a "$1/." "$SRC/"
elif [ $# -ge 1 ] && git -C "$1" rev-parse -q --verify "$TAG^{commit}" >/dev/null; then
  # Two large sample pcaps pktgen never needs may be absent from a partial mirror.
  git -C "$1" archive "$TAG" -- . ':(exclude)pcap/large.pcap' ':(exclude)pcap/traffic_sample.pcap' 2>/dev/null |
    tar -x -C "$SRC"
else
  git clone -q --depth 1 --branch "$TAG" https://github.com/pktgen/Pktgen-DPDK "$SRC"
fi
grep -q "23.03.0" "$SRC/VERSION" || { echo "pktgen: $SRC is not $TAG ($(cat "$SRC/VERSION"))" >&2; exit 1; }
for p in "$ROOT"/scripts/pktgen/patches/*.patch; do
  patch -s -d "$SRC" -p1 <"$p"
done
rm -rf "$OUT/build"
meson setup "$OUT/build" "$SRC" -Dbuildtype=release -Denable_lua=false >/dev/null
ninja -C "$OUT/build" >/dev/null
echo "pktgen: built $OUT/build/app/pktgen ($TAG)"
