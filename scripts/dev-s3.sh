#!/usr/bin/env bash
# A throwaway S3 server on loopback for the tests: moto's standalone server with
# authentication on (signatures checked), an IAM user allowed s3:*, and a bucket.
#
#   scripts/dev-s3.sh start    start it (a no-op when it runs)
#   scripts/dev-s3.sh env      print `export` lines for it: eval "$(scripts/dev-s3.sh env)"
#   scripts/dev-s3.sh status   exit 0 when it runs, 3 when not
#   scripts/dev-s3.sh stop     stop it and remove its directory
#
# State lives in ${PGCELLAR_S3_DEV_DIR:-${TMPDIR:-/tmp}/pgcellar-s3-dev}: server.log,
# server.pid, port, credentials (an AWS credentials file, 0600), env. moto keeps
# its data in memory: a restarted server is empty. moto is installed on first use
# into a virtual environment, ${XDG_CACHE_HOME:-$HOME/.cache}/pgcellar/moto-venv.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
lib_prog=dev-s3.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

usage() {
  printf 'usage: %s start|stop|env|status\n' "$lib_prog" >&2
  exit 64
}
[ "$#" -eq 1 ] || usage

state_dir=${PGCELLAR_S3_DEV_DIR:-${TMPDIR:-/tmp}/pgcellar-s3-dev}
marker=$state_dir/.pgcellar-s3-dev
pid_file=$state_dir/server.pid
port_file=$state_dir/port
env_file=$state_dir/env
credentials_file=$state_dir/credentials
server_log=$state_dir/server.log
bucket=pgcellar-test

is_running() {
  [ -f "$marker" ] && [ -s "$pid_file" ] && [ -s "$env_file" ] && kill -0 "$(cat -- "$pid_file")" 2>/dev/null
}

stop_server() {
  local pid i
  [ -s "$pid_file" ] || return 0
  pid=$(cat -- "$pid_file")
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# Prints a TCP port nobody listens on at 127.0.0.1 (a race with another process remains).
pick_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd_start() {
  if is_running; then
    info "already running (state in $state_dir)"
    return 0
  fi
  if [ -e "$state_dir" ]; then
    [ -f "$marker" ] || die "$state_dir exists and was not made by $lib_prog; choose another PGCELLAR_S3_DEV_DIR or remove it"
    stop_server
    rm -rf -- "$state_dir"
  fi
  local venv port endpoint i
  venv=$(ensure_moto_venv)
  mkdir -p -- "$state_dir"
  chmod 0700 "$state_dir"
  : >"$marker"
  port=$(pick_port)
  endpoint=http://127.0.0.1:$port
  printf '%s\n' "$port" >"$port_file"
  # The first 4 requests (the IAM calls of s3-bootstrap.py) go unchecked; every
  # later one must be signed by a key moto knows.
  INITIAL_NO_AUTH_ACTION_COUNT=4 setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" \
    >"$server_log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$pid_file"
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$(cat -- "$pid_file")" 2>/dev/null || die "moto_server exited at start (see $server_log)"
    sleep 0.2
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "moto_server does not listen on 127.0.0.1:$port after 20 s (see $server_log)"
  "$venv/bin/python" "$script_dir/s3-bootstrap.py" "$endpoint" "$bucket" "$credentials_file" \
    || die "could not create the test user and bucket in moto (see $server_log)"
  {
    printf 'export PGCELLAR_TEST_S3_ENDPOINT=%s\n' "$(shell_quote "$endpoint")"
    printf 'export PGCELLAR_TEST_S3_BUCKET=%s\n' "$(shell_quote "$bucket")"
    printf 'export PGCELLAR_TEST_S3_REGION=us-east-1\n'
    printf 'export PGCELLAR_TEST_S3_CREDENTIALS_FILE=%s\n' "$(shell_quote "$credentials_file")"
    printf 'export PGCELLAR_TEST_S3_PID=%s\n' "$(cat -- "$pid_file")"
  } >"$env_file"
  info "moto on $endpoint, bucket $bucket, authentication on, state in $state_dir; use: eval \"\$(scripts/dev-s3.sh env)\""
}

cmd_stop() {
  if [ ! -e "$state_dir" ]; then
    info "not running (no $state_dir)"
    return 0
  fi
  [ -f "$marker" ] || die "refusing to remove $state_dir: it was not made by $lib_prog"
  stop_server
  rm -rf -- "$state_dir"
  info "stopped; removed $state_dir"
}

cmd_env() {
  is_running || die "no moto runs in $state_dir; start one with scripts/dev-s3.sh start (same PGCELLAR_S3_DEV_DIR)"
  cat -- "$env_file"
}

cmd_status() {
  if is_running; then
    printf 'running on 127.0.0.1:%s, state in %s\n' "$(cat -- "$port_file")" "$state_dir"
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
  *) usage ;;
esac
