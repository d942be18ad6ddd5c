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
