#if canImport(Glibc)
import Glibc
#endif
import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// pgcellar drill, and destroy's drill step, against the real cluster.
@Suite("Drill", .serialized)
struct DrillTests {
    static func scratchDatabases(like prefix: String) throws -> [String] {
        try TestServer.withConnection { connection in
            try connection.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", [prefix])
                .rows.map { try $0.string("datname") }
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    func drillClean(_ name: String) throws {
        let source = try RestoreSources.source(name)
        let result = try Pgcellar.run(["drill", source.archive, "--server", try TestServer.dsn(), "-j", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        let report = try Self.json(result.stdout)
        #expect(report["ok"] as? Bool == true)
        #expect((report["mismatches"] as? [Any])?.isEmpty == true, "\(report["mismatches"] ?? "")")
        #expect(report["digestsCompared"] as? Bool == true)
        let verification = try ArchiveVerifier.verify(path: source.archive)
        #expect((report["tables"] as? [Any])?.count == verification.tables)
        #expect(report["rows"] as? Int == verification.rows)
        #expect((report["schemaObjectsChecked"] as? Int ?? 0) > 50)
        #expect(report["scratchDropped"] as? Bool == true)
        let scratch = try #require(report["scratchDatabase"] as? String)
        #expect(scratch.hasPrefix(source.database.prefix(40)) && scratch.contains("_drill_"))
        #expect(try Self.scratchDatabases(like: scratch).isEmpty, "the scratch database is left behind")
    }

    @Test("Pagila drills clean: every table's rows and every schema object match, exit 0, nothing left behind")
    func pagilaClean() throws { try drillClean("pagila") }

    @Test("Chinook drills clean")
    func chinookClean() throws { try drillClean("chinook") }

    @Test("a scratch name fits 63 bytes: the source part is shortened, never the suffix")
    func scratchNames() {
        let long = String(repeating: "é", count: 40)  // 80 bytes
        let name = ScratchName.make(source: long, random: 0xabcdef01)
        #expect(name.utf8.count <= 63)
        #expect(name.hasSuffix("_drill_abcdef01"))
        #expect(name != long)
        #expect(ScratchName.make(source: "shop", random: 1) == "shop_drill_00000001")
        #expect(ScratchName.problem("shop", source: "shop") != nil)
    }

    /// Runs a drill of Pagila in-process, with `change` run on the scratch
    /// database between the restore and the comparison.
    func drillPagila(change: @escaping @Sendable (Connection) throws -> Void) throws -> DrillReport {
        let source = try RestoreSources.source("pagila")
        var options = DrillOptions(server: ConnectionTarget(try TestServer.dsn()))
        options.jobs = 2
        var driller = Driller(options: options, logger: Logger(label: "test.drill"))
        driller.beforeComparison = change
        let report = try driller.run(archivePath: source.archive)
        #expect(report.scratchDropped)
        #expect(try Self.scratchDatabases(like: report.scratchDatabase).isEmpty)
        return report
    }

    @Test("a row changed in the scratch database before the comparison is caught, naming its table")
    func changedRow() throws {
        let report = try drillPagila { try $0.execute("UPDATE public.actor SET first_name = 'CHANGED' WHERE actor_id = 7") }
        #expect(!report.passed)
        #expect(report.mismatches.count == 1, "\(report.mismatches)")
        let mismatch = try #require(report.mismatches.first)
        #expect(mismatch.kind == .tableRows)
        #expect(mismatch.object == "TABLE DATA public.actor")
        #expect(mismatch.detail.contains("row digest"))
        let actor = try #require(report.tables.first { $0.name == "actor" })
        #expect(actor.archiveRows == actor.restoredRows)
        #expect(actor.archiveDigest != actor.restoredDigest)
    }

    @Test("a deleted row is caught by count and digest")
    func deletedRow() throws {
        let report = try drillPagila { try $0.execute("DELETE FROM public.film_actor WHERE actor_id = 1 AND film_id = 1") }
        let mismatch = try #require(report.mismatches.first { $0.object == "TABLE DATA public.film_actor" })
        let table = try #require(report.tables.first { $0.name == "film_actor" })
        #expect(table.restoredRows == table.archiveRows - 1)
        #expect(mismatch.detail.contains("holds \(table.archiveRows) rows, the restore gave back \(table.archiveRows - 1)"), "\(mismatch.detail)")
    }

    @Test("a missing index and a missing column are caught, each by object")
    func missingIndexAndColumn() throws {
        let report = try drillPagila { connection in
            try connection.execute("DROP INDEX public.idx_actor_last_name; ALTER TABLE public.category DROP COLUMN last_update CASCADE")
        }
        #expect(!report.passed)
        let objects = Set(report.mismatches.map(\.object))
        #expect(objects.contains("INDEX public.idx_actor_last_name"), "\(report.mismatches)")
        #expect(objects.contains("TABLE public.category"), "\(report.mismatches)")
        #expect(objects.contains("TABLE DATA public.category"), "the rows cannot be read back with the archive's column list: \(report.mismatches)")
        let index = try #require(report.mismatches.first { $0.object == "INDEX public.idx_actor_last_name" })
        #expect(index.detail.contains("missing from the restored database"))
    }

    @Test("a role missing on the server: without --require-roles the drill restores without owners and says so; with it, it fails naming the role")
    func missingRole() throws {
        let role = TestServer.uniqueName("drill_owner")
        let renamed = role + "_gone"
        let database = TestServer.uniqueName("drill_roles")
        try TestServer.withConnection { c in
            try c.execute("CREATE ROLE \(try c.escapeIdentifier(role))")
            try c.execute("CREATE DATABASE \(try c.escapeIdentifier(database)) OWNER \(try c.escapeIdentifier(role))")
        }
        defer {
            _ = try? TestServer.withConnection { c in
                try c.execute("DROP DATABASE IF EXISTS \(try c.escapeIdentifier(database))")
                try c.execute("DROP ROLE IF EXISTS \(try c.escapeIdentifier(role))")
                try c.execute("DROP ROLE IF EXISTS \(try c.escapeIdentifier(renamed))")
            }
        }
        try TestServer.withConnection(database: database) { c in
            try c.execute("""
                CREATE TABLE public.t (id int PRIMARY KEY, v text);
                INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 100) g;
                ALTER TABLE public.t OWNER TO \(try c.escapeIdentifier(role));
                GRANT SELECT ON public.t TO PUBLIC;
                """)
        }
        let archive = try RestoreSources.export(database: database)
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try TestServer.withConnection { c in try c.execute("ALTER ROLE \(try c.escapeIdentifier(role)) RENAME TO \(try c.escapeIdentifier(renamed))") }

        let strict = try Pgcellar.run(["drill", archive, "--server", try TestServer.dsn(), "--require-roles", "--name", database + "_d"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("roles that do not exist") && strict.stderr.contains(role), "\(strict.stderr)")
        #expect(try Self.scratchDatabases(like: database + "_d").isEmpty)

        let lenient = try Pgcellar.run(["drill", archive, "--server", try TestServer.dsn(), "--json"])
        #expect(lenient.status == 0, "\(lenient.stderr)\n\(lenient.stdout)")
        let report = try Self.json(lenient.stdout)
        #expect(report["rolesMissing"] as? [String] == [role])
        #expect(report["ownersAndPrivilegesSkipped"] as? Bool == true)
        #expect(report["rows"] as? Int == 100)
    }

    @Test("--metrics-file: Prometheus text written atomically, the last success kept after a failure")
    func metricsFile() throws {
        let source = try RestoreSources.source("pagila")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-drill-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/pgcellar_drill.prom"
        let result = try Pgcellar.run(["drill", source.archive, "--server", try TestServer.dsn(), "--metrics-file", path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("# TYPE pgcellar_drill_last_success_timestamp_seconds gauge"))
        #expect(text.contains("pgcellar_drill_mismatches{database=\"\(source.database)\"} 0"), "\(text)")
        let rows = try ArchiveVerifier.verify(path: source.archive).rows
        #expect(text.contains("pgcellar_drill_rows{database=\"\(source.database)\"} \(rows)"))
        let success = try #require(DrillMetricsProbe.lastSuccess(text))
        #expect(abs(success - Date().timeIntervalSince1970) < 120)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["pgcellar_drill.prom"], "no temporary file left")

        // A drill that cannot start (its --name is taken) is a failure for the
        // alerts: one mismatch, the last success kept.
        let taken = try Pgcellar.run(["drill", source.archive, "--server", try TestServer.dsn(), "--name", "postgres", "--metrics-file", path])
        #expect(taken.status == 1)
        let afterFailure = try String(contentsOfFile: path, encoding: .utf8)
        #expect(DrillMetricsProbe.lastSuccess(afterFailure) == success)
        #expect(afterFailure.contains("pgcellar_drill_mismatches{database=\"\(source.database)\"} 1"), "\(afterFailure)")

        var report = DrillReport(archive: source.archive, sourceDatabase: source.database, snapshotTakenAt: "", server: "", scratchDatabase: "x")
        report.failure = "restore failed"
        let failed = DrillMetrics.text(report, finishedAt: Date(), previous: text)
        #expect(DrillMetricsProbe.lastSuccess(failed) == success)
        #expect(failed.contains("pgcellar_drill_mismatches{database=\"\(source.database)\"} 1"))
    }

    @Test("--keep leaves the scratch database for inspection and says so; a data-only export is refused before anything is made")
    func keepAndDataOnly() throws {
        let source = try RestoreSources.source("chinook")
        let name = TestServer.uniqueName("drill_keep")
        defer { _ = try? TestServer.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(try $0.escapeIdentifier(name))") } }
        let kept = try Pgcellar.run(["drill", source.archive, "--server", try TestServer.dsn(), "--name", name, "--keep"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.contains("scratch database \(name) kept"), "\(kept.stdout)")
        #expect(try Self.scratchDatabases(like: name) == [name])
        let tracks = try TestServer.withConnection(database: name) { try $0.query("SELECT count(*)::int AS n FROM public.track").first?.int("n") }
        let sourceTracks = try TestServer.withConnection(database: source.database) { try $0.query("SELECT count(*)::int AS n FROM public.track").first?.int("n") }
        #expect(tracks == sourceTracks)
        let taken = try Pgcellar.run(["drill", source.archive, "--server", try TestServer.dsn(), "--name", name])
        #expect(taken.status == 1)
        #expect(taken.stderr.contains("already exists"), "\(taken.stderr)")
        #expect(try Self.scratchDatabases(like: name) == [name], "a name taken by another database is never dropped")

        let dataOnly = FileManager.default.temporaryDirectory.appendingPathComponent("drill-data-only-\(UUID().uuidString).sql.zst").path
        defer { try? FileManager.default.removeItem(atPath: dataOnly) }
        let export = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source.database)", "-o", dataOnly, "--data-only", "-q"])
        try #require(export.status == 0, "\(export.stderr)")
        let refused = try Pgcellar.run(["drill", dataOnly, "--server", try TestServer.dsn()])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("holds rows only"), "\(refused.stderr)")
    }

    @Test("SIGTERM in mid-drill leaves no scratch database, and the command exits non-zero")
    func sigterm() throws {
        let source = try RestoreSources.source("pagila")
        let name = TestServer.uniqueName("drill_sigterm")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Pgcellar.binary())
        process.arguments = ["drill", source.archive, "--server", try TestServer.dsn(), "--name", name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while try Self.scratchDatabases(like: name).isEmpty, process.isRunning, Date() < deadline { usleep(20_000) }
        try #require(process.isRunning, "the drill ended before it could be interrupted")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0 || process.terminationReason == .uncaughtSignal)
        #expect(try Self.scratchDatabases(like: name).isEmpty, "the scratch database \(name) is left behind")
    }
}

enum DrillMetricsProbe {
    static func lastSuccess(_ text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix("pgcellar_drill_last_success_timestamp_seconds") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }
}

/// destroy's drill step.
@Suite("Destroy drill", .serialized)
struct DestroyDrillTests {
    func provisionedWithData(_ prefix: String) throws -> ProvisionFixture {
        let fixture = try ProvisionFixture(prefix: prefix)
        _ = try fixture.provisioner().apply()
        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        try owner.execute("""
            CREATE TABLE public.beers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
            INSERT INTO public.beers (name) SELECT 'beer ' || g FROM generate_series(1, 500) g;
            """)
        return fixture
    }

    static func connectACL(_ database: String) throws -> String? {
        try TestServer.withConnection { try $0.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [database]).first?["acl"] }
    }

    @Test("destroy with a drill that fails (a --drill-dsn server lacking the roles) drops nothing and lets connections in again")
    func failingDrill() throws {
        let fixture = try provisionedWithData("dd_fail")
        defer { fixture.cleanUp() }
        let server = try ThrowawayServer(tls: false)
        defer { server.stop() }
        let before = try Self.connectACL(fixture.database)
        let path = fixture.directory + "/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes",
                                       "--drill-dsn", server.conninfo() + " sslmode=disable"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("nothing was dropped"), "\(result.stderr)")
        #expect(result.stderr.contains(fixture.owner), "the report names the missing role: \(result.stderr)")
        #expect(result.stderr.contains("audit: destroy") && result.stderr.contains("result=failed drill=failed"), "\(result.stderr)")
        #expect(try databaseExists(fixture.database))
        #expect(try Self.connectACL(fixture.database) == before)
        let connection = try fixture.connect(as: fixture.readwrite)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*)::int AS n FROM public.beers").first?.int("n") == 500)
    }

    @Test("a drill connection that may not create databases stops destroy before anything is revoked")
    func drillCannotCreate() throws {
        let fixture = try provisionedWithData("dd_nocreate")
        defer { fixture.cleanUp() }
        let role = try TestLoginRole(prefix: "dd_nocreatedb", attributes: "NOCREATEDB")
        defer { role.drop() }
        let pgpass = try role.pgpassFile(in: fixture.directory)
        // The superuser's password stays reachable for the admin connection.
        if let superuserFile = ProcessInfo.processInfo.environment["PGPASSFILE"],
           let superuser = try? String(contentsOfFile: superuserFile, encoding: .utf8) {
            try (try String(contentsOfFile: pgpass, encoding: .utf8) + superuser).write(toFile: pgpass, atomically: false, encoding: .utf8)
        }
        let before = try Self.connectACL(fixture.database)
        let path = fixture.directory + "/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes",
                                       "--drill-dsn", TestServer.conninfo(user: role.name)], environment: ["PGPASSFILE": pgpass])
        #expect(result.status == 1)
        #expect(result.stderr.contains("may not create databases"), "\(result.stderr)")
        #expect(!result.stderr.contains("revoking CONNECT"), "nothing may be revoked before the probe: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try Self.connectACL(fixture.database) == before)
        #expect(try databaseExists(fixture.database))
    }

    @Test("--no-drill warns, skips the drill and the audit line records it; the default destroy drills")
    func noDrillAndDefault() throws {
        let skipped = try provisionedWithData("dd_skip")
        defer { skipped.cleanUp() }
        let result = try Pgcellar.run(["destroy", "-c", skipped.configPath, "--export-to", skipped.directory + "/e.sql.zst", "--yes", "--no-drill"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("--no-drill"))
        #expect(result.stderr.contains("drill=skipped"), "\(result.stderr)")
        #expect(try !databaseExists(skipped.database))

        let drilled = try provisionedWithData("dd_default")
        defer { drilled.cleanUp() }
        let run = try Pgcellar.run(["destroy", "-c", drilled.configPath, "--export-to", drilled.directory + "/e.sql.zst", "--yes", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try DrillTests.json(run.stdout)
        let drill = try #require(report["drill"] as? [String: Any])
        #expect(drill["ok"] as? Bool == true)
        #expect(drill["rows"] as? Int == 500)
        #expect((report["sourceBytes"] as? Int ?? 0) > 0)
        #expect(run.stderr.contains("drill=passed"))
        #expect(try DrillTests.scratchDatabases(like: drilled.database + "_drill_").isEmpty)
    }
}
