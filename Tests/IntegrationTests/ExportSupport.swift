import CellarCommands
import Foundation
import PostgresClient
import Testing

/// Helpers for the export tests: external tools (psql, pg_dump, zstd),
/// the shared test data, and comparing two databases.
enum ExportTestSupport {
    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "`\(command)` exited with \(status): \(stderr)" }
    }

    /// Runs a shell command line (with the test server's PG* environment)
    /// and returns its stdout; throws with its stderr when it fails.
    @discardableResult
    static func shell(_ command: String) throws -> String {
        let result = try Subprocess.run("/bin/bash", ["-o", "pipefail", "-c", command])
        guard result.status == 0 else {
            throw CommandFailed(command: command, status: result.status, stderr: result.stderr)
        }
        return result.stdout
    }

    /// A conninfo for `database` on the test server, single-quoted for a shell.
    static func shellConninfo(_ database: String) throws -> String {
        "'\(try TestServer.dsn()) dbname=\(database)'"
    }

    static func pgBinary(_ name: String) -> String {
        if let directory = ProcessInfo.processInfo.environment["PGCELLAR_TEST_PGBIN"], !directory.isEmpty {
            return directory + "/" + name
        }
        return name
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// ../shared/testdata, or PGCELLAR_TESTDATA.
    static func testData(_ relative: String) throws -> String {
        let base = ProcessInfo.processInfo.environment["PGCELLAR_TESTDATA"]
            ?? packageRoot.appendingPathComponent("../shared/testdata").standardizedFileURL.path
        let path = base + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailed(command: "open \(path)", status: 1, stderr: "test data missing: set PGCELLAR_TESTDATA to the shared testdata folder")
        }
        return path
    }

    static func psqlFile(_ database: String, _ file: String) throws {
        try shell("\(pgBinary("psql")) -X -q -v ON_ERROR_STOP=1 -d \(try shellConninfo(database)) -f '\(file)' >/dev/null")
    }

    static func psql(_ database: String, _ sql: String) throws {
        let file = NSTemporaryDirectory() + "pgcellar-test-\(UInt32.random(in: 0...UInt32.max)).sql"
        try sql.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try psqlFile(database, file)
    }

    /// Restores an export the way the format promises: stock zstd piped into psql.
    static func restoreWithZstdAndPsql(_ archive: String, into database: String) throws {
        try shell("zstd -dc '\(archive)' | \(pgBinary("psql")) -X -q -v ON_ERROR_STOP=1 -d \(try shellConninfo(database)) >/dev/null")
    }

    static func schemaDump(_ database: String) throws -> String {
        try shell("\(pgBinary("pg_dump")) --schema-only --restrict-key=fixed -d \(try shellConninfo(database))")
    }

    /// Row count and an md5 of all rows (sorted) for every table and populated matview.
    static func dataChecksums(_ database: String) throws -> [String: String] {
        try TestServer.withConnection(database: database) { connection in
            let tables = try connection.query("""
                SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated))
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
                ORDER BY 1
                """).rows.map { try $0.string("name") }
            var sums: [String: String] = [:]
            for table in tables {
                let row = try connection.query(
                    "SELECT count(*) AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM ONLY \(table) x").first!
                sums[table] = "\(try row.int("n")) \(try row.string("h"))"
            }
            return sums
        }
    }

    /// Runs `pgcellar export` in-process.
    static func export(_ database: String, to path: String, _ extra: [String] = []) throws {
        let command = try ExportCommand.parse(["-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "--quiet"] + extra)
        try command.run()
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "pgcellar-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    /// Exports `source`, restores it with zstd | psql into a fresh database,
    /// and checks that pg_dump sees the same schema and every table the same rows.
    static func assertRoundTrip(_ source: String, exportArguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let archive = temporaryPath("\(source).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try export(source, to: archive, exportArguments)
        try TestServer.withScratchDatabase("pgc_restored") { restored in
            try restoreWithZstdAndPsql(archive, into: restored)
            let before = try schemaDump(source), after = try schemaDump(restored)
            #expect(before == after, "pg_dump --schema-only differs:\n\(firstDifference(before, after))", sourceLocation: sourceLocation)
            let sourceSums = try dataChecksums(source), restoredSums = try dataChecksums(restored)
            #expect(!sourceSums.isEmpty, sourceLocation: sourceLocation)
            for (table, sum) in sourceSums.sorted(by: { $0.key < $1.key }) {
                #expect(restoredSums[table] == sum, "rows of \(table) differ after restore", sourceLocation: sourceLocation)
            }
            #expect(Set(restoredSums.keys) == Set(sourceSums.keys), sourceLocation: sourceLocation)
        }
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "<end>"
            let r = index < right.count ? String(right[index]) : "<end>"
            if l != r {
                let context = left[max(0, index - 5)..<min(left.count, index + 5)].joined(separator: "\n")
                return "line \(index + 1):\n- \(l)\n+ \(r)\ncontext:\n\(context)"
            }
        }
        return "(no difference)"
    }
}
