#!/usr/bin/env bash
# Proves deploy/Containerfile's runtime stage without a container engine:
# debootstraps Debian bookworm (minbase) with exactly the RUNTIME_PACKAGES the
# Containerfile names, copies a release binary built with --static-swift-stdlib in,
# and runs `pgcellar --version` and `pgcellar verify` there as a non-root user
# (chroot). Needs root (debootstrap, chroot) and network access to a Debian mirror.
#
#   scripts/check-image.sh [ARCHIVE.sql.zst]
#
# Without an archive, one is exported from the dev PostgreSQL (scripts/dev-postgres.sh)
# by the release binary itself.
# Environment: PGCELLAR_RELEASE_BIN (skip the build), PGCELLAR_IMAGE_ROOT (where the
# root goes; default /tmp/pgcellar-image-root, reused while the package list matches),
# DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
lib_prog=check-image.sh
here=$(cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
cd "$here/.."

is_root || die "debootstrap and chroot need root; run it as root (or with sudo)"
command -v debootstrap >/dev/null || apt_install debootstrap

packages=$(sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"$/\1/p' deploy/Containerfile)
[ -n "$packages" ] || die "deploy/Containerfile names no RUNTIME_PACKAGES"
info "runtime packages (from deploy/Containerfile): $packages"

binary=${PGCELLAR_RELEASE_BIN:-}
if [ -z "$binary" ]; then
  scratch=${PGCELLAR_RELEASE_SCRATCH:-.build-release}
  info "swift build -c release --static-swift-stdlib (slow on a small machine)"
  swift build -c release --static-swift-stdlib --product pgcellar --scratch-path "$scratch" >&2
  binary="$scratch/release/pgcellar"
fi
[ -x "$binary" ] || die "no release binary at $binary"

root=${PGCELLAR_IMAGE_ROOT:-/tmp/pgcellar-image-root}
stamp="$root/.pgcellar-packages"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$packages" ]; then
  rm -rf "$root"
  info "debootstrap --variant=minbase bookworm $root (+ $packages)"
  debootstrap --variant=minbase --include="${packages// /,}" bookworm "$root" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2 || die "debootstrap failed (it needs a Debian mirror; set DEBIAN_MIRROR)"
  printf '%s' "$packages" >"$stamp"
fi

install -D -m 0755 "$binary" "$root/usr/local/bin/pgcellar"
work="$root/tmp/check-image"
rm -rf "$work"
install -d -m 0777 "$work"

archive=${1:-}
if [ -z "$archive" ]; then
  export PGCELLAR_DEV_DIR=${PGCELLAR_DEV_DIR:-/tmp/pgc-check-image}
  # A cluster this script starts, it stops again.
  scripts/dev-postgres.sh status >/dev/null 2>&1 || started_postgres=true
  scripts/dev-postgres.sh start >&2
  eval "$(scripts/dev-postgres.sh env)"
  db=check_image_$$
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >&2
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -c "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g" >&2
  archive="$work/check.sql.zst"
  "$binary" export -d "$db" -o "$archive" --quiet
  psql -X -q -d postgres -c "DROP DATABASE $db" >&2
else
  cp -- "$archive" "$work/check.sql.zst"
fi
chmod 0644 "$work/check.sql.zst"

# A container always has /proc; the Swift runtime reads its arguments from
# /proc/self/cmdline when the standard library is linked statically, so the
# chroot needs it too (without it every command line reads as empty).
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true; [ "${started_postgres:-}" = true ] && scripts/dev-postgres.sh stop >&2 || true' EXIT

# Every library the binary needs is in the root: none "not found".
missing=$(chroot "$root" ldd /usr/local/bin/pgcellar | grep 'not found' || true)
[ -z "$missing" ] || die "libraries missing from the runtime packages: $missing"

as_nonroot() { chroot --userspec=65532:65532 "$root" "$@"; }
version=$(as_nonroot /usr/local/bin/pgcellar --version)
[ "$version" = "$("$binary" --version)" ] || die "pgcellar --version in the root printed something else: $version"
info "pgcellar --version in the bookworm minbase root: $version"
as_nonroot /usr/local/bin/pgcellar verify /tmp/check-image/check.sql.zst >&2
as_nonroot /usr/local/bin/pgcellar verify --deep /tmp/check-image/check.sql.zst >&2
info "OK: the runtime stage runs pgcellar (version $version) as uid 65532 with only: $packages"
