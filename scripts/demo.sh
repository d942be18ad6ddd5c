#!/usr/bin/env bash
# The main job, end to end, on a throwaway local PostgreSQL configured like production
# (TLS required, scram-sha-256, log_statement = all):
#
#   1. plan and provision BeerSystem's staging database from config/beersystem-stage.yaml
#      (pointed at the local cluster), then show that a second run changes nothing;
#   2. check: log in as each managed role with the password from its Secret and prove
#      what it may and may not do;
#   3. load sample BeerSystem data as beersystem_admin;
#   4. rotate the admin password and show the new Secret works and the old password not;
#   5. export the database, verify the export, drill it (restore into a scratch database,
#      compare rows and schema, drop it), restore it into a fresh beersystem_restore
#      owned by beersystem_admin, and show the two are equal;
#   6. back it up twice into S3 (moto on loopback, authentication on), list, prune
#      with its plan, restore repo:latest with the same checksums, then an encrypted
#      backup that the stock age CLI decrypts.
#
# Installs what is missing (Debian, as root), builds pgcellar, and stops the cluster at
# the end. Nothing outside a temporary directory is touched.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$script_dir/.."
lib_prog=demo.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

ensure_packages
ensure_swift

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
shown=()
showed() { shown+=("$*"); }

step "building pgcellar"
swift build 2>&1 | tail -1
pgcellar=$(swift build --show-bin-path)/pgcellar

demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/pgcellar-demo.XXXXXX")
chmod 0711 "$demo_dir"
export PGCELLAR_DEV_DIR=$demo_dir/pg
cleanup() {
  PGCELLAR_S3_DEV_DIR=$demo_dir/s3 scripts/dev-s3.sh stop >/dev/null 2>&1 || true
  scripts/dev-postgres.sh stop >/dev/null 2>&1 || true
  rm -rf -- "$demo_dir"
}
trap cleanup EXIT

step "starting a throwaway PostgreSQL (TLS required, scram-sha-256, log_statement = all)"
scripts/dev-postgres.sh start
eval "$(scripts/dev-postgres.sh env)"
psql_bin=$PGCELLAR_TEST_PGBIN/psql
[ -x "$psql_bin" ] || psql_bin=psql

# The seed's configuration, pointed at the local cluster instead of
# postgres-rw.postgres.svc.cluster.local. The admin password comes from PGPASSFILE.
config=$demo_dir/beersystem-stage.yaml
sed -e "s/^  host: .*/  host: 127.0.0.1/" -e "s/^  port: .*/  port: $PGPORT/" \
  config/beersystem-stage.yaml >"$config"
secret=$demo_dir/deploy/beersystem-stage-admin.secret.yaml

step "pgcellar plan (exit 2 with --detailed-exitcode: changes pending)"
set +e
"$pgcellar" plan -c "$config" --detailed-exitcode
plan_status=$?
set -e
[ "$plan_status" -eq 2 ] || die "expected plan to report changes (exit 2), got $plan_status"

step "pgcellar provision"
"$pgcellar" provision -c "$config"
showed "provision created beersystem_stage, beersystem_admin (password only in $(basename "$secret"), mode $(stat -c %a "$secret"))"

step "pgcellar provision again: nothing to do"
log_before=$(stat -c %s "$PGCELLAR_TEST_SERVER_LOG")
"$pgcellar" provision -c "$config"
writes=$(tail -c +"$((log_before + 1))" "$PGCELLAR_TEST_SERVER_LOG" | grep -cE 'statement: (CREATE|ALTER|GRANT|REVOKE|DROP)' || true)
echo "statements that changed something, per the server's log: $writes"
[ "$writes" -eq 0 ] || die "a second provision wrote to the cluster"
showed "a second provision changed nothing (0 writes in the server's statement log)"

step "pgcellar check: log in as beersystem_admin with the Secret's password"
"$pgcellar" check -c "$config"
showed "check proved beersystem_admin's privileges over TLS with the Secret's password"

# psql as the application would: the Secret's own pgpass line, in a 0600 file.
secret_pgpass() {
  local file=$1
  python3 - "$secret" "$file" <<'PY'
import base64, os, re, sys
text = open(sys.argv[1]).read()
value = re.search(r'^\s+pgpass:\s*"?([A-Za-z0-9+/=]+)"?\s*$', text, re.M).group(1)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, base64.b64decode(value))
os.close(fd)
PY
}
as_admin() {
  local pgpass=$demo_dir/admin.pgpass
  secret_pgpass "$pgpass"
  PGPASSFILE=$pgpass "$psql_bin" -X -q -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$PGPORT user=beersystem_admin dbname=${2:-beersystem_stage} sslmode=require" -c "$1"
}

step "loading sample BeerSystem data as beersystem_admin"
as_admin "
CREATE TABLE breweries (id serial PRIMARY KEY, name text NOT NULL UNIQUE, city text);
CREATE TABLE beers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  brewery_id int NOT NULL REFERENCES breweries(id),
  name text NOT NULL,
  style text,
  abv numeric(4,2) CHECK (abv >= 0),
  tasting_notes text,
  released date);
CREATE INDEX beers_style_idx ON beers (style);
CREATE TABLE orders (id serial PRIMARY KEY, beer_id bigint REFERENCES beers(id), quantity int NOT NULL, ordered_at timestamptz NOT NULL DEFAULT now(), details jsonb);
INSERT INTO breweries (name, city) SELECT 'Brewery ' || g, (ARRAY['München','Bruxelles','Portland','Ōsaka'])[1 + g % 4] FROM generate_series(1, 50) g;
INSERT INTO beers (brewery_id, name, style, abv, tasting_notes, released)
  SELECT 1 + g % 50, 'Beer #' || g, (ARRAY['IPA','Stout','Pils','Saison', NULL])[1 + g % 5], (g % 120) / 10.0,
         CASE WHEN g % 7 = 0 THEN E'hoppy\ttabbed\nmultiline \\\\ note' ELSE 'clean' END, date '2020-01-01' + g % 1500
  FROM generate_series(1, 20000) g;
INSERT INTO orders (beer_id, quantity, details) SELECT 1 + g % 20000, 1 + g % 12, jsonb_build_object('channel', 'web', 'n', g) FROM generate_series(1, 100000) g;
"
as_admin "SELECT (SELECT count(*) FROM breweries) AS breweries, (SELECT count(*) FROM beers) AS beers, (SELECT count(*) FROM orders) AS orders;"
showed "beersystem_admin created tables with its Secret's password and loaded 120,050 rows"

has_command() { "$pgcellar" --help | grep -qE "^  $1 "; }

if has_command rotate; then
  step "pgcellar rotate: a new admin password, verified, and a new Secret"
  old_pgpass=$demo_dir/old.pgpass
  secret_pgpass "$old_pgpass"
  "$pgcellar" rotate -c "$config"
  as_admin "SELECT 'the new password from the rotated Secret logs in' AS rotated;"
  if PGPASSFILE=$old_pgpass "$psql_bin" -X -q "host=127.0.0.1 port=$PGPORT user=beersystem_admin dbname=beersystem_stage sslmode=require" -c 'SELECT 1' >/dev/null 2>&1; then
    die "the old password still logs in after rotation"
  fi
  echo "the old password is refused"
  showed "rotate replaced the admin password: the new Secret logs in, the old password is refused"
else
  info "this build has no rotate command yet: skipping rotation"
fi

if has_command export && has_command restore; then
  export_file=$demo_dir/beersystem_stage.sql.zst
  step "pgcellar export (one snapshot, zstd, chunked COPY streams)"
  "$pgcellar" export -c "$config" -o "$export_file"
  step "pgcellar verify and list"
  "$pgcellar" verify "$export_file"
  "$pgcellar" list "$export_file" | head -20
  step "stock tools read it too: zstd -t"
  zstd -q -t "$export_file" && echo "zstd -t: ok"

  if has_command drill; then
    step "pgcellar drill: restore the export into a scratch database, compare every row and object, drop it"
    # A failed drill is a finding about the export: the demo goes on to show the
    # rest, then fails at the end.
    if "$pgcellar" drill "$export_file" --server "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=require" \
      -j 2 --metrics-file "$demo_dir/pgcellar_drill.prom"; then
      showed "drill restored the export into a scratch database, matched every table's row digest and every schema object, and dropped it"
    else
      drill_failed=1
      showed "drill FAILED: the export does not restore as it is (see its report above); destroy would refuse to drop"
    fi
    grep -E '^pgcellar_drill_(rows|mismatches)' "$demo_dir/pgcellar_drill.prom"
    left=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=require" \
      -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'beersystem_stage_drill_%'")
    [ "$left" -eq 0 ] || die "the drill left its scratch database behind"
  fi

  step "pgcellar restore into a fresh beersystem_restore owned by beersystem_admin"
  "$pgcellar" restore "$export_file" --dbname "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_restore sslmode=require" \
    --create --owner beersystem_admin -j 2
  checksum_sql="SELECT string_agg(t || ':' || n, ' ' ORDER BY t) FROM (
      SELECT 'breweries' AS t, md5(string_agg(b::text, ',' ORDER BY b.id)) AS n FROM breweries b
      UNION ALL SELECT 'beers', md5(string_agg(b::text, ',' ORDER BY b.id)) FROM beers b
      UNION ALL SELECT 'orders', md5(string_agg(o::text, ',' ORDER BY o.id)) FROM orders o) s"
  source_sum=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_stage sslmode=require" -c "$checksum_sql")
  restored_sum=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_restore sslmode=require" -c "$checksum_sql")
  echo "source:   $source_sum"
  echo "restored: $restored_sum"
  [ "$source_sum" = "$restored_sum" ] || die "the restored data differs from the source"
  owners=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_restore sslmode=require" -c "
    SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'")
  db_owner=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=require" -c "
    SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'beersystem_restore'")
  echo "beersystem_restore is owned by $db_owner; its tables, sequences and indexes by $owners"
  [ "$owners" = beersystem_admin ] && [ "$db_owner" = beersystem_admin ] || die "the restored database is not owned by beersystem_admin"
  showed "export → verify → restore into beersystem_restore (owned by beersystem_admin) gave identical per-table checksums"
else
  info "this build has no export/restore commands yet: skipping them"
fi

if has_command backup && [ -n "${checksum_sql:-}" ]; then
  step "starting moto, an S3 server on loopback with authentication on (scripts/dev-s3.sh)"
  export PGCELLAR_S3_DEV_DIR=$demo_dir/s3
  scripts/dev-s3.sh start
  eval "$(scripts/dev-s3.sh env)"
  # Credentials come from the file moto's bootstrap wrote (0600), named in the
  # configuration; never from argv.
  s3_location="s3: {endpoint: \"$PGCELLAR_TEST_S3_ENDPOINT\", bucket: $PGCELLAR_TEST_S3_BUCKET, prefix: beersystem/, forcePathStyle: true, credentialsFile: \"$PGCELLAR_TEST_S3_CREDENTIALS_FILE\"}"
  backup_config=$demo_dir/beersystem-backup.yaml
  { cat "$config"; printf 'repository:\n  %s\n  keep: {last: 1}\n' "$s3_location"; } >"$backup_config"
  sed -n '/^repository:/,$p' "$backup_config"

  step "pgcellar backup, twice (into s3://$PGCELLAR_TEST_S3_BUCKET/beersystem/)"
  "$pgcellar" backup -c "$backup_config" --no-prune --metrics-file "$demo_dir/pgcellar_backup.prom"
  as_admin "INSERT INTO orders (beer_id, quantity, details) SELECT 1 + g % 20000, 1, '{}' FROM generate_series(1, 500) g;"
  "$pgcellar" backup -c "$backup_config" --no-prune --metrics-file "$demo_dir/pgcellar_backup.prom"
  grep -E '^pgcellar_backup_' "$demo_dir/pgcellar_backup.prom"

  step "pgcellar backups list"
  "$pgcellar" backups list -c "$backup_config"

  step "pgcellar backups prune (keep: {last: 1}): the plan, then the deletion"
  "$pgcellar" backups prune -c "$backup_config"
  "$pgcellar" backups list -c "$backup_config"
  [ "$("$pgcellar" backups list -c "$backup_config" --json | grep -c '"id"')" -eq 1 ] || die "prune did not leave exactly one backup"
  showed "two backups into S3 (moto, signatures checked), listed; prune kept the newest (keep last 1) and deleted the other"

  step "pgcellar restore repo:latest from S3 (ranged GETs, 2 connections) into beersystem_restore_s3"
  "$pgcellar" restore -c "$backup_config" repo:latest --create -j 2 \
    --dbname "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_restore_s3 sslmode=require"
  source_sum=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_stage sslmode=require" -c "$checksum_sql")
  s3_sum=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_restore_s3 sslmode=require" -c "$checksum_sql")
  echo "source:        $source_sum"
  echo "from S3:       $s3_sum"
  [ "$source_sum" = "$s3_sum" ] || die "the backup restored from S3 differs from the source"
  showed "restore of repo:latest from S3 gave the source's per-table checksums"

  step "an encrypted backup (repository.encryption, age), decrypted by the stock age CLI"
  age-keygen -o "$demo_dir/backup-key.txt" 2>/dev/null
  recipient=$(age-keygen -y "$demo_dir/backup-key.txt")
  encrypted_config=$demo_dir/beersystem-backup-age.yaml
  { cat "$backup_config"; printf '  encryption: {recipients: [%s], required: true}\n' "$recipient"; } >"$encrypted_config"
  "$pgcellar" backup -c "$encrypted_config" --no-prune
  "$pgcellar" backups list -c "$encrypted_config"
  key=$("$pgcellar" backups list -c "$encrypted_config" --json | python3 -c 'import json, sys; b = json.load(sys.stdin)["backups"][0]; print(b["database"] + "/" + b["id"] + "/archive")')
  # The object fetched with boto3 (moto's virtual environment), as any S3 tool would.
  AWS_SHARED_CREDENTIALS_FILE=$PGCELLAR_TEST_S3_CREDENTIALS_FILE "$(ensure_moto_venv)/bin/python" -c '
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").download_file(sys.argv[2], sys.argv[3], sys.argv[4])
' "$PGCELLAR_TEST_S3_ENDPOINT" "$PGCELLAR_TEST_S3_BUCKET" "beersystem/$key" "$demo_dir/backup.age"
  head -c 22 "$demo_dir/backup.age"; echo " ... ($(stat -c %s "$demo_dir/backup.age") bytes)"
  "$psql_bin" -X -q "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres sslmode=require" -c "CREATE DATABASE beersystem_age TEMPLATE template0"
  age -d -i "$demo_dir/backup-key.txt" "$demo_dir/backup.age" | zstd -dc \
    | "$psql_bin" -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_age sslmode=require" >/dev/null
  age_sum=$("$psql_bin" -X -At "host=127.0.0.1 port=$PGPORT user=postgres dbname=beersystem_age sslmode=require" -c "$checksum_sql")
  echo "age | zstd | psql: $age_sum"
  [ "$source_sum" = "$age_sum" ] || die "the encrypted backup decrypted by age differs from the source"
  showed "an encrypted backup in S3 (manifest without table names or counts) decrypted by stock age -d | zstd -dc | psql, same checksums"
else
  info "this build has no backup command yet: skipping backups"
fi

step "what this demo showed"
for line in "${shown[@]}"; do printf '  - %s\n' "$line"; done
[ -z "${drill_failed:-}" ] || die "the drill found that the export does not restore as it is (see its report above)"
