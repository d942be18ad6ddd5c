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
