#!/usr/bin/env bash
# A throwaway local PostgreSQL configured like production: TLS required,
# scram-sha-256 everywhere, every statement logged.
#
#   scripts/dev-postgres.sh start    create and start it (a no-op when it runs)
#   scripts/dev-postgres.sh env      print `export` lines for it: eval "$(scripts/dev-postgres.sh env)"
#   scripts/dev-postgres.sh status   exit 0 when it runs, 3 when not
#   scripts/dev-postgres.sh stop     stop it and remove its directory
#
# State lives in ${PGCELLAR_DEV_DIR:-${TMPDIR:-/tmp}/pgcellar-dev}: data/, server.log,
# server.crt/.key, pgpass, superuser.password, env. The superuser's password is only
# ever in pgpass and superuser.password (both 0600): never in argv, the environment or
# a statement. As root the server runs as the `postgres` system user (else `pgcellar`,
# created on demand); as anyone else it runs as that user.
# PGCELLAR_PGBIN overrides the PostgreSQL bin directory.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
lib_prog=dev-postgres.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

usage() {
  printf 'usage: %s start|stop|env|status\n' "$lib_prog" >&2
  exit 64
}
[ "$#" -eq 1 ] || usage

# libpq and the server tools read PG* variables (PGHOST, PGPORT, PGDATA, PGSSLMODE,
# PGOPTIONS, ...) that a caller may have exported, even for another cluster.
while IFS= read -r name; do
  case $name in
    PGCELLAR_*) ;;
    PG*) unset "$name" ;;
  esac
done < <(compgen -e)

state_dir=${PGCELLAR_DEV_DIR:-${TMPDIR:-/tmp}/pgcellar-dev}
[ -n "$state_dir" ] || die "PGCELLAR_DEV_DIR is empty"
case $state_dir in /*) ;; *) state_dir=$PWD/$state_dir ;; esac
while [ "${#state_dir}" -gt 1 ] && [ "${state_dir%/}" != "$state_dir" ]; do state_dir=${state_dir%/}; done
[ "$state_dir" != / ] || die "PGCELLAR_DEV_DIR must not be /"
case $state_dir in
  *[\'\"\\,$'\n'$'\t']*) die "the state directory '$state_dir' contains a quote, backslash, comma or control character; set PGCELLAR_DEV_DIR to a plainer path" ;;
esac

marker=$state_dir/.pgcellar-dev
state_file=$state_dir/state
env_file=$state_dir/env
data_dir=$state_dir/data
server_log=$state_dir/server.log
pgpass=$state_dir/pgpass
password_file=$state_dir/superuser.password
cert_file=$state_dir/server.crt
key_file=$state_dir/server.key
pwfile=$state_dir/initdb.pwfile

port="" bindir="" server_user=""

# MARK: - Helpers

# Runs a command as the server user: the server refuses to run as root.
as_server() {
  if is_root; then
    # cd /: the server user may not be allowed into the caller's working directory.
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u "$server_user" -- "$@")
    else
      (cd / && su -s /bin/bash "$server_user" -c "$(printf '%q ' "$@")")
    fi
  else
    "$@"
  fi
}

# Reads what `start` recorded: port, bindir and server_user.
load_state() {
  local key value
  [ -r "$state_file" ] || return 1
  while IFS='=' read -r key value; do
    case $key in
      port) port=$value ;;
      bindir) bindir=$value ;;
      server_user) server_user=$value ;;
    esac
  done <"$state_file"
  [ -n "$port" ] && [ -n "$bindir" ] && [ -n "$server_user" ]
}

is_running() {
  [ -f "$marker" ] && load_state && [ -f "$data_dir/postmaster.pid" ] \
    && as_server "$bindir/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

# Stops a server left in the state directory, whether or not `start` got to record it.
stop_server() {
  [ -f "$data_dir/postmaster.pid" ] || return 0
  if ! load_state; then
    bindir=$(find_pg_bindir)
    server_user=$(stat -c %U -- "$data_dir")
  fi
  as_server "$bindir/pg_ctl" stop -D "$data_dir" -m fast -w -t 60 >/dev/null 2>&1 && return 0
  as_server "$bindir/pg_ctl" stop -D "$data_dir" -m immediate -w -t 30 >/dev/null 2>&1 && return 0
  # pg_ctl stop also fails when no server runs (a stale postmaster.pid).
  ! as_server "$bindir/pg_ctl" status -D "$data_dir" >/dev/null 2>&1
}

remove_state_dir() {
  [ -e "$state_dir" ] || return 0
  if [ ! -f "$marker" ]; then
    rmdir -- "$state_dir" 2>/dev/null \
      || die "refusing to remove $state_dir: it is not empty and was not made by $lib_prog (no .pgcellar-dev in it); choose another PGCELLAR_DEV_DIR or remove it yourself"
    return 0
  fi
  stop_server || die "could not stop the server in $data_dir (see $server_log)"
  rm -rf -- "$state_dir"
}

# Prints a TCP port nobody listens on at 127.0.0.1. A race with another process
# remains; `start` retries with a new port when the server cannot bind.
pick_port() {
  local p i
  if command -v python3 >/dev/null 2>&1 \
    && p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) \
    && [[ $p =~ ^[0-9]+$ ]]; then
    printf '%s\n' "$p"
    return
  fi
  for ((i = 0; i < 200; i++)); do
    p=$((55432 + (RANDOM % 5000)))
    if command -v ss >/dev/null 2>&1; then
      [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && { printf '%s\n' "$p"; return; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      printf '%s\n' "$p"
      return
    fi
  done
  die "found no free TCP port on 127.0.0.1"
}

# Quotes a string for postgresql.conf.
conf_quote() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}

# The server must be able to create en_US.UTF-8 databases (the production locale)
# and initdb needs C.UTF-8.
ensure_locales() {
  command -v locale >/dev/null 2>&1 || die "the locale command is missing (Debian package libc-bin)"
  local available
  available=$(locale -a 2>/dev/null)
  if ! grep -qix 'en_US\.utf-\?8' <<<"$available"; then
    if is_root && is_debian; then
      apt_install locales-all
      available=$(locale -a 2>/dev/null)
    fi
    grep -qix 'en_US\.utf-\?8' <<<"$available" \
      || die "the en_US.UTF-8 locale is missing: install the Debian package locales-all (sudo apt-get install -y locales-all) or generate it with locale-gen"
  fi
  grep -qix 'C\.utf-\?8' <<<"$available" \
    || die "the C.UTF-8 locale is missing: install the Debian package locales-all (sudo apt-get install -y locales-all)"
}

choose_server_user() {
  if ! is_root; then
    server_user=$(id -un) || die "the current uid $(id -u) has no user name; PostgreSQL needs one"
    return
  fi
  if id -u postgres >/dev/null 2>&1; then
    server_user=postgres
  else
    if ! id -u pgcellar >/dev/null 2>&1; then
      command -v useradd >/dev/null 2>&1 || die "no postgres user and no useradd to create the pgcellar user (Debian package passwd)"
      info "creating system user pgcellar to run the server"
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin pgcellar || die "useradd pgcellar failed"
    fi
    server_user=pgcellar
  fi
}

write_exports() {
  local dsn="host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=require"
  local name value
  {
    for name in PGHOST PGPORT PGUSER PGDATABASE PGSSLMODE PGPASSFILE PGCELLAR_TEST_DSN \
      PGCELLAR_TEST_SERVER_LOG PGCELLAR_TEST_PGBIN PGCELLAR_TEST_SUPERUSER_PASSWORD_FILE \
      PGCELLAR_TEST_SSLROOTCERT; do
      case $name in
        PGHOST) value=127.0.0.1 ;;
        PGPORT) value=$port ;;
        PGUSER) value=postgres ;;
        PGDATABASE) value=postgres ;;
        PGSSLMODE) value=require ;;
        PGPASSFILE) value=$pgpass ;;
        PGCELLAR_TEST_DSN) value=$dsn ;;
        PGCELLAR_TEST_SERVER_LOG) value=$server_log ;;
        PGCELLAR_TEST_PGBIN) value=$bindir ;;
        PGCELLAR_TEST_SUPERUSER_PASSWORD_FILE) value=$password_file ;;
        PGCELLAR_TEST_SSLROOTCERT) value=$cert_file ;;
      esac
      printf 'export %s=%s\n' "$name" "$(shell_quote "$value")"
    done
  } >"$env_file"
  chmod 0644 "$env_file"
}

# MARK: - Commands

cmd_start() {
  local started_ms
  started_ms=$(($(date +%s%N) / 1000000))
  if is_running; then
    info "already running on 127.0.0.1:$port (state in $state_dir)"
    return 0
  fi
  if [ -e "$state_dir" ]; then
    [ -d "$state_dir" ] || die "$state_dir exists and is not a directory"
    if [ -f "$marker" ]; then
      info "removing the stopped cluster left in $state_dir"
    fi
    remove_state_dir
  fi

  bindir=$(find_pg_bindir)
  local tool
  for tool in initdb pg_ctl postgres; do
    [ -x "$bindir/$tool" ] || die "$bindir/$tool is missing (Debian package postgresql-15)"
  done
  [ -x "$bindir/psql" ] || die "$bindir/psql is missing (Debian package postgresql-client-15)"
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (Debian package openssl)"
  local socket_path=$state_dir/.s.PGSQL.65535
  [ "${#socket_path}" -le 107 ] \
    || die "the state directory $state_dir is too long for a Unix socket path (at most 107 bytes with .s.PGSQL.NNNNN); set PGCELLAR_DEV_DIR to a shorter path"
  ensure_locales
  choose_server_user

  umask 077
  (umask 022 && mkdir -p -- "$(dirname -- "$state_dir")")
  mkdir -m 0755 -- "$state_dir" || die "cannot create $state_dir"
  : >"$marker"
  # The server writes its socket, lock file and log here.
  if is_root; then
    chown -- "$server_user:" "$state_dir"
    as_server test -w "$state_dir" -a -x "$state_dir" \
      || die "the server user $server_user cannot write to $state_dir: make its parent directories searchable (chmod o+x) or set PGCELLAR_DEV_DIR to a path under /tmp"
  fi
  trap 'rm -f -- "$pwfile"' EXIT

  # Password: 43 URI-safe characters, never on a command line.
  openssl rand -base64 32 | tr -d '=\n' | tr '+/' '-_' >"$password_file"
  local password
  password=$(<"$password_file")
  [ "${#password}" -ge 40 ] || die "openssl rand produced no password"
  cat -- "$password_file" >"$pwfile"
  if is_root; then chown -- "$server_user:" "$pwfile"; fi

  local initdb_log=$state_dir/initdb.log
  as_server "$bindir/initdb" --pgdata="$data_dir" --username=postgres --pwfile="$pwfile" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
    --no-sync >"$initdb_log" 2>&1 \
    || { cat -- "$initdb_log" >&2; die "initdb failed (output above, also in $initdb_log)"; }
  rm -f -- "$pwfile"

  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj /CN=localhost -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    -keyout "$key_file" -out "$cert_file" >"$state_dir/openssl.log" 2>&1 \
    || { cat -- "$state_dir/openssl.log" >&2; die "openssl req could not make the server certificate"; }
  rm -f -- "$state_dir/openssl.log"
  chmod 0600 "$key_file"
  chmod 0644 "$cert_file"
  if is_root; then chown -- "$server_user:" "$key_file" "$cert_file"; fi

  cat >"$data_dir/pg_hba.conf" <<'EOF'
# pgcellar dev cluster: TLS and scram-sha-256 required, like production.
# TYPE    DATABASE  USER  ADDRESS        METHOD
local     all       all                  scram-sha-256
hostssl   all       all   127.0.0.1/32   scram-sha-256
hostssl   all       all   ::1/128        scram-sha-256
hostnossl all       all   0.0.0.0/0      reject
hostnossl all       all   ::/0           reject
EOF

  local initdb_conf
  initdb_conf=$(<"$data_dir/postgresql.conf")
  # The security-label tests' provider (scripts/build-dummy-seclabel.sh), when installed.
  local preload="pg_stat_statements"
  [ -f "$bindir/../lib/dummy_seclabel.so" ] && preload="$preload,dummy_seclabel"
  local attempt log_size new_log
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    # Later lines win over initdb's; truncating keeps the file's owner and mode.
    cat >"$data_dir/postgresql.conf" <<EOF
$initdb_conf

# pgcellar dev cluster (scripts/dev-postgres.sh): configured like production.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = $(conf_quote "\"$state_dir\"")
ssl = on
ssl_cert_file = $(conf_quote "$cert_file")
ssl_key_file = $(conf_quote "$key_file")
password_encryption = scram-sha-256
logging_collector = off
log_statement = 'all'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
max_connections = 200
# An export locks every table in one transaction, as pg_dump does: room for
# 20,000-table schemas (scripts/bench-many.sh) without "out of shared memory".
max_locks_per_transaction = 512
shared_buffers = 256MB
max_wal_size = 4GB
# As many production clusters do; rotation must keep verifiers out of it.
shared_preload_libraries = '$preload'
EOF
    log_size=0
    [ -f "$server_log" ] && log_size=$(stat -c %s -- "$server_log")
    if as_server "$bindir/pg_ctl" start -D "$data_dir" -l "$server_log" -w -t 60 >/dev/null 2>&1; then
      break
    fi
    new_log=$(tail -c +"$((log_size + 1))" -- "$server_log" 2>/dev/null || true)
    stop_server || true
    if grep -q 'could not bind\|could not create any TCP/IP sockets\|could not create lock file' <<<"$new_log" \
      && [ "$attempt" -lt 5 ]; then
      info "port $port is taken, trying another"
      continue
    fi
    printf '%s\n' "$new_log" >&2
    die "the server did not start (its log is above and in $server_log)"
  done

  # libpq looks up Unix-socket connections under the socket directory's path
  # (only the compiled-in default directory counts as localhost).
  local socket_host=${state_dir//:/\\:}
  printf '%s:%s:*:postgres:%s\n' 127.0.0.1 "$port" "$password" localhost "$port" "$password" \
    "$socket_host" "$port" "$password" >"$pgpass"
  chmod 0600 "$pgpass" "$password_file"
  printf 'port=%s\nbindir=%s\nserver_user=%s\n' "$port" "$bindir" "$server_user" >"$state_file"
  chmod 0644 "$state_file"
  write_exports

  # Prove the production-like contract: TLS works with the password from pgpass,
  # and a connection without TLS is refused by pg_hba.conf.
  local conninfo="host=127.0.0.1 port=$port user=postgres dbname=postgres"
  local out
  if ! out=$(PGPASSFILE=$pgpass "$bindir/psql" -X -w -At -d "$conninfo sslmode=require" \
    -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>&1) || [ "$out" != t ]; then
    stop_server || true
    die "a TLS connection as postgres failed: $out (server log: $server_log)"
  fi
  if out=$(PGPASSFILE=$pgpass "$bindir/psql" -X -w -At -d "$conninfo sslmode=disable" -c 'select 1' 2>&1); then
    stop_server || true
    die "a connection without TLS was accepted; pg_hba.conf should reject it"
  elif ! grep -q 'pg_hba.conf rejects' <<<"$out"; then
    stop_server || true
    die "a connection without TLS failed for an unexpected reason: $out"
  fi

  local version elapsed
  version=$("$bindir/postgres" --version)
  version=${version##* (PostgreSQL) }
  version=${version%% *}
  elapsed=$(($(date +%s%N) / 1000000 - started_ms))
  elapsed=$((elapsed / 1000)).$((elapsed % 1000 / 100))
  info "PostgreSQL $version on 127.0.0.1:$port as $server_user, TLS required, state in $state_dir (${elapsed}s); use: eval \"\$(scripts/dev-postgres.sh env)\""
}

cmd_stop() {
  if [ ! -e "$state_dir" ]; then
    info "not running (no $state_dir)"
    return 0
  fi
  remove_state_dir
  info "stopped; removed $state_dir"
}

cmd_env() {
  is_running || die "no cluster runs in $state_dir; start one with scripts/dev-postgres.sh start (same PGCELLAR_DEV_DIR)"
  cat -- "$env_file"
}

cmd_status() {
  if is_running; then
    printf 'running on 127.0.0.1:%s as %s, state in %s\n' "$port" "$server_user" "$state_dir"
  else
    printf 'not running (state directory %s)\n' "$state_dir"
    exit 3
  fi
}

case $1 in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  status) cmd_status ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
