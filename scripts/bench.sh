#!/usr/bin/env bash
# Benchmarks `pgcellar export` against pg_dump on the same cluster, in one run.
#
#   scripts/bench.sh            build pgcellar (release) if needed, load the data once, run everything
#
# What it measures, on a database of pgbench data plus a table of varied, less
# compressible rows (about 1 GB of COPY text in all):
#
#   limit        the same tables copied TO STDOUT into /dev/null on JOBS parallel connections
#   pgcellar     pgcellar export -j JOBS --level LEVEL
#   pg_dump -Fc  pg_dump's custom format (one connection, gzip)
#   pg_dump -Fd  pg_dump's directory format with -j JOBS (gzip)
#
# and reports wall time, output size and peak RSS (GNU time), with the ratios the
# export issue asks for: wall time <= 0.4 of pg_dump -Fd -jJOBS, size <= 0.9 of
# pg_dump -Fc, peak RSS < 64 MiB.
#
# The server: whatever the PG* variables name (eval "$(scripts/dev-postgres.sh env)"),
# else a dev cluster that this script starts with scripts/dev-postgres.sh.
#
# Environment:
#   PGCELLAR_BIN        the pgcellar binary (default: build .build/release/pgcellar)
#   BENCH_DB            database name (default pgcellar_bench; loaded once, kept)
#   BENCH_SCALE         pgbench scale (default 60: about 600 MB of COPY text)
#   BENCH_VARIED_ROWS   rows in the varied table (default 2500000: about 400 MB)
#   BENCH_JOBS          parallel connections (default 2)
#   BENCH_LEVEL         zstd level for pgcellar (default 3)
#   BENCH_OUT           scratch directory for the outputs (default: a new temp dir, removed after)
#   BENCH_RELOAD=1      drop and reload the database
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
lib_prog=bench.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

db=${BENCH_DB:-pgcellar_bench}
scale=${BENCH_SCALE:-60}
varied_rows=${BENCH_VARIED_ROWS:-2500000}
jobs=${BENCH_JOBS:-2}
level=${BENCH_LEVEL:-3}

for tool in psql pg_dump pgbench zstd; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed to measure peak RSS (apt-get install time)"

# MARK: - Server and binary

if [ -z "${PGHOST:-}" ] && [ -z "${PGCELLAR_TEST_DSN:-}" ]; then
  info "no PG* variables: starting a dev cluster (scripts/dev-postgres.sh)"
  "$script_dir/dev-postgres.sh" start
  eval "$("$script_dir/dev-postgres.sh" env)"
fi
psql -X -q -d postgres -c 'SELECT 1' >/dev/null || die "cannot connect with the PG* variables; start a server first"

bin=${PGCELLAR_BIN:-}
if [ -z "$bin" ]; then
  info "building pgcellar (release)"
  (cd "$root" && swift build -c release --product pgcellar >&2)
  bin=$root/.build/release/pgcellar
fi
[ -x "$bin" ] || die "no pgcellar binary at $bin"

out=${BENCH_OUT:-}
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/pgcellar-bench.XXXXXX")
  trap 'rm -rf -- "$out"' EXIT
fi
mkdir -p "$out"

# MARK: - Data

loaded=$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "${BENCH_RELOAD:-0}" = 1 ] && [ -n "$loaded" ]; then
  dropdb "$db"
  loaded=
fi
if [ -z "$loaded" ]; then
  info "loading $db: pgbench scale $scale and $varied_rows varied rows (once; kept for later runs)"
  createdb "$db"
  pgbench -i -q -s "$scale" -d "$db" >&2
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE TABLE varied (
    id bigint PRIMARY KEY,
    customer uuid NOT NULL,
    email text NOT NULL,
    status text NOT NULL,
    amount numeric(12, 2),
    ratio double precision,
    happened timestamptz,
    tags text[],
    note text,
    payload jsonb
);
-- Rows like an application's: names and words from a vocabulary in random
-- order, random amounts, times and ratios, one random uuid; far less
-- compressible than pgbench's blank-padded rows.
CREATE TEMP TABLE words AS
SELECT array_agg(w) AS w FROM regexp_split_to_table(
  'ale barley bitter bock brewery cask cellar crisp dark dry ester ferment finish foam gravity hazy hop kettle lager ' ||
  'malt mash pale pilsner porter roast saison sour stout sweet tap wheat yeast amber batch body bottle copper dunkel ' ||
  'export golden grain haze kolsch lambic lupulin mild oak pint quad rye session smoke spice tripel wort zest keg', ' ') AS w;
INSERT INTO varied
SELECT g,
       md5(g::text || 'c')::uuid,
       lower(w[1 + (g * 7) % array_length(w, 1)]) || '.' || w[1 + (g * 13) % array_length(w, 1)] || (g % 1000) || '@example.' || (ARRAY['com', 'org', 'net', 'de'])[1 + g % 4],
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'returned', 'cancelled'])[1 + (random() * 5)::int],
       round((random() * 100000)::numeric, 2),
       random(),
       timestamptz '2020-01-01' + random() * interval '1500 days',
       ARRAY[w[1 + (random() * (array_length(w, 1) - 1))::int], w[1 + (random() * (array_length(w, 1) - 1))::int]],
       (SELECT string_agg(w[1 + (random() * (array_length(w, 1) - 1))::int + 0 * s], ' ') FROM generate_series(1, 4 + g % 12) AS s),
       jsonb_build_object('score', (random() * 100)::int, 'ref', 'R-' || (g * 31 % 100000), 'ok', g % 3 = 0)
FROM generate_series(1, $varied_rows) AS g, words;
VACUUM ANALYZE;
SQL
fi
tables=$(psql -X -At -d "$db" -c "SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY pg_relation_size(c.oid) DESC")
raw=$(psql -X -At -d "$db" -c "SELECT pg_database_size('$db')")
info "database $db: $((raw / 1048576)) MiB on disk; tables: $(echo "$tables" | tr '\n' ' ')"

# MARK: - Runs

# run NAME COMMAND...: wall seconds and peak RSS (KiB) of COMMAND into $out/NAME.{wall,rss}
run() {
  local name=$1
  shift
  sync
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$out/$name.rss" "$@"
  end=$(date +%s.%N)
  echo "$end - $start" | bc > "$out/$name.wall"
  info "$name: $(cat "$out/$name.wall") s"
}

# The limit: every table copied to /dev/null, JOBS tables at a time.
copy_all() {
  echo "$tables" | xargs -P "$jobs" -I{} sh -c 'psql -X -q -d "$1" -c "COPY $2 TO STDOUT" > /dev/null' _ "$db" {}
}

rm -rf "$out/fd" "$out/export.sql.zst" "$out/dump.fc"
run limit bash -c "$(declare -f copy_all); tables='$tables' db='$db' jobs='$jobs' copy_all"
run pgcellar "$bin" export -d "dbname=$db" -o "$out/export.sql.zst" -j "$jobs" --level "$level" --quiet
run pg_dump_fc pg_dump -Fc -d "$db" -f "$out/dump.fc"
run pg_dump_fd pg_dump -Fd -j "$jobs" -d "$db" -f "$out/fd"
"$bin" verify "$out/export.sql.zst" --quiet || die "the export does not verify"

size_of() { du -sb "$1" | cut -f1; }
size_pgcellar=$(size_of "$out/export.sql.zst")
size_fc=$(size_of "$out/dump.fc")
size_fd=$(size_of "$out/fd")

# MARK: - Report

ratio() { echo "scale=3; $1 / $2" | bc; }
mib() { echo "scale=1; $1 / 1048576" | bc; }
w() { cat "$out/$1.wall"; }
r() { cat "$out/$1.rss"; }

printf '\n%-14s %10s %12s %14s\n' "" "wall (s)" "size (MiB)" "peak RSS (MiB)"
printf '%-14s %10.2f %12s %14s\n' "limit (COPY)" "$(w limit)" "-" "-"
printf '%-14s %10.2f %12s %14s\n' "pgcellar -j$jobs" "$(w pgcellar)" "$(mib "$size_pgcellar")" "$(echo "scale=1; $(r pgcellar) / 1024" | bc)"
printf '%-14s %10.2f %12s %14s\n' "pg_dump -Fc" "$(w pg_dump_fc)" "$(mib "$size_fc")" "$(echo "scale=1; $(r pg_dump_fc) / 1024" | bc)"
printf '%-14s %10.2f %12s %14s\n' "pg_dump -Fd -j$jobs" "$(w pg_dump_fd)" "$(mib "$size_fd")" "$(echo "scale=1; $(r pg_dump_fd) / 1024" | bc)"

wall_ratio=$(ratio "$(w pgcellar)" "$(w pg_dump_fd)")
limit_ratio=$(ratio "$(w limit)" "$(w pg_dump_fd)")
size_ratio=$(ratio "$size_pgcellar" "$size_fc")
rss_mib=$(echo "scale=1; $(r pgcellar) / 1024" | bc)
verdict() { if [ "$(echo "$1" | bc)" = 1 ]; then echo ok; else echo MISSED; fi; }
printf '\nexport wall / pg_dump -Fd -j%s wall: %s (target <= 0.4; the COPY limit is %s) %s\n' "$jobs" "$wall_ratio" "$limit_ratio" "$(verdict "$wall_ratio <= 0.4")"
printf 'export size / pg_dump -Fc size:     %s (target <= 0.9) %s\n' "$size_ratio" "$(verdict "$size_ratio <= 0.9")"
printf 'export peak RSS:                    %s MiB (target < 64) %s\n' "$rss_mib" "$(verdict "$rss_mib < 64")"
