#!/bin/bash
# Builds PostgreSQL's dummy_seclabel test module (src/test/modules/dummy_seclabel),
# the security-label provider the security-label tests use (Debian ships none),
# from Debian's postgresql-15 source package, against the installed server, and
# installs dummy_seclabel.so into the server's pkglibdir. scripts/dev-postgres.sh
# then adds it to shared_preload_libraries, so that every session has the provider.
# Usage: build-dummy-seclabel.sh [WORKDIR]   (default /tmp/debsrc, as build-regress-lib.sh)
# Needs root (apt-get and the pkglibdir) unless the module is already installed.
set -euo pipefail
cd -- "$(dirname -- "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

work=${1:-${TMPDIR:-/tmp}/debsrc}
command -v pg_config >/dev/null 2>&1 || apt_install postgresql-server-dev-15
pkglibdir=$(pg_config --pkglibdir)
target=$pkglibdir/dummy_seclabel.so
if [ -f "$target" ]; then
  info "$target is installed"
  exit 0
fi
is_root || die "dummy_seclabel.so is not in $pkglibdir; run this script as root to build and install it"
[ -f "$(pg_config --includedir-server)/postgres.h" ] || apt_install postgresql-server-dev-15

mkdir -p -- "$work/lists/partial" "$work/parts" "$work/cache/archives/partial"
if ! ls "$work"/postgresql-15_*.orig.tar.bz2 >/dev/null 2>&1; then
  # deb-src entries derived from the machine's own apt sources.
  sed -e 's/^Types: deb$/Types: deb-src/' -e 's/ bookworm-updates//' /etc/apt/sources.list.d/debian.sources >"$work/parts/src.sources"
  apt_options=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/parts" -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache")
  apt-get "${apt_options[@]}" update >/dev/null || die "apt-get update of the deb-src lists failed"
  # The installed minor's source first, then any other 15.x the mirror serves
  # (the module is the same within a major).
  wanted=$(dpkg-query -W -f='${Version}' postgresql-15)
  for version in "$wanted" $(apt-cache "${apt_options[@]}" showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV); do
    (cd -- "$work" && apt-get "${apt_options[@]}" source --download-only "postgresql-15=$version" >/dev/null 2>&1) && break
  done
  ls "$work"/postgresql-15_*.orig.tar.bz2 >/dev/null 2>&1 || die "no postgresql-15 source package could be downloaded into $work"
fi
tarball=$(ls "$work"/postgresql-15_*.orig.tar.bz2 | head -n 1)
tar -C "$work" -xjf "$tarball" --wildcards '*/src/test/modules/dummy_seclabel/*'
source_file=$(ls "$work"/postgresql-15.*/src/test/modules/dummy_seclabel/dummy_seclabel.c | head -n 1)
# shellcheck disable=SC2046  # pg_config's flags are meant to split
gcc $(pg_config --cflags) $(pg_config --cflags_sl) -I"$(pg_config --includedir-server)" -shared \
  -o "$work/dummy_seclabel.so" "$source_file" || die "compiling $source_file failed"
install -m 0755 -- "$work/dummy_seclabel.so" "$target"
info "installed $target"
