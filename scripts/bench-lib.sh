# Shared by scripts/bench.sh (export) and scripts/bench-restore.sh (restore): the server,
# the binary, the scratch directory, the mixed benchmark data and the timing helper.
# Expects lib.sh sourced and script_dir, root set.

# bench_setup OUT_PREFIX: a server (the PG* variables' or a new dev cluster), the
# pgcellar binary in $bin (release build unless PGCELLAR_BIN), a scratch directory in $out.
bench_setup() {
  # GNU time measures peak RSS; bc does the arithmetic.
  required_packages+=(time bc)
  ensure_packages
  ensure_swift
  if [ -z "${PGHOST:-}" ] && [ -z "${PGCELLAR_TEST_DSN:-}" ]; then
    info "no PG* variables: starting a dev cluster (scripts/dev-postgres.sh)"
    "$script_dir/dev-postgres.sh" start
    eval "$("$script_dir/dev-postgres.sh" env)"
  fi
  psql -X -q -d postgres -c 'SELECT 1' >/dev/null || die "cannot connect with the PG* variables; start a server first"

  bin=${PGCELLAR_BIN:-}
  if [ -z "$bin" ]; then
    # As deploy/Containerfile ships it: the Swift runtime linked in statically,
    # which also starts 7 MiB smaller in resident memory.
    info "building pgcellar (release, static Swift runtime)"
    (cd "$root" && swift build -c release --product pgcellar --static-swift-stdlib >&2)
    bin=$root/.build/release/pgcellar
  fi
  [ -x "$bin" ] || die "no pgcellar binary at $bin"

  out=${BENCH_OUT:-}
  if [ -z "$out" ]; then
    out=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf -- "$out"' EXIT
  fi
  mkdir -p "$out"
}

# bench_load_mixed DB SCALE VARIED_ROWS: pgbench data plus a table of varied, less
# compressible rows, loaded once and kept (BENCH_RELOAD=1 reloads).
bench_load_mixed() {
  local db=$1 scale=$2 varied_rows=$3
  local loaded
  loaded=$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [ "${BENCH_RELOAD:-0}" = 1 ] && [ -n "$loaded" ]; then
    dropdb "$db"
    loaded=
  fi
  [ -z "$loaded" ] || return 0
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
}

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
  info "$name: $(cat "$out/$name.wall") s, peak RSS $(( $(cat "$out/$name.rss") / 1024 )) MiB"
}

verdict() { if [ "$(echo "$1" | bc)" = 1 ]; then echo ok; else echo MISSED; fi; }
