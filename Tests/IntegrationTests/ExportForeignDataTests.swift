import Foundation
import Testing

@Suite("Export: foreign-data wrappers, servers, user mappings and foreign tables", .serialized)
struct ExportForeignDataTests {
    static let schema = """
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kinds_fdw_user') THEN CREATE ROLE kinds_fdw_user; END IF;
        END $$;
        CREATE EXTENSION postgres_fdw;
        CREATE EXTENSION file_fdw;
        -- As the regression database: a wrapper of the database's own, no handler.
        CREATE FOREIGN DATA WRAPPER plain_wrapper;
        CREATE FOREIGN DATA WRAPPER "Optioned wrapper" HANDLER postgres_fdw_handler OPTIONS (debug 'true');
        COMMENT ON FOREIGN DATA WRAPPER plain_wrapper IS 'no handler, no validator';
        GRANT USAGE ON FOREIGN DATA WRAPPER plain_wrapper TO kinds_fdw_user;
        CREATE SERVER bare FOREIGN DATA WRAPPER plain_wrapper;
        CREATE SERVER remote TYPE 'postgresql' VERSION '15' FOREIGN DATA WRAPPER postgres_fdw
            OPTIONS (host 'db.example.org', dbname 'sales', port '5433');
        COMMENT ON SERVER remote IS 'the sales database';
        GRANT USAGE ON FOREIGN SERVER remote TO kinds_fdw_user WITH GRANT OPTION;
        CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
        CREATE USER MAPPING FOR PUBLIC SERVER remote OPTIONS (user 'reader');
        CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (user 'admin', password 'sekrit-pw-1');
        CREATE USER MAPPING FOR kinds_fdw_user SERVER remote OPTIONS (user 'it''s me', password 'sekrit-pw-2');
        CREATE USER MAPPING FOR kinds_fdw_user SERVER bare;
        CREATE SCHEMA ext;
        CREATE FOREIGN TABLE ext.remote_orders (
            id integer OPTIONS (column_name 'order_id') NOT NULL,
            note text COLLATE "C" DEFAULT 'none',
            amount numeric CHECK (amount > 0)
        ) SERVER remote OPTIONS (schema_name 'public', table_name 'orders');
        ALTER FOREIGN TABLE ext.remote_orders ALTER COLUMN note SET STATISTICS 50;
        ALTER FOREIGN TABLE ext.remote_orders ADD CONSTRAINT later CHECK (id > 0) NOT VALID;
        COMMENT ON FOREIGN TABLE ext.remote_orders IS 'orders, remotely';
        COMMENT ON COLUMN ext.remote_orders.amount IS 'in euros';
        GRANT SELECT ON ext.remote_orders TO kinds_fdw_user;
        CREATE FOREIGN TABLE ext.csv_file (line text) SERVER files OPTIONS (filename '/dev/null', format 'csv');
        -- A foreign table as a partition, and one inheriting from a table.
        CREATE TABLE ext.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
        CREATE TABLE ext.events_2026 PARTITION OF ext.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE FOREIGN TABLE ext.events_2025 PARTITION OF ext.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') SERVER remote;
        INSERT INTO ext.events VALUES ('2026-03-01', 'spring');
        CREATE TABLE ext.base (id int, label text);
        INSERT INTO ext.base VALUES (1, 'local');
        CREATE FOREIGN TABLE ext.remote_base (extra int) INHERITS (ext.base) SERVER bare;
        CREATE FUNCTION ext.touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$;
        CREATE TRIGGER touched BEFORE INSERT ON ext.remote_orders FOR EACH ROW EXECUTE FUNCTION ext.touch();
        ALTER TABLE ext.remote_orders DISABLE TRIGGER touched;
        """

    @Test("wrappers, servers, mappings with passwords and foreign tables round-trip; the warning names each mapping with a password, never the password")
    func foreignData() throws {
        try TestServer.withScratchDatabase("pgc_fdw") { source in
            try ExportTestSupport.psql(source, Self.schema)
            let result = try KindsRoundTrip.check(source)
            let stderr = result.exportStderr
            #expect(stderr.contains("user mapping"), "\(stderr)")
            #expect(stderr.contains("kinds_fdw_user on server remote"), "\(stderr)")
            #expect(stderr.contains("postgres on server remote"), "\(stderr)")
            #expect(!stderr.contains("PUBLIC on server remote"), "\(stderr)")
            #expect(!stderr.contains("sekrit"), "the warning shows a password: \(stderr)")
            // The archive keeps the passwords (as pg_dump) and writes no rows for foreign tables.
            #expect(result.script.contains("password 'sekrit-pw-2'"))
            #expect(result.script.contains("CREATE FOREIGN DATA WRAPPER plain_wrapper;"))
            #expect(!result.script.contains("COPY ext.remote_orders"))
            #expect(!result.script.contains("CREATE FOREIGN DATA WRAPPER postgres_fdw"), "an extension's wrapper comes with CREATE EXTENSION")
        }
    }

    @Test("--schema leaves wrappers, servers and mappings out; its foreign tables stay")
    func schemaSelection() throws {
        try TestServer.withScratchDatabase("pgc_fdw_sel") { source in
            try ExportTestSupport.psql(source, Self.schema)
            let archive = ExportTestSupport.temporaryPath("fdw-sel.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let exported = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive, "--schema", "ext"])
            try #require(exported.status == 0, "\(exported.stderr)")
            let script = try ExportTestSupport.shell("zstd -dc '\(archive)'")
            #expect(!script.contains("CREATE SERVER"))
            #expect(!script.contains("USER MAPPING"))
            #expect(script.contains("CREATE FOREIGN TABLE ext.remote_orders"))
        }
    }
}
