#!/usr/bin/env bash
# Installs pgcellar_test_config, a tiny extension with configuration tables
# (pg_extension_config_dump), into the test server's extension directory: no
# Debian package ships one, and the export tests need one. Needs write access
# to that directory (root); safe to run again.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
lib_prog=install-test-extension.sh
# shellcheck source=scripts/lib.sh
. "$script_dir/lib.sh"

bindir=${PGCELLAR_PGBIN:-$(find_pg_bindir)}
if [ -x "$bindir/pg_config" ]; then
  sharedir=$("$bindir/pg_config" --sharedir)
else
  # Debian: /usr/lib/postgresql/15/bin -> /usr/share/postgresql/15
  sharedir=/usr/share/postgresql/$(basename -- "$(dirname -- "$bindir")")
fi
extdir=$sharedir/extension
[ -d "$extdir" ] || die "no extension directory at $extdir: is the PostgreSQL server installed?"
[ -w "$extdir" ] || die "cannot write to $extdir: run scripts/test.sh (or this script) as root"

cat >"$extdir/pgcellar_test_config.control" <<'CONTROL'
comment = 'pgcellar tests: an extension with configuration tables'
default_version = '1.0'
relocatable = false
schema = public
CONTROL

cat >"$extdir/pgcellar_test_config--1.0.sql" <<'SCRIPT'
CREATE TABLE @extschema@.ext_settings (name text PRIMARY KEY, value text, standard boolean NOT NULL DEFAULT false);
INSERT INTO @extschema@.ext_settings VALUES ('shipped', 'with the extension', true);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ext_settings', 'WHERE NOT standard');
CREATE TABLE @extschema@.ext_journal (id int, note text);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ext_journal', '');
CREATE FUNCTION @extschema@.ext_hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hello' $$;
SCRIPT
info "installed pgcellar_test_config into $extdir"
