#!/usr/bin/env bash
# Installs the Debian 12 packages ferrowall needs to build, test and run its lab.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build: DPDK 22.11 LTS and bindgen's libclang
  dpdk dpdk-dev libdpdk-dev libclang-dev clang pkg-config
  # lab and tests: namespaces, veths, real traffic, capture decoding
  iproute2 ethtool iputils-ping python3 python3-scapy tshark bc
  # the control plane's tests: promtool and a real Prometheus server, curl
  prometheus curl
  # real PPTP peers, and Linux as the router to compare with
  pptp-linux pptpd nftables conntrack
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi
