import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient
import Testing

/// Source databases loaded from ../shared/testdata once per test process,
/// and their exports, shared by the restore and destroy tests.
enum RestoreSources {
    struct Source: Sendable {
        var database: String
        var archive: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: Source] = [:]
    /// Removes this process's exports when it exits (the source databases stay, for the next run).
    private static let cleanupRegistered: Bool = {
        atexit {
            for source in RestoreSources.loadedSources() { try? FileManager.default.removeItem(atPath: source.archive) }
        }
        return true
    }()

    static func loadedSources() -> [Source] {
        lock.lock()
        defer { lock.unlock() }
        return Array(loaded.values)
    }

    /// Pagila or Chinook, loaded into a database of this run and exported
    /// with small chunks (so large tables have several) on two connections.
    static func source(_ name: String) throws -> Source {
        _ = cleanupRegistered
        lock.lock()
        defer { lock.unlock() }
        if let source = loaded[name] { return source }
        // Loaded once per cluster under a fixed name (renamed into place only
        // when complete, so a killed run leaves no half-loaded source).
        let stable = "pgcellar_test_src_\(name)"
        if try databaseExists(stable) {
            let source = Source(database: stable, archive: try export(database: stable))
            loaded[name] = source
            return source
        }
        let database = TestServer.uniqueName("restore_src_\(name)")
        _ = try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(database)) TEMPLATE template0 ENCODING 'UTF8'") }
        let data = try testdata()
        switch name {
        case "pagila":
            try psql(database: database, file: "\(data)/pagila/pagila-schema.sql")
            try psql(database: database, file: "\(data)/pagila/pagila-data.sql")
        case "chinook":
            // The script creates and connects to "chinook" itself: feed it
            // without those lines.
            let script = try String(contentsOfFile: "\(data)/chinook/Chinook_PostgreSql.sql", encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in
                    let text = line.trimmingCharacters(in: .whitespaces).uppercased()
                    return !(text.hasPrefix("DROP DATABASE") || text.hasPrefix("CREATE DATABASE") || text.hasPrefix("\\C "))
                }
                .joined(separator: "\n")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("chinook-\(database).sql").path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try psql(database: database, file: path)
        default:
            fatalError("unknown test database \(name)")
        }
        _ = try TestServer.withConnection { try $0.execute("ALTER DATABASE \(try $0.escapeIdentifier(database)) RENAME TO \(try $0.escapeIdentifier(stable))") }
        let archive = try export(database: stable)
        let source = Source(database: stable, archive: archive)
        loaded[name] = source
        return source
    }

    /// The shared testdata folder (PGCELLAR_TESTDATA, else ../shared/testdata).
    static func testdata() throws -> String {
        (try ExportTestSupport.testData("pagila") as NSString).deletingLastPathComponent
    }

    /// Exports `database` to a new file through the exporter's Swift API.
    static func export(database: String, jobs: Int = 2, chunkSize: Int = 64 * 1024) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(database)-\(UUID().uuidString.prefix(8)).sql.zst").path
        let options = ExportOptions(target: ConnectionTarget(try TestServer.dsn()).with(database: database),
                                    jobs: jobs, chunkSize: chunkSize)
        let file = try AtomicFileWriter(path: path, mode: 0o600)
        do {
            _ = try Exporter(options: options, logger: Logger(label: "test.export")).run(to: file)
            try file.commit()
        } catch {
            file.abort()
            throw error
        }
        return path
    }

    static func tool(_ name: String) -> String { ExportTestSupport.pgBinary(name) }

    static func psql(database: String, file: String) throws {
        let result = try runTool(tool("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", TestServer.conninfo(user: user, database: database), "-f", file])
        guard result.status == 0 else { throw ToolFailed(tool: "psql -f \(file)", output: result.stderr) }
    }

    static var user: String { ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres" }

    /// `pg_dump --schema-only` of a database, for comparing schemas.
    static func schemaDump(_ database: String) throws -> String { try ExportTestSupport.schemaDump(database) }

    struct ToolFailed: Error, CustomStringConvertible {
        var tool: String
        var output: String
        var description: String { "\(tool) failed: \(output)" }
    }

    static func runTool(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Subprocess.run(path, arguments)
        return (output.status, output.stdout, output.stderr)
    }
}

/// What a restore must reproduce: per-table checksums of the rows and the
/// sequences' values.
struct DatabaseFingerprint: Equatable, CustomStringConvertible {
    var tables: [String: String]
    var sequences: [String: String]

    static func of(_ database: String) throws -> DatabaseFingerprint {
        try TestServer.withConnection(database: database) { connection in
            let relations = try connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname) AS name
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
                 ORDER BY 1
                """).rows.compactMap { $0["name"] }
            var tables: [String: String] = [:]
            for relation in relations {
                let populated = try connection.query("SELECT relispopulated AS p FROM pg_class WHERE oid = $1::regclass", [relation]).first?["p"]
                if populated == "f" { tables[relation] = "unpopulated"; continue }
                tables[relation] = try connection.query(
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '' ORDER BY t::text)), '') AS sum FROM \(relation) t"
                ).first?["sum"] ?? "?"
            }
            var sequences: [String: String] = [:]
            for row in try connection.query("SELECT format('%I.%I', schemaname, sequencename) AS name, coalesce(last_value::text, 'not called') AS value FROM pg_sequences").rows {
                sequences[row["name"] ?? "?"] = row["value"] ?? "?"
            }
            return DatabaseFingerprint(tables: tables, sequences: sequences)
        }
    }

    var description: String {
        "tables: " + tables.keys.sorted().map { "\($0)=\(tables[$0]!)" }.joined(separator: ", ")
            + "; sequences: " + sequences.keys.sorted().map { "\($0)=\(sequences[$0]!)" }.joined(separator: ", ")
    }
}

/// A line diff short enough for a failure message.
func briefDiff(_ expected: String, _ actual: String) -> String {
    let left = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let right = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let onlyLeft = left.filter { !Set(right).contains($0) }.prefix(15)
    let onlyRight = right.filter { !Set(left).contains($0) }.prefix(15)
    return "only in source:\n" + onlyLeft.joined(separator: "\n") + "\nonly in restored:\n" + onlyRight.joined(separator: "\n")
}

func dropDatabase(_ name: String) {
    _ = try? TestServer.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(try $0.escapeIdentifier(name)) WITH (FORCE)") }
}

func databaseExists(_ name: String) throws -> Bool {
    try TestServer.withConnection { try $0.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount > 0 }
}
