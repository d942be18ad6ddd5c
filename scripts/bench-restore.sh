#!/usr/bin/env bash
# Benchmarks `pgcellar restore` against `pg_restore -j JOBS` (from `pg_dump -Fd`)
# on the same cluster and the same data, in one run.
#
#   scripts/bench-restore.sh      build pgcellar (release) if needed, load the data once, run everything
#
# Two source databases:
#
#   mixed    pgbench data plus a table of varied, less compressible rows (the export
#            benchmark's data; scripts/bench.sh loads the same into BENCH_DB)
#   single   one large table: BENCH_SINGLE_ROWS varied rows with three indexes
#
# For each: pgcellar export (not timed here) and pg_dump -Fd -j JOBS, then into fresh
# databases, one after the other:
#
#   pgcellar     pgcellar restore FILE --create -j JOBS
#   pg_restore   createdb + pg_restore -j JOBS -d DB DIR
#
# Median wall time of BENCH_RUNS alternating runs and peak RSS (GNU time) of each, and the ratios the restore issue asks
# for: wall time <= 0.9 of pg_restore's on the mixed data, <= 0.8 on the single
# large table, peak RSS < 64 MiB. pgcellar restore also runs ANALYZE and checks
# every chunk's SHA-256 and row count; pg_restore does neither.
#
# Environment:
#   PGCELLAR_BIN        the pgcellar binary (default: build .build/release/pgcellar)
#   BENCH_DB            mixed database (default pgcellar_bench; loaded once, kept)
#   BENCH_SINGLE_DB     single-table database (default pgcellar_bench_single)
#   BENCH_SCALE         pgbench scale (default 60)
#   BENCH_VARIED_ROWS   rows of the mixed database's varied table (default 2500000)
#   BENCH_SINGLE_ROWS   rows of the single large table (default 1000000)
#   BENCH_JOBS          parallel connections (default 2)
#   BENCH_RUNS          alternating runs of each tool; the median wall time counts (default 3)
#   BENCH_ONLY          mixed or single: run just one of the two
#   BENCH_OUT           scratch directory (default: a new temp dir, removed after)
#   BENCH_RELOAD=1      drop and reload the source databases
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
lib_prog=bench-restore.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

mixed_db=${BENCH_DB:-pgcellar_bench}
single_db=${BENCH_SINGLE_DB:-pgcellar_bench_single}
scale=${BENCH_SCALE:-60}
varied_rows=${BENCH_VARIED_ROWS:-2500000}
single_rows=${BENCH_SINGLE_ROWS:-1000000}
jobs=${BENCH_JOBS:-2}
runs=${BENCH_RUNS:-3}


# shellcheck source=scripts/bench-lib.sh
. "$script_dir/bench-lib.sh"
bench_setup pgcellar-bench-restore
for tool in psql pg_dump pg_restore pgbench createdb dropdb bc; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed to measure peak RSS (apt-get install time)"

# MARK: - Data

varied_table_sql() { # NAME ROWS
  cat <<SQL
CREATE TABLE $1 (
    id bigint PRIMARY KEY,
    customer uuid NOT NULL,
    amount numeric(12, 2),
    ratio double precision,
    happened timestamptz,
    tags text[],
    note text,
    payload jsonb
);
INSERT INTO $1
SELECT g,
       md5(g::text || 'c')::uuid,
       round((random() * 100000)::numeric, 2),
       random(),
       timestamptz '2020-01-01' + random() * interval '1500 days',
       ARRAY[md5(g::text)::varchar(6), (g % 97)::text],
       substr(md5(random()::text) || md5(random()::text) || encode(sha256(g::text::bytea), 'base64'), 1, 40 + (g % 60)),
       jsonb_build_object('k', g % 1000, 'h', substr(md5(random()::text), 1, 16), 'v', random())
FROM generate_series(1, $2) AS g;
SQL
}

exists() { [ -n "$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; }

load_mixed() { bench_load_mixed "$mixed_db" "$scale" "$varied_rows"; }

load_single() {
  if [ "${BENCH_RELOAD:-0}" = 1 ] && exists "$single_db"; then dropdb "$single_db"; fi
  exists "$single_db" && return
  info "loading $single_db: one table of $single_rows varied rows with three indexes (once; kept)"
  createdb "$single_db"
  {
    varied_table_sql big "$single_rows"
    echo "CREATE INDEX big_customer_idx ON big (customer);"
    echo "CREATE INDEX big_happened_idx ON big (happened);"
    echo "VACUUM ANALYZE;"
  } | psql -X -q -v ON_ERROR_STOP=1 -d "$single_db"
}

# MARK: - Runs

# pg_restore into a database that createdb makes first, timed together.
pg_restore_fresh() { # TARGET DIR
  createdb -T template0 "$1" && pg_restore -j "$jobs" -d "$1" "$2"
}

bench() { # LABEL SOURCE_DB TARGET_RATIO
  local label=$1 source=$2 target=$3
  local archive=$out/$label.sql.zst dir=$out/$label.fd
  local restored_pgcellar=${source}_r_pgcellar restored_pg=${source}_r_pgrestore
  rm -rf "$archive" "$dir" "$out/$label".*.wall "$out/$label".*.rss
  info "$label: exporting $source (pgcellar export -j $jobs, pg_dump -Fd -j $jobs)"
  "$bin" export -d "dbname=$source" -o "$archive" -j "$jobs" --quiet
  pg_dump -Fd -j "$jobs" -d "$source" -f "$dir"
  for db in "$restored_pgcellar" "$restored_pg"; do dropdb --if-exists "$db"; done

  # Alternating runs; the median wall time and the largest peak RSS count
  # (a shared 2-core machine is noisy).
  local round tables sum_a sum_b
  tables=$(psql -X -At -d "$source" -c "SELECT string_agg(format('(SELECT count(*) FROM %s)', c.oid::regclass), ' + ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'")
  for round in $(seq 1 "$runs"); do
    run "$label.pg_restore.$round" bash -c "$(declare -f pg_restore_fresh); jobs=$jobs pg_restore_fresh '$restored_pg' '$dir'"
    run "$label.pgcellar.$round" "$bin" restore "$archive" --create -j "$jobs" --quiet --dbname "dbname=$restored_pgcellar"
    # Same rows in both (the restore's own checks are stronger; this is a sanity check).
    sum_a=$(psql -X -At -d "$restored_pgcellar" -c "SELECT $tables")
    sum_b=$(psql -X -At -d "$restored_pg" -c "SELECT $tables")
    [ "$sum_a" = "$sum_b" ] || die "$label: pgcellar restored $sum_a rows, pg_restore $sum_b"
    for db in "$restored_pgcellar" "$restored_pg"; do dropdb --if-exists "$db"; done
  done
  for tool in pg_restore pgcellar; do
    cat "$out/$label.$tool".*.wall | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' > "$out/$label.$tool.wall"
    cat "$out/$label.$tool".*.rss | sort -n | tail -1 > "$out/$label.$tool.rss"
  done

  local wall_ratio rss_mib
  wall_ratio=$(echo "scale=3; $(cat "$out/$label.pgcellar.wall") / $(cat "$out/$label.pg_restore.wall")" | bc)
  rss_mib=$(echo "scale=1; $(cat "$out/$label.pgcellar.rss") / 1024" | bc)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$(cat "$out/$label.pgcellar.wall")" "$(cat "$out/$label.pg_restore.wall")" \
    "$wall_ratio" "$target" "$rss_mib" "$(echo "scale=1; $(cat "$out/$label.pg_restore.rss") / 1024" | bc)" >> "$out/results"
}

: > "$out/results"
if [ "${BENCH_ONLY:-mixed}" = mixed ] || [ -z "${BENCH_ONLY:-}" ]; then load_mixed; bench mixed "$mixed_db" 0.9; fi
if [ "${BENCH_ONLY:-single}" = single ] || [ -z "${BENCH_ONLY:-}" ]; then load_single; bench single "$single_db" 0.8; fi

# MARK: - Report

printf '\n%-8s %14s %16s %8s %8s %18s %20s\n' "data" "pgcellar (s)" "pg_restore (s)" "ratio" "target" "pgcellar RSS MiB" "pg_restore RSS MiB"
while IFS=$'\t' read -r label ours theirs ratio target rss theirs_rss; do
  printf '%-8s %14.2f %16.2f %8s %8s %18s %20s   wall %s, RSS %s\n' "$label" "$ours" "$theirs" "$ratio" "<= $target" "$rss" "$theirs_rss" \
    "$(verdict "$ratio <= $target")" "$(verdict "$rss < 64")"
done < "$out/results"
