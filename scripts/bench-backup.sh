#!/usr/bin/env bash
# Benchmarks `pgcellar backup` into S3 (moto on loopback) against the same backup into
# a local directory, and what age encryption adds to an export.
#
#   scripts/bench-backup.sh     build pgcellar (release) if needed, load the data once, run everything
#
# What it measures, on the mixed data of scripts/bench.sh (pgbench rows plus a table
# of varied, less compressible rows), by default a smaller set than bench.sh's:
#
#   export          pgcellar export -j JOBS to a file
#   export+age      the same with --recipient (age encryption)
#   backup dir      pgcellar backup into repository.path
#   backup s3       pgcellar backup into repository.s3 (moto), multipart
#   backup s3+age   the same with repository.encryption
#   restore dir/s3  pgcellar restore -j JOBS of repo:latest (ranged GETs for S3)
#
# and reports wall time and peak RSS (GNU time), with the bounds issue 13 sets:
# encryption adds at most 10 % to an export; a backup's peak RSS stays within
# 64 MiB + (parts in flight + 1) x part size. moto is Python and shares the 2 cores,
# so the S3 figures are figures, not gates.
#
# Environment: as scripts/bench.sh (PGCELLAR_BIN, BENCH_JOBS, BENCH_OUT, BENCH_RELOAD), and
#   BENCH_DB            database name (default pgcellar_bench_backup; loaded once, kept)
#   BENCH_SCALE         pgbench scale (default 10: about 100 MB of COPY text)
#   BENCH_VARIED_ROWS   rows in the varied table (default 400000: about 65 MB)
# An S3 server named by PGCELLAR_TEST_S3_* is used when set; else one is started
# with scripts/dev-s3.sh and stopped at the end.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
lib_prog=bench-backup.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

db=${BENCH_DB:-pgcellar_bench_backup}
scale=${BENCH_SCALE:-10}
varied_rows=${BENCH_VARIED_ROWS:-400000}
jobs=${BENCH_JOBS:-2}

# shellcheck source=scripts/bench-lib.sh
. "$script_dir/bench-lib.sh"
bench_setup pgcellar-bench-backup
for tool in psql pgbench age-keygen; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done

s3_dir=""
stop_s3() { [ -z "$s3_dir" ] || PGCELLAR_S3_DEV_DIR=$s3_dir "$script_dir/dev-s3.sh" stop >/dev/null 2>&1 || true; }
trap 'stop_s3; [ -n "${BENCH_OUT:-}" ] || rm -rf -- "$out"' EXIT
if [ -z "${PGCELLAR_TEST_S3_ENDPOINT:-}" ]; then
  s3_dir=$out/s3
  PGCELLAR_S3_DEV_DIR=$s3_dir "$script_dir/dev-s3.sh" start
  eval "$(PGCELLAR_S3_DEV_DIR=$s3_dir "$script_dir/dev-s3.sh" env)"
fi

# MARK: - Data and configurations

bench_load_mixed "$db" "$scale" "$varied_rows"
size=$(psql -X -At -d postgres -c "SELECT pg_database_size('$db')")
info "database $db: $((size / 1048576)) MiB on disk"

age-keygen -o "$out/key.txt" 2>/dev/null
recipient=$(age-keygen -y "$out/key.txt")
prefix=bench-$(date +%s)/
config() { # NAME LOCATION [EXTRA]
  cat >"$out/$1.yaml" <<YAML
cluster: {host: ${PGHOST:-127.0.0.1}, port: ${PGPORT:-5432}, user: ${PGUSER:-postgres}, sslmode: ${PGSSLMODE:-require}}
database: {name: $db, owner: ${db}_owner}
roles:
  - {name: ${db}_owner, profile: owner, secret: {name: owner, namespace: bench, file: owner.secret.yaml}}
repository:
  $2
  ${3:-}
YAML
}
s3_location() { # PREFIX
  echo "s3: {endpoint: \"$PGCELLAR_TEST_S3_ENDPOINT\", bucket: $PGCELLAR_TEST_S3_BUCKET, prefix: $1, forcePathStyle: true, credentialsFile: \"$PGCELLAR_TEST_S3_CREDENTIALS_FILE\"}"
}
config dir "path: $out/repo"
config s3 "$(s3_location "${prefix}plain/")"
# A prefix of its own: repo:latest of the plain repository must not be the encrypted backup.
config s3age "$(s3_location "${prefix}age/")" "encryption: {recipients: [$recipient], required: true}"

# MARK: - Runs

run export "$bin" export -d "dbname=$db" -o "$out/export.sql.zst" -j "$jobs" --quiet
run export_age "$bin" export -d "dbname=$db" -o "$out/export.sql.zst.age" -j "$jobs" --recipient "$recipient" --quiet
run backup_dir "$bin" backup -c "$out/dir.yaml" -j "$jobs" --quiet
run backup_s3 "$bin" backup -c "$out/s3.yaml" -j "$jobs" --quiet
run backup_s3_age "$bin" backup -c "$out/s3age.yaml" -j "$jobs" --quiet
for target in dir s3; do
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${db}_restored_$target"
  run "restore_$target" "$bin" restore -c "$out/$target.yaml" repo:latest --create -j "$jobs" \
    --dbname "dbname=${db}_restored_$target" --quiet
  psql -X -q -d postgres -c "DROP DATABASE ${db}_restored_$target"
done

# MARK: - Report

archive=$(stat -c %s "$out/export.sql.zst")
# As S3Configuration.partSize: room for twice pg_database_size in 10,000 parts, whole MiB, at least 5 MiB.
part_mib=$(( (size * 2 / 10000 + 1048575) / 1048576 ))
[ "$part_mib" -ge 5 ] || part_mib=5
in_flight=4
bound=$(( 64 + (in_flight + 1) * part_mib ))
w() { cat "$out/$1.wall"; }
r() { echo "scale=1; $(cat "$out/$1.rss") / 1024" | bc; }

printf '\ndatabase %s MiB on disk, archive %s MiB; S3 parts of %s MiB, %s in flight\n' \
  "$((size / 1048576))" "$(echo "scale=1; $archive / 1048576" | bc)" "$part_mib" "$in_flight"
printf '\n%-22s %10s %14s\n' "" "wall (s)" "peak RSS (MiB)"
for name in export export_age backup_dir backup_s3 backup_s3_age restore_dir restore_s3; do
  printf '%-22s %10.2f %14s\n' "$name" "$(w "$name")" "$(r "$name")"
done
overhead=$(echo "scale=3; ($(w export_age) - $(w export)) / $(w export) * 100" | bc)
printf '\nencryption overhead on export:   %s %% (target <= 10) %s\n' "$overhead" "$(verdict "$overhead <= 10")"
printf 'backup s3 / backup dir wall:     %s (moto shares the cores: a figure, not a gate)\n' "$(echo "scale=2; $(w backup_s3) / $(w backup_dir)" | bc)"
printf 'backup s3 peak RSS:              %s MiB (bound 64 + (%s + 1) x %s = %s MiB) %s\n' \
  "$(r backup_s3)" "$in_flight" "$part_mib" "$bound" "$(verdict "$(r backup_s3) <= $bound")"
printf 'backup s3+age peak RSS:          %s MiB %s\n' "$(r backup_s3_age)" "$(verdict "$(r backup_s3_age) <= $bound")"
