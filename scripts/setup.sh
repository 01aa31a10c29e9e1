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
  # the benchmark suite's plot
  gnuplot-nox
  # real PPTP peers, and Linux as the router to compare with
  pptp-linux pptpd nftables conntrack
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# pptpd and prometheus come with services that would start on the host (listening on
# 1723 and 9090); the tests run their own inside namespaces. While installing, a
# policy-rc.d (Debian's mechanism for this) keeps any service from starting, unless the
# machine already has one of its own.
no_services_during() {
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then "$@"; return; fi
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
  local rc=0
  "$@" || rc=$?
  as_root rm -f "$policy"
  return $rc
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -q
  no_services_during as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # With systemd, a service that was only prevented from starting is still enabled.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    for svc in pptpd prometheus; do as_root systemctl disable -q "$svc" 2>/dev/null || true; done
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust (rustup) first" >&2
  exit 1
fi
