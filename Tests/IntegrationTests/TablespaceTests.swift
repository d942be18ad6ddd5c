import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// Tablespace assignments (issue 10): recorded by export, selected by
/// restore and by `zstd -dc | psql` as pg_dump's `SET default_tablespace`,
/// ignored with `--no-tablespaces`, and checked before a restore writes.
@Suite("Tablespaces", .serialized)
struct TablespaceTests {
    typealias Support = ExportTestSupport

    // MARK: - Fixtures

    /// Creates `count` tablespaces in fresh directories owned by the
    /// server's user (the owner of its data directory: the tests run as
    /// root, the server as postgres), runs `body` with their names, then
    /// drops them and their directories.
    static func withTablespaces<T>(_ count: Int, _ body: ([String]) throws -> T) throws -> T {
        let owner = try TestServer.withConnection { connection in
            let dataDirectory = try connection.query("SHOW data_directory").first!.string("data_directory")
            let attributes = try FileManager.default.attributesOfItem(atPath: dataDirectory)
            return (uid: (attributes[.ownerAccountID] as! NSNumber).uint32Value, gid: (attributes[.groupOwnerAccountID] as! NSNumber).uint32Value)
        }
        var created: [(name: String, directory: String)] = []
        defer {
            for (name, directory) in created {
                _ = try? TestServer.withConnection { try $0.execute("DROP TABLESPACE IF EXISTS \(try $0.escapeIdentifier(name))") }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        for _ in 0..<count {
            let name = TestServer.uniqueName("pgc_ts")
            let directory = Support.temporaryPath(name)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            created.append((name, directory))
            guard chown(directory, owner.uid, owner.gid) == 0 else {
                throw Support.CommandFailed(command: "chown \(directory)", status: errno, stderr: String(cString: strerror(errno)))
            }
            try TestServer.withConnection { connection in
                try connection.execute("CREATE TABLESPACE \(try connection.escapeIdentifier(name)) LOCATION \(try connection.escapeLiteral(directory))")
            }
        }
        return try body(created.map(\.name))
    }

    /// A table in `fast`, its primary key's index in `fast` and a unique and
    /// an exclusion constraint's in `slow`, an index in `slow`; a partitioned table in
    /// `fast` with a partition in `slow`, one inheriting `fast` and one in
    /// the default, and a partitioned index in `slow`; a materialized view
    /// in `slow`.
    static func schema(fast: String, slow: String) throws -> String {
        let fast = try SQLQuoting.identifier(fast), slow = try SQLQuoting.identifier(slow)
        return """
            CREATE TABLE items (id int PRIMARY KEY USING INDEX TABLESPACE \(fast), code text, note text) TABLESPACE \(fast);
            ALTER TABLE items ADD CONSTRAINT items_code_key UNIQUE (code) USING INDEX TABLESPACE \(slow);
            ALTER TABLE items ADD CONSTRAINT items_id_excl EXCLUDE USING btree (id WITH =) USING INDEX TABLESPACE \(slow);
            CREATE INDEX items_note ON items (note) TABLESPACE \(slow);
            CREATE INDEX items_plain ON items (note, code);
            INSERT INTO items SELECT g, 'c' || g, 'n' || (g % 7) FROM generate_series(1, 200) g;
            CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at) TABLESPACE \(fast);
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') TABLESPACE \(slow);
            CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE events_other PARTITION OF events DEFAULT TABLESPACE pg_default;
            CREATE INDEX events_at ON events (at) TABLESPACE \(slow);
            INSERT INTO events VALUES ('2025-05-05', 'a'), ('2026-06-06', 'b'), ('2030-01-01', 'c');
            CREATE MATERIALIZED VIEW item_notes TABLESPACE \(slow) AS SELECT note, count(*) AS n FROM items GROUP BY note;
            """
    }

    /// Every relation and index of schema public with its tablespace's
    /// name ("" for the database's default), as a user would check.
    static func tablespaces(_ database: String) throws -> [String: String] {
        try TestServer.withConnection(database: database) { connection in
            var found: [String: String] = [:]
            for row in try connection.query("""
                SELECT c.relname AS name, coalesce(t.spcname, '') AS tablespace
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
                """).rows {
                found[try row.string("name")] = try row.string("tablespace")
            }
            return found
        }
    }

    static func export(_ source: String, _ extra: [String] = []) throws -> String {
        let archive = Support.temporaryPath("\(source).sql.zst")
        let exported = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive] + extra)
        try #require(exported.status == 0, "export failed: \(exported.stderr)")
        return archive
    }

    static func restoreCreate(_ archive: String, _ extra: [String] = []) throws -> (database: String, output: Pgcellar.Output) {
        let database = TestServer.uniqueName("pgc_ts_restored")
        let output = try Pgcellar.run(["restore", archive, "--create", "-j", "2", "-d", "\(try TestServer.dsn()) dbname=\(database)"] + extra)
        return (database, output)
    }

    // MARK: - Round trips

    @Test("tables, partitions, indexes, constraint indexes and a materialized view keep their tablespaces through restore -j 2 and zstd -dc | psql")
    func roundTrip() throws {
        try Self.withTablespaces(2) { names in
            let (fast, slow) = (names[0], names[1])
            try TestServer.withScratchDatabase("pgc_ts_source") { source in
                try Support.psql(source, try Self.schema(fast: fast, slow: slow))
                let expected = try Self.tablespaces(source)
                // What the fixture made, so that the comparisons below cannot pass vacuously.
                #expect(expected["items"] == fast && expected["items_pkey"] == fast && expected["items_code_key"] == slow)
                #expect(expected["items_note"] == slow && expected["items_plain"] == "" && expected["items_id_excl"] == slow)
                #expect(expected["events"] == fast && expected["events_2025"] == slow && expected["events_2026"] == fast)
                #expect(expected["events_other"] == "" && expected["events_at"] == slow && expected["item_notes"] == slow)

                let archive = try Self.export(source)
                defer { try? FileManager.default.removeItem(atPath: archive) }
                let reader = try ArchiveReader(path: archive)
                #expect(reader.header.tablespaces == [fast, slow].sorted())
                let table = try #require(reader.entries.first { $0.kind == .table && $0.name == "items" })
                #expect(table.tablespace == fast)
                #expect(reader.entries.first { $0.kind == .index && $0.name == "items_plain" }?.tablespace == nil)
                #expect(try reader.sql(table).hasPrefix("SET default_tablespace = \(try SQLQuoting.identifier(fast));\n\nCREATE TABLE public.items"))

                let before = try Support.schemaDump(source)
                let sums = try Support.dataChecksums(source)
                let (restored, output) = try Self.restoreCreate(archive)
                defer { dropDatabase(restored) }
                try #require(output.status == 0, "restore --create -j 2 failed: \(output.stderr)")
                #expect(try Self.tablespaces(restored) == expected)
                let afterRestore = try Support.schemaDump(restored)
                #expect(before == afterRestore, "restore -j 2: pg_dump --schema-only differs:\n\(Support.firstDifference(before, afterRestore))")
                #expect(try Support.dataChecksums(restored) == sums)

                try TestServer.withScratchDatabase("pgc_ts_psql") { scratch in
                    try Support.restoreWithZstdAndPsql(archive, into: scratch)
                    #expect(try Self.tablespaces(scratch) == expected)
                    let afterPsql = try Support.schemaDump(scratch)
                    #expect(before == afterPsql, "zstd -dc | psql: pg_dump --schema-only differs:\n\(Support.firstDifference(before, afterPsql))")
                    #expect(try Support.dataChecksums(scratch) == sums)
                }

                // The drill compares tablespaces too: one moved in the scratch database is caught.
                let clean = try Pgcellar.run(["drill", archive, "--server", try TestServer.dsn(), "--json"])
                #expect(clean.status == 0, "\(clean.stderr)\n\(clean.stdout)")
                var options = DrillOptions(server: ConnectionTarget(try TestServer.dsn()))
                options.jobs = 2
                var driller = Driller(options: options, logger: Logger(label: "test.tablespaces"))
                driller.beforeComparison = { try $0.execute("ALTER INDEX public.items_note SET TABLESPACE pg_default") }
                let moved = try driller.run(archivePath: archive)
                #expect(!moved.passed)
                #expect(moved.mismatches.contains { $0.object.contains("items_note") }, "\(moved.mismatches)")
            }
        }
    }

    @Test("export --no-tablespaces records none; restore --no-tablespaces ignores those recorded: everything in the default")
    func noTablespaces() throws {
        try Self.withTablespaces(2) { names in
            try TestServer.withScratchDatabase("pgc_ts_source") { source in
                try Support.psql(source, try Self.schema(fast: names[0], slow: names[1]))
                let inDefault = try Self.tablespaces(source).mapValues { _ in "" }
                let sums = try Support.dataChecksums(source)

                let bare = try Self.export(source, ["--no-tablespaces"])
                defer { try? FileManager.default.removeItem(atPath: bare) }
                let reader = try ArchiveReader(path: bare)
                #expect(reader.header.tablespaces == nil)
                #expect(reader.entries.allSatisfy { $0.tablespace == nil })
                #expect(!(try Support.shell("zstd -dc '\(bare)'")).contains("SET default_tablespace = \""))
                let (fromBare, bareOutput) = try Self.restoreCreate(bare)
                defer { dropDatabase(fromBare) }
                try #require(bareOutput.status == 0, "\(bareOutput.stderr)")
                #expect(try Self.tablespaces(fromBare) == inDefault)
                #expect(try Support.dataChecksums(fromBare) == sums)

                let full = try Self.export(source)
                defer { try? FileManager.default.removeItem(atPath: full) }
                let (ignoring, ignoringOutput) = try Self.restoreCreate(full, ["--no-tablespaces"])
                defer { dropDatabase(ignoring) }
                try #require(ignoringOutput.status == 0, "\(ignoringOutput.stderr)")
                #expect(try Self.tablespaces(ignoring) == inDefault)
                #expect(try Support.dataChecksums(ignoring) == sums)
            }
        }
    }

    @Test("restore --create makes the database in the source database's own tablespace")
    func databaseTablespace() throws {
        try Self.withTablespaces(1) { names in
            let source = TestServer.uniqueName("pgc_ts_dbsource")
            try TestServer.withConnection { connection in
                try connection.execute("CREATE DATABASE \(try connection.escapeIdentifier(source)) TABLESPACE \(try connection.escapeIdentifier(names[0]))")
            }
            defer { dropDatabase(source) }
            try Support.psql(source, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);")
            let archive = try Self.export(source)
            defer { try? FileManager.default.removeItem(atPath: archive) }
            #expect(try ArchiveReader(path: archive).header.database.tablespace == names[0])
            let (restored, output) = try Self.restoreCreate(archive)
            defer { dropDatabase(restored) }
            try #require(output.status == 0, "\(output.stderr)")
            let tablespace = try TestServer.withConnection { connection in
                try connection.query("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1",
                                     [restored]).first?.string("spcname")
            }
            #expect(tablespace == names[0])
            #expect(try Support.dataChecksums(restored) == Support.dataChecksums(source))
        }
    }

    // MARK: - Missing tablespaces

    @Test("a restore naming a tablespace the server lacks fails before creating anything; the drill restores without it and says so")
    func missingTablespace() throws {
        // The archive of a database whose tablespace has since gone.
        var archive = ""
        var gone = ""
        try Self.withTablespaces(1) { names in
            gone = names[0]
            try TestServer.withScratchDatabase("pgc_ts_source") { source in
                let quoted = try SQLQuoting.identifier(gone)
                try Support.psql(source, """
                    CREATE TABLE kept (id int PRIMARY KEY, v text) TABLESPACE \(quoted);
                    CREATE INDEX kept_v ON kept (v) TABLESPACE \(quoted);
                    INSERT INTO kept SELECT g, 'v' || g FROM generate_series(1, 50) g;
                    """)
                archive = try Self.export(source)
            }
        }
        defer { try? FileManager.default.removeItem(atPath: archive) }
        #expect(try Restorer.missingTablespacesOnTestServer([gone]) == [gone])

        let (database, refused) = try Self.restoreCreate(archive)
        defer { dropDatabase(database) }
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("tablespaces that do not exist on the target server: \(gone)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("create them, or restore with --no-tablespaces"), "\(refused.stderr)")
        #expect(!(try databaseExists(database)))

        try TestServer.withScratchDatabase("pgc_ts_existing") { existing in
            let into = try Pgcellar.run(["restore", archive, "-d", "\(try TestServer.dsn()) dbname=\(existing)"])
            #expect(into.status == 1)
            #expect(into.stderr.contains("create them, or restore with --no-tablespaces"), "\(into.stderr)")
            let tables = try TestServer.withConnection(database: existing) { connection in
                try connection.query("SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'")
                    .first!.int("n")
            }
            #expect(tables == 0)
        }

        let (ignoring, output) = try Self.restoreCreate(archive, ["--no-tablespaces"])
        defer { dropDatabase(ignoring) }
        #expect(output.status == 0, "\(output.stderr)")
        #expect(try Self.tablespaces(ignoring) == ["kept": "", "kept_pkey": "", "kept_v": ""])

        // From standard input: the header says which tablespaces the stream will need.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let streamed = TestServer.uniqueName("pgc_ts_stream")
        defer { dropDatabase(streamed) }
        let streamRefused = try Pgcellar.run(["restore", "-", "--create", "-d", "\(try TestServer.dsn()) dbname=\(streamed)"], stdin: bytes)
        #expect(streamRefused.status == 1)
        #expect(streamRefused.stderr.contains("create them, or restore with --no-tablespaces"), "\(streamRefused.stderr)")
        #expect(!(try databaseExists(streamed)))
        let streamIgnoring = try Pgcellar.run(["restore", "-", "--create", "-j", "2", "--no-tablespaces", "-d", "\(try TestServer.dsn()) dbname=\(streamed)"],
                                              stdin: bytes)
        #expect(streamIgnoring.status == 0, "\(streamIgnoring.stderr)")
        #expect(try Self.tablespaces(streamed) == ["kept": "", "kept_pkey": "", "kept_v": ""])

        let drill = try Pgcellar.run(["drill", archive, "--server", try TestServer.dsn(), "--json"])
        #expect(drill.status == 0, "\(drill.stderr)\n\(drill.stdout)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(drill.stdout.utf8)) as? [String: Any])
        #expect(report["tablespacesMissing"] as? [String] == [gone])
        #expect(report["rows"] as? Int == 50)
    }
}

extension Restorer {
    /// ``missingTablespaces(_:on:)`` on the test server.
    static func missingTablespacesOnTestServer(_ names: [String]) throws -> [String] {
        try TestServer.withConnection { try missingTablespaces(names, on: $0) }
    }
}
