import Cellar
import Foundation
import PostgresClient
import Testing

/// PostgreSQL 15's own regression database: nearly every object kind there
/// is, in a schema nobody here wrote. pgcellar must do on it what pg_dump and
/// pg_restore do: a restore whose `pg_dump --schema-only` is identical to the
/// source's, with the same rows in every table and the same bytes in every
/// large object — through `restore -j 2` and through `zstd -dc | psql`.
@Suite("Regression database", .serialized)
struct RegressionDatabaseTests {
    static let roles = ["regress_test_role", "regress_alice", "regress_bob"]

    /// Loads the regression dump into a new database, as its README says.
    static func loadRegression() throws -> String {
        let dump = try ExportTestSupport.testData("regression/regression-pg15.18.dump")
        let library = "/tmp/debsrc/lib/regress.so"
        guard FileManager.default.fileExists(atPath: library) else {
            throw ExportTestSupport.CommandFailed(
                command: "load the regression database", status: 1,
                stderr: "\(library) is missing: run the tests through scripts/test.sh, which builds it with the testdata's build-regress-lib.sh")
        }
        try TestServer.withConnection { connection in
            for role in roles {
                _ = try connection.execute("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE \(role); END IF; END$$")
            }
        }
        let database = TestServer.uniqueName("pgc_regression")
        _ = try TestServer.withConnection { try $0.execute("CREATE DATABASE \(database)") }
        try ExportTestSupport.shell("\(ExportTestSupport.pgBinary("pg_restore")) --exit-on-error -d \(try ExportTestSupport.shellConninfo(database)) '\(dump)'")
        return database
    }

    /// Every large object's size and md5, by oid.
    static func largeObjects(_ database: String) throws -> [String: String] {
        try TestServer.withConnection(database: database) { connection in
            var sums: [String: String] = [:]
            for row in try connection.query("SELECT oid::text AS oid, length(lo_get(oid))::text || ':' || md5(lo_get(oid)) AS sum FROM pg_largeobject_metadata").rows {
                sums[row["oid"] ?? "?"] = row["sum"] ?? "?"
            }
            return sums
        }
    }

    /// What the source looks like, read once for every copy compared with it.
    struct Expected {
        var schema: String
        var fingerprint: DatabaseFingerprint
        var largeObjects: [String: String]

        init(_ source: String) throws {
            schema = try ExportTestSupport.schemaDump(source)
            fingerprint = try DatabaseFingerprint.of(source)
            largeObjects = try RegressionDatabaseTests.largeObjects(source)
        }
    }

    static func assertSame(_ expected: Expected, _ restored: String, _ how: String) throws {
        let restoredSchema = try ExportTestSupport.schemaDump(restored)
        #expect(expected.schema == restoredSchema, "\(how): pg_dump --schema-only differs:\n\(briefDiff(expected.schema, restoredSchema))")
        let actual = try DatabaseFingerprint.of(restored)
        let tables = expected.fingerprint.tables
        let differing = tables.keys.sorted().filter { tables[$0] != actual.tables[$0] }
        #expect(differing.isEmpty, "\(how): rows differ in \(differing.count) table(s): \(differing.prefix(20).joined(separator: ", "))")
        #expect(Set(tables.keys) == Set(actual.tables.keys), "\(how): the restored database has other tables")
        #expect(expected.fingerprint.sequences == actual.sequences, "\(how): sequence values differ")
        #expect(!expected.largeObjects.isEmpty, "the regression database holds large objects")
        #expect(expected.largeObjects == (try largeObjects(restored)), "\(how): large objects differ")
    }

    /// One test, so that the database is loaded once (pg_restore of the dump
    /// takes most of the time).
    @Test("export → verify → restore --create -j 2, and zstd -dc | psql: the same schema, rows and large objects as the source; the archive drills clean")
    func roundTrip() throws {
        let source = try Self.loadRegression()
        defer { dropDatabase(source) }
        let archive = ExportTestSupport.temporaryPath("regression.pgcellar")
        defer { try? FileManager.default.removeItem(atPath: archive) }

        let export = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive, "-j", "2", "--quiet"])
        try #require(export.status == 0, "export failed: \(export.stderr)")
        let verify = try Pgcellar.run(["verify", archive])
        try #require(verify.status == 0, "verify failed: \(verify.stderr)")

        let expected = try Expected(source)

        let restored = TestServer.uniqueName("pgc_regression_restored")
        defer { dropDatabase(restored) }
        let restore = try Pgcellar.run(["restore", archive, "--dbname", "\(try TestServer.dsn()) dbname=\(restored)", "--create", "-j", "2"])
        try #require(restore.status == 0, "restore failed: \(restore.stderr)")
        try Self.assertSame(expected, restored, "restore -j 2")

        try TestServer.withScratchDatabase("pgc_regression_psql") { viaPsql in
            try ExportTestSupport.restoreWithZstdAndPsql(archive, into: viaPsql)
            try Self.assertSame(expected, viaPsql, "zstd -dc | psql")
        }

        // Issue 11: the drill restores it again and proves every table, large
        // object and schema object.
        let drill = try Pgcellar.run(["drill", archive, "--server", try TestServer.dsn(), "-j", "2", "--json"])
        #expect(drill.status == 0, "drill failed: \(drill.stdout)\n\(drill.stderr.suffix(4000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(drill.stdout.utf8)) as? [String: Any], "not JSON: \(drill.stdout)")
        #expect((report["mismatches"] as? [Any])?.isEmpty == true, "\(report["mismatches"] ?? "")")
        let verification = try ArchiveVerifier.verify(path: archive)
        #expect((report["tables"] as? [Any])?.count == verification.tables)
        #expect(report["rows"] as? Int == verification.rows)
        #expect(report["largeObjects"] as? Int == expected.largeObjects.count)
        #expect(report["scratchDropped"] as? Bool == true)
    }
}
