#!/usr/bin/env bash
# The container image's build steps, one stage each; docker/Dockerfile runs nothing
# else, and CI runs the same stages on its own machine.
#
#   steps.sh build OUT      (source tree) builds the Debian package into OUT, with this
#                           script beside it
#   steps.sh runtime DIR [--image]
#                           installs DIR's package with apt (DPDK's runtime libraries,
#                           the PMDs and the container entrypoint come with it); --image
#                           also empties apt's caches and removes DIR
#   steps.sh peer [--image] installs what the lab's peers need (Python, iproute2)
#   steps.sh lint           checks that the Dockerfiles' RUN steps are this script's
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

build() {
  local out=${1:?build needs an output directory}
  mkdir -p "$out"
  "$HERE/../scripts/package.sh" --out "$out"
  install -m 755 "$HERE/steps.sh" "$out/"
}

runtime() {
  local dir=${1:?runtime needs the directory of the package}
  local debs=("$dir"/ferrowall_*.deb)
  [ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || { echo "steps: want one ferrowall_*.deb in $dir" >&2; exit 1; }
  # apt's lists are there on a machine that has installed anything; an image starts bare.
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$(realpath "${debs[0]}")"
  if [ "${2:-}" = --image ]; then
    apt-get clean
    rm -rf /var/lib/apt/lists/* "$dir"
  fi
}

peer() {
  local missing=()
  for p in python3 iproute2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ "${1:-}" = --image ]; then
    apt-get clean
    rm -rf /var/lib/apt/lists/*
  fi
}

lint() {
  local bad f
  for f in "$HERE"/Dockerfile*; do
    bad=$(grep -E '^RUN ' "$f" | grep -vE '^RUN (docker/|/tmp/ferrowall/|/tmp/)steps\.sh (build|runtime|peer)( |$)' || true)
    [ -z "$bad" ] || { echo "steps: $(basename "$f") has RUN steps that are not steps.sh: $bad" >&2; exit 1; }
  done
  for stage in build runtime; do
    grep -qE "^RUN .*steps\.sh $stage " "$HERE/Dockerfile" || { echo "steps: the Dockerfile never runs '$stage'" >&2; exit 1; }
  done
  grep -qE "^RUN .*steps\.sh peer" "$HERE/Dockerfile.peer" || { echo "steps: Dockerfile.peer never runs 'peer'" >&2; exit 1; }
  echo "steps: the Dockerfiles run only steps.sh build, runtime and peer"
}

case "${1:-}" in
  build) build "${2:-}" ;;
  runtime) runtime "${2:-}" "${3:-}" ;;
  peer) peer "${2:-}" ;;
  lint) lint ;;
  *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
