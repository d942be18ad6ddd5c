#!/usr/bin/env bash
# The one test command: installs what is missing (Debian, as root), builds, starts a
# throwaway PostgreSQL configured like production, runs `swift test` against it and
# stops it again, whatever the tests did.
#
#   scripts/test.sh                      all tests
#   scripts/test.sh --filter Archive     arguments go to `swift test`
#
# With PGCELLAR_TEST_DSN set (and the PG* variables and PGPASSFILE that go with it),
# the tests use that server and none is started. Likewise an S3 server (moto, through
# scripts/dev-s3.sh) starts next to it unless PGCELLAR_TEST_S3_ENDPOINT is set.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$script_dir/.."
repo_root=$PWD
lib_prog=test.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

test_dir=""
s3_dir=""
cleanup() {
  if [ -n "$s3_dir" ]; then
    PGCELLAR_S3_DEV_DIR=$s3_dir scripts/dev-s3.sh stop || info "could not stop the test S3 server in $s3_dir"
  fi
  if [ -n "$test_dir" ]; then
    if [ "${PGCELLAR_DEV_DIR:-}" = "$test_dir/pg" ]; then
      scripts/dev-postgres.sh stop || info "could not stop the test cluster in $test_dir/pg"
    fi
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

# PostgreSQL 15's regression database (a test round-trips it) calls C functions
# in regress.so, which its build-regress-lib.sh compiles from Debian's source
# package into /tmp/debsrc, the path the dump names.
regress_builder=${PGCELLAR_TESTDATA:-}/regression/build-regress-lib.sh
if [ -n "${PGCELLAR_TESTDATA:-}" ] && [ -f "$regress_builder" ] && [ ! -f /tmp/debsrc/lib/regress.so ]; then
  info "building the regression database's regress.so in /tmp/debsrc"
  bash "$regress_builder" /tmp/debsrc >/dev/null \
    || info "could not build regress.so: the regression database test will fail and say so"
fi

# The security-label tests need a label provider: PostgreSQL's dummy_seclabel
# test module, built from Debian's source package; the cluster preloads it.
scripts/build-dummy-seclabel.sh /tmp/debsrc \
  || info "could not build dummy_seclabel: the security-label tests will fail and say so"
# An extension with configuration tables, for the export's extension tests.
scripts/install-test-extension.sh \
  || info "could not install the test extension pgcellar_test_config: the extension-member tests will fail and say so"
# moto, with authentication on, for the object store's tests.
start_s3() {
  if [ -n "${PGCELLAR_TEST_S3_ENDPOINT:-}" ]; then
    info "PGCELLAR_TEST_S3_ENDPOINT is set: the tests use that S3 server; starting none"
    return 0
  fi
  if [ -z "$test_dir" ]; then
    test_dir=$(mktemp -d "${TMPDIR:-/tmp}/pgcellar-test.XXXXXX")
    trap cleanup EXIT
  fi
  s3_dir=$test_dir/s3
  PGCELLAR_S3_DEV_DIR=$s3_dir scripts/dev-s3.sh start
  local exports
  exports=$(PGCELLAR_S3_DEV_DIR=$s3_dir scripts/dev-s3.sh env)
  eval "$exports"
}

start_cluster
start_s3

status=0
swift test --skip-build "$@" || status=$?
exit "$status"
