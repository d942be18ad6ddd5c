import Cellar
import CellarSupport
import Foundation
import PostgresClient
import Testing

/// pgcellar restore against the real cluster, through the built binary.
@Suite("Restore", .serialized)
struct RestoreTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var database: String
        var jobs: Int
        var fromStdin: Bool
        var testDescription: String { "\(database) -j \(jobs) from \(fromStdin ? "stdin" : "a file")" }
    }

    static let cases: [Case] = ["pagila", "chinook"].flatMap { database in
        [1, 4].flatMap { jobs in [false, true].map { Case(database: database, jobs: jobs, fromStdin: $0) } }
    }

    @Test("an export restores to the same schema, rows and sequence values", arguments: cases)
    func roundTrip(_ testCase: Case) throws {
        let source = try RestoreSources.source(testCase.database)
        let target = TestServer.uniqueName("restored_\(testCase.database)")
        defer { dropDatabase(target) }
        let arguments = ["restore", testCase.fromStdin ? "-" : source.archive,
                         "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target),
                         "--create", "-j", String(testCase.jobs), "--json"]
        let stdin = testCase.fromStdin ? try Data(contentsOf: URL(fileURLWithPath: source.archive)) : nil
        let result = try Pgcellar.run(arguments, stdin: stdin)
        try #require(result.status == 0, "restore failed: \(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(summary?["ok"] as? Bool == true)
        #expect(summary?["created"] as? Bool == true)

        let expectedSchema = try RestoreSources.schemaDump(source.database)
        let restoredSchema = try RestoreSources.schemaDump(target)
        #expect(expectedSchema == restoredSchema, "pg_dump --schema-only differs:\n\(briefDiff(expectedSchema, restoredSchema))")
        let expected = try DatabaseFingerprint.of(source.database)
        let restored = try DatabaseFingerprint.of(target)
        #expect(expected.tables == restored.tables, "table checksums differ:\nsource   \(expected)\nrestored \(restored)")
        #expect(expected.sequences == restored.sequences, "sequence values differ:\nsource   \(expected.sequences)\nrestored \(restored.sequences)")
    }

    @Test("a database that already holds objects is refused, and nothing is written")
    func nonEmptyTargetRefused() throws {
        let source = try RestoreSources.source("chinook")
        try TestServer.withScratchDatabase("restore_nonempty") { target in
            _ = try TestServer.withConnection(database: target) { try $0.execute("CREATE TABLE keep_me (id int)") }
            let result = try Pgcellar.run(["restore", source.archive, "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
            #expect(result.status == 1)
            #expect(result.stderr.contains("not empty"), "\(result.stderr)")
            #expect(result.stderr.contains("keep_me"), "\(result.stderr)")
            let tables = try TestServer.withConnection(database: target) {
                try $0.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").first?["n"]
            }
            #expect(tables == "1")
        }
    }

    @Test("--create into an existing database is refused")
    func createExistingRefused() throws {
        let source = try RestoreSources.source("chinook")
        try TestServer.withScratchDatabase("restore_exists") { target in
            let result = try Pgcellar.run(["restore", source.archive, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
            #expect(result.status == 1)
            #expect(result.stderr.contains("already exists"), "\(result.stderr)")
        }
    }

    @Test("a garbage or truncated file is refused and creates nothing", arguments: ["garbage", "truncated", "stdin-truncated"])
    func badArchiveCreatesNothing(_ damage: String) throws {
        let source = try RestoreSources.source("chinook")
        let target = TestServer.uniqueName("restore_bad")
        defer { dropDatabase(target) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source.archive)))
        if damage == "garbage" {
            bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255) }
        } else {
            bytes.removeLast(bytes.count / 3)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(target).sql.zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromStdin = damage.hasPrefix("stdin")
        let result = try Pgcellar.run(["restore", fromStdin ? "-" : path, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)],
                                      stdin: fromStdin ? Data(bytes) : nil)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error"), "\(result.stderr)")
        #expect(try databaseExists(target) == false, "the failed restore left database \(target) behind")
    }

    @Test("a file damaged in its last data chunk runs nothing: the footer's SHA-256 is checked before CREATE DATABASE")
    func damagedFileRunsNothing() throws {
        let source = try RestoreSources.source("chinook")
        let target = TestServer.uniqueName("restore_damaged")
        defer { dropDatabase(target) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source.archive)))
        // The header and table of contents stay intact; only the last chunk's
        // frame changes, which a restore would otherwise reach last.
        let last = try #require(try ArchiveReader(path: source.archive).entries.filter { $0.data != nil }.max { $0.offset! < $1.offset! })
        let position = Int(last.offset! + last.compressedSize / 2)
        bytes[position] ^= 0x55
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(target).pgcellar").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let logOffset = try TestServer.serverLogOffset()
        let result = try Pgcellar.run(["restore", path, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
        #expect(result.status == 1)
        #expect(result.stderr.contains("SHA-256 in its footer"), "\(result.stderr)")
        #expect(try databaseExists(target) == false)
        let log = try TestServer.serverLog(since: logOffset)
        #expect(!log.contains("CREATE DATABASE \(target)") && !log.contains("CREATE DATABASE \"\(target)\""),
                "the damaged archive got as far as creating the database")
    }

    @Test("--owner makes the role own every restored object")
    func ownerOwnsEverything() throws {
        let source = try RestoreSources.source("pagila")
        let role = TestServer.uniqueName("restore_owner")
        let target = TestServer.uniqueName("restored_owned")
        _ = try TestServer.withConnection { try $0.execute("CREATE ROLE \(try $0.escapeIdentifier(role)) NOLOGIN") }
        defer {
            dropDatabase(target)
            _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(role))") }
        }
        let result = try Pgcellar.run(["restore", source.archive, "--create", "-j", "2", "--owner", role,
                                       "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
        try #require(result.status == 0, "restore failed: \(result.stderr)")
        let others = try TestServer.withConnection(database: target) { connection in
            try connection.query("""
                SELECT kind || ' ' || name || ' owned by ' || owner AS object FROM (
                  SELECT 'relation' AS kind, c.oid::regclass::text AS name, c.relowner::regrole::text AS owner
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
                  UNION ALL
                  SELECT 'function', p.oid::regprocedure::text, p.proowner::regrole::text
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                  UNION ALL
                  SELECT 'type', t.oid::regtype::text, t.typowner::regrole::text
                    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
                  UNION ALL
                  SELECT 'schema', nspname::text, nspowner::regrole::text FROM pg_namespace
                   WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND nspname !~ '^pg_'
                  UNION ALL
                  SELECT 'database', datname::text, datdba::regrole::text FROM pg_database WHERE datname = current_database()
                ) objects WHERE owner <> $1::regrole::text
                """, [role]).rows.compactMap { $0["object"] }
        }
        #expect(others.isEmpty, "objects not owned by \(role): \(others.prefix(10))")
        let tables = try TestServer.withConnection(database: target) {
            try $0.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").first?["n"]
        }
        #expect(Int(tables ?? "0") ?? 0 > 10)
    }

    @Test("roles the archive needs must exist, unless --no-owner makes them unnecessary")
    func missingRolesRefused() throws {
        let role = TestServer.uniqueName("restore_gone")
        let database = TestServer.uniqueName("restore_roles_src")
        let target = TestServer.uniqueName("restore_roles_dst")
        try TestServer.withConnection { connection in
            try connection.execute("CREATE ROLE \(try connection.escapeIdentifier(role)) NOLOGIN")
            try connection.execute("CREATE DATABASE \(try connection.escapeIdentifier(database))")
        }
        defer {
            dropDatabase(database)
            dropDatabase(target)
            _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(role))") }
        }
        try TestServer.withConnection(database: database) { connection in
            try connection.execute("CREATE TABLE things (id int PRIMARY KEY, name text)")
            try connection.execute("INSERT INTO things SELECT g, 'thing ' || g FROM generate_series(1, 1000) g")
            try connection.execute("ALTER TABLE things OWNER TO \(try connection.escapeIdentifier(role))")
        }
        let archive = try RestoreSources.export(database: database, jobs: 1)
        defer { try? FileManager.default.removeItem(atPath: archive) }
        _ = try TestServer.withConnection(database: database) { try $0.execute("DROP TABLE things") }
        _ = try TestServer.withConnection { try $0.execute("DROP ROLE \(try $0.escapeIdentifier(role))") }

        let dsn = TestServer.conninfo(user: RestoreSources.user, database: target)
        let refused = try Pgcellar.run(["restore", archive, "--create", "--dbname", dsn])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(role), "\(refused.stderr)")
        #expect(try databaseExists(target) == false)

        let restored = try Pgcellar.run(["restore", archive, "--create", "--no-owner", "--dbname", dsn])
        try #require(restored.status == 0, "\(restored.stderr)")
        let count = try TestServer.withConnection(database: target) { try $0.query("SELECT count(*) AS n FROM public.things").first?["n"] }
        #expect(count == "1000")
    }

    @Test("--single-transaction with -j above 1 or --create is a usage error")
    func singleTransactionValidation() throws {
        let first = try Pgcellar.run(["restore", "x.sql.zst", "--dbname", "dbname=x", "--single-transaction", "-j", "2"])
        #expect(first.status == 64)
        #expect(first.stderr.contains("--single-transaction"))
        let second = try Pgcellar.run(["restore", "x.sql.zst", "--dbname", "dbname=x", "--single-transaction", "--create"])
        #expect(second.status == 64)
    }

    @Test("--single-transaction from stdin restores everything")
    func singleTransactionFromStdin() throws {
        let source = try RestoreSources.source("chinook")
        try TestServer.withScratchDatabase("restore_single") { target in
            let result = try Pgcellar.run(["restore", "-", "--single-transaction", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)],
                                          stdin: try Data(contentsOf: URL(fileURLWithPath: source.archive)))
            try #require(result.status == 0, "\(result.stderr)")
            #expect(try DatabaseFingerprint.of(source.database) == DatabaseFingerprint.of(target))
        }
    }

    @Test("a killed restore: SIGTERM drops the database it created, and after SIGKILL a rerun into a fresh database succeeds",
          arguments: [SIGTERM, SIGKILL])
    func killedRestoreThenRerun(_ signalNumber: Int32) throws {
        let source = try RestoreSources.source("pagila")
        let first = TestServer.uniqueName("restore_killed")
        let second = TestServer.uniqueName("restore_rerun")
        defer {
            dropDatabase(first)
            dropDatabase(second)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Pgcellar.binary())
        process.arguments = ["restore", source.archive, "--create", "-j", "1", "-q", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: first)]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once it is under way: the database exists.
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline, try !databaseExists(first) { Thread.sleep(forTimeInterval: 0.005) }
        Thread.sleep(forTimeInterval: 0.05)  // past CREATE DATABASE's return, into pre-data
        try #require(process.isRunning, "the restore finished before it could be killed")
        kill(process.processIdentifier, signalNumber)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        if signalNumber == SIGTERM {
            #expect(try databaseExists(first) == false, "an interrupted --create restore drops the database it made")
        }
        let result = try Pgcellar.run(["restore", source.archive, "--create", "-j", "2", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: second)])
        try #require(result.status == 0, "\(result.stderr)")
        #expect(try DatabaseFingerprint.of(source.database) == DatabaseFingerprint.of(second))
    }

    @Test("--schema-only, then --data-only --disable-triggers from stdin, gives the same database")
    func schemaThenData() throws {
        let source = try RestoreSources.source("chinook")
        try TestServer.withScratchDatabase("restore_split") { target in
            let dsn = TestServer.conninfo(user: RestoreSources.user, database: target)
            let schema = try Pgcellar.run(["restore", source.archive, "--schema-only", "-j", "2", "--dbname", dsn])
            try #require(schema.status == 0, "\(schema.stderr)")
            let empty = try TestServer.withConnection(database: target) { try $0.query("SELECT count(*) AS n FROM public.track").first?["n"] }
            #expect(empty == "0")
            let refused = try Pgcellar.run(["restore", source.archive, "--schema-only", "--dbname", dsn])
            #expect(refused.status == 1, "a second schema load into the now non-empty database is refused")
            let data = try Pgcellar.run(["restore", "-", "--data-only", "--disable-triggers", "-j", "3", "--dbname", dsn],
                                        stdin: try Data(contentsOf: URL(fileURLWithPath: source.archive)))
            try #require(data.status == 0, "\(data.stderr)")
            #expect(try DatabaseFingerprint.of(source.database) == DatabaseFingerprint.of(target))
            #expect(try RestoreSources.schemaDump(source.database) == RestoreSources.schemaDump(target))
        }
    }

    @Test("--table restores one table with its rows and its own indexes, nothing else")
    func singleTable() throws {
        let source = try RestoreSources.source("pagila")
        let target = TestServer.uniqueName("restore_table")
        defer { dropDatabase(target) }
        let result = try Pgcellar.run(["restore", source.archive, "--create", "--table", "public.actor", "-j", "2",
                                       "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
        try #require(result.status == 0, "\(result.stderr)")
        let (tables, rows, indexes) = try TestServer.withConnection(database: target) { connection in
            (try connection.query("SELECT string_agg(tablename, ',') AS t FROM pg_tables WHERE schemaname = 'public'").first?["t"],
             try connection.query("SELECT count(*) AS n FROM public.actor").first?["n"],
             try connection.query("SELECT string_agg(indexname, ',' ORDER BY indexname) AS i FROM pg_indexes WHERE tablename = 'actor'").first?["i"])
        }
        #expect(tables == "actor")
        #expect(rows == "200")
        #expect(indexes == "actor_pkey,idx_actor_last_name")
    }
}
