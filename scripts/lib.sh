# shellcheck shell=bash
# Shell helpers shared by scripts/test.sh and scripts/dev-postgres.sh.
# Source it; it defines functions only and changes no shell options.

# Messages go to stderr so that stdout stays free for data (`dev-postgres.sh env`).
lib_prog=${lib_prog:-$(basename -- "$0")}

info() { printf '%s: %s\n' "$lib_prog" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$lib_prog" "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Quotes one value for POSIX shells: the result is safe to `eval`.
shell_quote() {
  local s=${1//\'/\'\\\'\'}
  printf "'%s'" "$s"
}

# MARK: - Debian packages

is_debian() { [ -r /etc/debian_version ] && command -v dpkg-query >/dev/null 2>&1; }

# Succeeds when the package is installed (not merely known or half-removed).
package_installed() {
  local status
  # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [ "$status" = "install ok installed" ]
}

# Prints the given packages that are not installed, space-separated.
missing_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  printf '%s' "${missing[*]:-}"
}

lib_apt_updated=false

# Installs the given packages with apt-get as root; `apt-get update` runs at most once
# per process. Not root: prints the command to run and fails.
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if ! is_root; then
    die "missing Debian packages: $*; install them with: sudo apt-get update && sudo apt-get install -y $*"
  fi
  if [ "$lib_apt_updated" = false ]; then
    info "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    lib_apt_updated=true
  fi
  info "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# MARK: - PostgreSQL

# Prints the PostgreSQL server bin directory: PGCELLAR_PGBIN if set, else Debian's
# /usr/lib/postgresql/<major>/bin (15 preferred, else the newest), else `pg_config --bindir`.
find_pg_bindir() {
  local dir best="" best_major=0 major
  if [ -n "${PGCELLAR_PGBIN:-}" ]; then
    [ -x "$PGCELLAR_PGBIN/postgres" ] || die "PGCELLAR_PGBIN=$PGCELLAR_PGBIN has no postgres binary"
    printf '%s\n' "$PGCELLAR_PGBIN"
    return
  fi
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    printf '%s\n' /usr/lib/postgresql/15/bin
    return
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/postgres" ] || continue
    major=${dir#/usr/lib/postgresql/}
    major=${major%%/*}
    [[ $major =~ ^[0-9]+$ ]] || continue
    if [ "$major" -gt "$best_major" ]; then
      best=$dir
      best_major=$major
    fi
  done
  if [ -z "$best" ] && command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null) || dir=""
    [ -n "$dir" ] && [ -x "$dir/postgres" ] && best=$dir
  fi
  [ -n "$best" ] || die "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin and pg_config --bindir); install it with: apt-get install -y postgresql-15 (or run scripts/test.sh as root, which installs it), or set PGCELLAR_PGBIN to the directory holding initdb, pg_ctl and postgres"
  printf '%s\n' "$best"
}

# MARK: set-up shared by test.sh, demo.sh and bench.sh

# What building, the demo and the integration tests need from the system.
required_packages=(
  libpq-dev libssl-dev libzstd-dev libxxhash-dev pkg-config # the C libraries, found through pkg-config
  libcurl4-openssl-dev                        # HTTP for the S3 object store
  python3-venv                                # the virtual environment moto (dev-s3.sh) runs in
  postgresql postgresql-contrib               # the server the tests run against
  postgresql-server-dev-15                    # headers for the regression database's C library
  locales-all                                 # en_US.UTF-8, the production locale
  zstd openssl python3 iproute2               # tools the tests and dev-postgres.sh call
  time                                        # GNU time: peak memory of a run (HugeRowTests, bench-restore.sh)
  age                                         # the age CLI, for interoperability tests of encrypted exports
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


# MARK: - moto (the S3 server of the tests)

# Prints the virtual environment holding moto's standalone server and boto3,
# creating it on first use (pip needs the network once).
ensure_moto_venv() {
  local venv=${XDG_CACHE_HOME:-$HOME/.cache}/pgcellar/moto-venv
  if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
    info "installing moto[server] and boto3 into $venv"
    mkdir -p -- "$(dirname -- "$venv")"
    python3 -m venv "$venv" >&2 || die "python3 -m venv $venv failed (is python3-venv installed?)"
    "$venv/bin/pip" install -q 'moto[server]>=5,<6' 'boto3>=1.34' >&2 \
      || die "pip could not install moto[server] and boto3 into $venv"
  fi
  printf '%s\n' "$venv"
}
