import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// The drill's data proof beyond table rows (issue #11): every large
/// object's bytes by SHA-256, and extension configuration tables under
/// their `extcondition`.
@Suite("DrillDataProof", .serialized)
struct DrillDataProofTests {
    typealias Support = ExportTestSupport

    /// Exports `database`, then drills the archive; `change` runs in the
    /// scratch database between the restore and the comparison.
    static func drill(_ database: String, change: (@Sendable (Connection) throws -> Void)? = nil) throws -> DrillReport {
        let archive = Support.temporaryPath("\(database).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try Support.export(database, to: archive)
        var options = DrillOptions(server: ConnectionTarget(try TestServer.dsn()))
        options.jobs = 2
        var driller = Driller(options: options, logger: Logger(label: "test.drill"))
        driller.beforeComparison = change
        let report = try driller.run(archivePath: archive)
        #expect(report.scratchDropped)
        return report
    }

    static let largeObjects = """
        CREATE TABLE documents (id int PRIMARY KEY, body oid);
        -- One small, one of several pieces (300 kB of pseudo-random bytes), one empty.
        SELECT lo_from_bytea(424201, 'small object');
        SELECT lo_from_bytea(424202, (SELECT string_agg(sha256(i::text::bytea), ''::bytea) FROM generate_series(1, 10000) i));
        SELECT lo_from_bytea(424203, '');
        INSERT INTO documents VALUES (1, 424201), (2, 424202), (3, 424203);
        """

    @Test("large objects are read back and compared by size and SHA-256: a clean drill counts them all")
    func largeObjectsClean() throws {
        try TestServer.withScratchDatabase("drill_lo") { database in
            try Support.psql(database, Self.largeObjects)
            let report = try Self.drill(database)
            #expect(report.passed, "\(report.lines())")
            #expect(report.largeObjects == 3)
            #expect(report.largeObjectBytes == 12 + 320_000)
            #expect(report.lines().last?.contains("3 large objects (320012 bytes) by SHA-256") == true, "\(report.lines())")
        }
    }

    @Test("a large object changed in the scratch database before the comparison is caught, naming it; a missing one too")
    func largeObjectChanged() throws {
        try TestServer.withScratchDatabase("drill_lo_changed") { database in
            try Support.psql(database, Self.largeObjects)
            let report = try Self.drill(database) { connection in
                // One byte in the middle of the large one, same size; the small one goes.
                try connection.execute("SELECT lo_put(424202, 150000, '\\xff'::bytea); SELECT lo_unlink(424201)")
            }
            #expect(!report.passed)
            let changed = try #require(report.mismatches.first { $0.object == "LARGE OBJECT 424202" }, "\(report.mismatches)")
            #expect(changed.kind == .largeObject)
            #expect(changed.detail.contains("SHA-256"), "\(changed.detail)")
            #expect(!changed.detail.contains("bytes, the restore gave back"), "the size is the same: \(changed.detail)")
            let missing = try #require(report.mismatches.first { $0.object == "LARGE OBJECT 424201" && $0.kind == .largeObject },
                                       "\(report.mismatches)")
            #expect(missing.detail.contains("missing from the restored database"))
            #expect(!report.mismatches.contains { $0.object == "LARGE OBJECT 424203" }, "the untouched one matches: \(report.mismatches)")
        }
    }

    @Test("an extension configuration table is compared under its extcondition: the extension's own rows do not count")
    func extensionConfigurationTable() throws {
        try TestServer.withScratchDatabase("drill_extconfig") { database in
            try Support.psql(database, """
                CREATE EXTENSION pgcellar_test_config;
                INSERT INTO ext_settings VALUES ('mine', 'set by the user', false);
                INSERT INTO ext_journal VALUES (1, 'first'), (2, 'second');
                """)
            let report = try Self.drill(database)
            #expect(report.passed, "\(report.lines())")
            let settings = try #require(report.tables.first { $0.name == "ext_settings" }, "\(report.tables.map(\.name))")
            #expect(settings.archiveRows == 1 && settings.restoredRows == 1, "only the user's row: \(settings)")
            let journal = try #require(report.tables.first { $0.name == "ext_journal" })
            #expect(journal.restoredRows == 2)

            let changed = try Self.drill(database) { try $0.execute("UPDATE public.ext_settings SET value = 'changed' WHERE name = 'mine'") }
            #expect(changed.mismatches.map(\.object) == ["TABLE DATA public.ext_settings"], "\(changed.mismatches)")
        }
    }
}
