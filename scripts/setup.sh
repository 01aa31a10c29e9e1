#!/usr/bin/env bash
# Installs the Debian 12 packages ferrowall needs. Idempotent: installs only what is
# missing. Needs root (or sudo).
# Usage: scripts/setup.sh [build|profile]   build: only what building the binaries and
#        the Debian package needs (the container image's build stage); profile: that and
#        valgrind (scripts/profile.sh); default: everything the tests, the lab, the
#        benchmarks and the profile need.
set -euo pipefail

BUILD_PACKAGES=(
  # DPDK 22.11 LTS and bindgen's libclang
  dpdk-dev libdpdk-dev libclang-dev clang pkg-config
  # the Debian package: dpkg-shlibdeps, strip
  dpkg-dev binutils
)
TEST_PACKAGES=(
  dpdk
  # lab and tests: namespaces, veths, real traffic, capture decoding
  iproute2 ethtool iputils-ping python3 python3-scapy tshark bc
  # the control plane's tests: promtool and a real Prometheus server, curl
  prometheus curl
  # the benchmark suite's plot
  gnuplot-nox
  # real PPTP peers, and Linux as the router to compare with
  pptp-linux pptpd nftables conntrack
  # the unit files: systemd-analyze, and a systemd in a container to run them under;
  # the compose file's check
  systemd systemd-container python3-yaml
)
# scripts/profile.sh: instructions per packet on a real EAL
PROFILE_PACKAGES=(valgrind)
case "${1:-all}" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  profile) PACKAGES=("${BUILD_PACKAGES[@]}" "${PROFILE_PACKAGES[@]}") ;;
  all) PACKAGES=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PROFILE_PACKAGES[@]}") ;;
  *) echo "setup: unknown profile $1 (build, profile or all)" >&2; exit 2 ;;
esac

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
