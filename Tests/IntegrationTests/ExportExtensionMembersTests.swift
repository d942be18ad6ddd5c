import Foundation
import Testing

@Suite("Export: extension member objects", .serialized)
struct ExportExtensionMembersTests {
    @Test("rows of extension configuration tables are exported filtered by extcondition and restored after CREATE EXTENSION")
    func configurationTables() throws {
        try TestServer.withScratchDatabase("pgc_extcfg") { source in
            do {
                try ExportTestSupport.psql(source, "CREATE EXTENSION pgcellar_test_config;")
            } catch {
                Issue.record("the test extension pgcellar_test_config is not installed: run the tests through scripts/test.sh, which installs it with scripts/install-test-extension.sh (\(error))")
                return
            }
            try ExportTestSupport.psql(source, """
                INSERT INTO ext_settings VALUES ('mine', 'set by the user', false), ('also mine', E'tab\\there', false);
                INSERT INTO ext_journal SELECT g, 'note ' || g FROM generate_series(1, 50) g;
                CREATE TABLE own (id int);
                INSERT INTO own VALUES (1);
                """)
            let result = try KindsRoundTrip.check(source)
            #expect(!result.exportStderr.contains("configuration table"), "\(result.exportStderr)")
            // The standard row comes from CREATE EXTENSION, not from the archive
            // (restoring it too would break the primary key).
            #expect(result.script.contains("COPY public.ext_settings (name, value, standard) FROM stdin;"))
            #expect(!result.script.contains("with the extension"))
            #expect(!result.script.contains("CREATE TABLE public.ext_settings"))

            // --schema-only writes no rows; --exclude-table leaves the table's out.
            let archive = ExportTestSupport.temporaryPath("extcfg.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let excluded = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive,
                                             "--exclude-table", "public.ext_journal"])
            try #require(excluded.status == 0, "\(excluded.stderr)")
            let script = try ExportTestSupport.shell("zstd -dc '\(archive)'")
            #expect(!script.contains("COPY public.ext_journal"))
            #expect(script.contains("COPY public.ext_settings"))
        }
    }
}

extension ExportExtensionMembersTests {
    @Test("privilege changes on built-in objects and on extension members, relative to pg_init_privs, round-trip")
    func initialPrivileges() throws {
        try TestServer.withScratchDatabase("pgc_initprivs") { source in
            try ExportTestSupport.psql(source, """
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kinds_init_reader') THEN CREATE ROLE kinds_init_reader; END IF;
                END $$;
                CREATE EXTENSION pgcellar_test_config;
                CREATE EXTENSION postgres_fdw;
                REVOKE EXECUTE ON FUNCTION pg_catalog.pg_sleep(double precision) FROM PUBLIC;
                GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text) TO kinds_init_reader;
                GRANT SELECT ON pg_catalog.pg_statistic TO kinds_init_reader WITH GRANT OPTION;
                REVOKE USAGE ON LANGUAGE sql FROM PUBLIC;
                GRANT USAGE ON LANGUAGE sql TO kinds_init_reader;
                REVOKE EXECUTE ON FUNCTION public.ext_hello() FROM PUBLIC;
                GRANT EXECUTE ON FUNCTION public.ext_hello() TO kinds_init_reader;
                GRANT SELECT, UPDATE ON public.ext_settings TO kinds_init_reader;
                GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO kinds_init_reader;
                GRANT SELECT (prosrc) ON pg_catalog.pg_proc TO kinds_init_reader;
                GRANT UPDATE (value) ON public.ext_settings TO kinds_init_reader;
                """)
            let result = try KindsRoundTrip.check(source)
            #expect(result.script.contains("REVOKE EXECUTE ON FUNCTION pg_catalog.pg_sleep(double precision) FROM PUBLIC;"))
            #expect(result.script.contains("GRANT EXECUTE ON FUNCTION public.ext_hello() TO kinds_init_reader;"))
        }
    }
}
