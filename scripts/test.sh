#!/usr/bin/env bash
# The one test command: installs what is missing (Debian, as root), builds, starts a
# throwaway PostgreSQL configured like production, runs `swift test` against it and
# stops it again, whatever the tests did.
#
#   scripts/test.sh                      all tests
#   scripts/test.sh --filter Archive     arguments go to `swift test`
#
# With PGCELLAR_TEST_DSN set (and the PG* variables and PGPASSFILE that go with it),
# the tests use that server and none is started.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$script_dir/.."
repo_root=$PWD
lib_prog=test.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# What building and the integration tests need from the system.
required_packages=(
  libpq-dev libssl-dev libzstd-dev pkg-config # the C libraries, found through pkg-config
  postgresql postgresql-contrib               # the server the tests run against
  locales-all                                 # en_US.UTF-8, the production locale
  zstd openssl python3 iproute2               # tools the tests and dev-postgres.sh call
  git ca-certificates                         # SwiftPM fetches dependencies
)

no_main_cluster_conf=/etc/postgresql-common/createcluster.d/pgcellar-no-main-cluster.conf
ensure_packages() {
  if ! is_debian; then
    info "not a Debian system: not checking for ${required_packages[*]}"
    return 0
  fi
  local missing
  read -ra missing <<<"$(missing_packages "${required_packages[@]}")"
  [ "${#missing[@]}" -gt 0 ] || return 0
  # Debian's postgresql packages create and start a `main` cluster on port 5432 unless
  # told otherwise; the tests start their own, so skip it for this installation only.
  if is_root && [[ " ${missing[*]} " == *" postgresql"* ]] && [ ! -e "$no_main_cluster_conf" ]; then
    mkdir -p -- "$(dirname -- "$no_main_cluster_conf")"
    trap 'rm -f -- "$no_main_cluster_conf"' EXIT
    printf 'create_main_cluster = false\n' >"$no_main_cluster_conf"
    apt_install "${missing[@]}"
    rm -f -- "$no_main_cluster_conf"
    trap - EXIT
  else
    apt_install "${missing[@]}"
  fi
}

ensure_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    [ -x /opt/swift/usr/bin/swift ] \
      || die "swift is not on PATH and not in /opt/swift/usr/bin; install a Swift 6 toolchain from https://www.swift.org/install/ and put its usr/bin on PATH"
    PATH=/opt/swift/usr/bin:$PATH
    export PATH
  fi
}

test_dir=""
cleanup() {
  if [ -n "$test_dir" ]; then
    scripts/dev-postgres.sh stop || info "could not stop the test cluster in $test_dir/pg"
    rm -rf -- "$test_dir"
  fi
}

start_cluster() {
  if [ -n "${PGCELLAR_TEST_DSN:-}" ]; then
    info "PGCELLAR_TEST_DSN is set: the tests use that server; starting none"
    return 0
  fi
  test_dir=$(mktemp -d "${TMPDIR:-/tmp}/pgcellar-test.XXXXXX")
  # As root the server runs as another user, which must reach the state directory.
  chmod 0711 "$test_dir"
  export PGCELLAR_DEV_DIR=$test_dir/pg
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  scripts/dev-postgres.sh start
  local exports
  exports=$(scripts/dev-postgres.sh env)
  eval "$exports"
}

ensure_packages
ensure_swift

# Build before starting the server: a compile error should fail fast.
swift build --build-tests
bin_path=$(swift build --show-bin-path)
export PGCELLAR_BIN=$bin_path/pgcellar
if [ -z "${PGCELLAR_TESTDATA:-}" ] && [ -d "$repo_root/../shared/testdata" ]; then
  PGCELLAR_TESTDATA=$(cd -- "$repo_root/../shared/testdata" && pwd)
  export PGCELLAR_TESTDATA
fi

start_cluster

status=0
swift test --skip-build "$@" || status=$?
exit "$status"
