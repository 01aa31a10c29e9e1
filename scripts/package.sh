#!/usr/bin/env bash
# Builds the Debian package: ferrowall_VERSION_ARCH.deb in target/debian (or --out DIR).
#
#   /usr/sbin/ferrowall, /usr/sbin/fwctl          the binaries (release, debug info stripped)
#   /usr/sbin/ferrowall-hugepages, -bind-nics      scripts/hugepages.sh, scripts/bind-nics.sh
#   /usr/lib/ferrowall/container-entrypoint        the container image's entrypoint
#   /etc/ferrowall/ferrowall.toml                  packaging/ferrowall.toml (conffile)
#   /etc/default/ferrowall                         packaging/default.env (conffile)
#   /lib/systemd/system/ferrowall*.{service,timer} packaging/systemd/
#   /usr/lib/tmpfiles.d/ferrowall.conf             /run/ferrowall, root only
#   /usr/share/doc/ferrowall/                      README, deploy guide, Grafana dashboard
#
# Depends on the DPDK runtime libraries the binaries link (found by dpkg-shlibdeps) and
# the EAL plugins every run needs (ring mempool, PCI and vdev buses); recommends the
# PMDs of the common server NICs. dpkg-deb builds it as root:root, every file dated by
# the last commit: packaging the same build twice gives the same bytes.
# Usage: scripts/package.sh [--out DIR] [--revision N]   (the Debian revision, default 1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/target/debian
REVISION=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:?--out needs a directory}; shift ;;
    --revision) REVISION=${2:?--revision needs a number}; shift ;;
    *) echo "package: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

scripts/setup.sh build
cargo build --release --locked -q -p ctrlplane

VERSION=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "ctrlplane"))')
DEB_VERSION=$VERSION-$REVISION
ARCH=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

WORK=$(mktemp -d /tmp/ferrowall-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/root
install -d "$STAGE/DEBIAN" "$STAGE/usr/sbin" "$STAGE/etc/ferrowall" "$STAGE/etc/default" \
  "$STAGE/lib/systemd/system" "$STAGE/usr/lib/tmpfiles.d" "$STAGE/usr/lib/ferrowall" "$STAGE/usr/share/doc/ferrowall/grafana"

for b in ferrowall fwctl; do
  install -m 755 "target/release/$b" "$STAGE/usr/sbin/$b"
  strip --strip-debug --remove-section=.comment "$STAGE/usr/sbin/$b"
done
install -m 755 scripts/hugepages.sh "$STAGE/usr/sbin/ferrowall-hugepages"
install -m 755 scripts/bind-nics.sh "$STAGE/usr/sbin/ferrowall-bind-nics"
install -m 755 packaging/container-entrypoint "$STAGE/usr/lib/ferrowall/container-entrypoint"
install -m 644 packaging/ferrowall.toml "$STAGE/etc/ferrowall/ferrowall.toml"
install -m 644 packaging/default.env "$STAGE/etc/default/ferrowall"
install -m 644 packaging/systemd/*.service packaging/systemd/*.timer "$STAGE/lib/systemd/system/"
install -m 644 packaging/tmpfiles.conf "$STAGE/usr/lib/tmpfiles.d/ferrowall.conf"
install -m 644 README.md docs/deploy.md "$STAGE/usr/share/doc/ferrowall/"
install -m 644 docs/grafana/ferrowall.json "$STAGE/usr/share/doc/ferrowall/grafana/"
install -m 644 packaging/debian/copyright "$STAGE/usr/share/doc/ferrowall/copyright"
printf 'ferrowall (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- ferrowall developers <maintainers@ferrowall.invalid>  %s\n' \
  "$DEB_VERSION" "$(git rev-parse --short HEAD 2>/dev/null || echo "a source tree")" \
  "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$STAGE/usr/share/doc/ferrowall/changelog.Debian.gz"

install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$STAGE/DEBIAN/"
printf '/etc/ferrowall/ferrowall.toml\n/etc/default/ferrowall\n' >"$STAGE/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control of the directory it runs in.
mkdir -p "$WORK/src/debian"
printf 'Source: ferrowall\n\nPackage: ferrowall\nArchitecture: any\n' >"$WORK/src/debian/control"
SHLIBS=$(cd "$WORK/src" && dpkg-shlibdeps -O "$STAGE/usr/sbin/ferrowall" "$STAGE/usr/sbin/fwctl" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# Loaded by EAL as plugins, so no linker sees them: the ring mempool every mbuf pool
# uses, and the buses ports are found on.
PLUGINS="librte-mempool-ring23, librte-bus-pci23, librte-bus-vdev23"
PMDS="librte-net-ixgbe23, librte-net-i40e23, librte-net-ice23, librte-net-mlx5-23, librte-net-bnxt23,"
PMDS+=" librte-net-e1000-23, librte-net-virtio23, librte-net-vmxnet3-23, librte-net-af-packet23"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$DEB_VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
  -e "s/@DEPENDS@/$SHLIBS, $PLUGINS/" -e "s/@RECOMMENDS@/$PMDS/" \
  packaging/debian/control.in >"$STAGE/DEBIAN/control"

find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$OUT"
DEB=$OUT/ferrowall_${DEB_VERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "package: $DEB ($(du -k "$DEB" | cut -f1) KiB, installed $SIZE KiB)"
