#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Cellar
import Foundation
import PostgresClient
import Testing

/// The export lists its tables, then BEGINs and LOCKs them, then takes its
/// snapshot, then lists them again under the snapshot. A table created or
/// dropped between the first listing and the LOCK must neither escape the
/// lock nor break the run.
@Suite("Export: tables created or dropped while it locks", .serialized)
struct ExportSchemaChangeTests {
    @Test("a table created after the export listed its tables is locked too: a TRUNCATE waits, and the archive holds its rows and restores")
    func createdTableIsLocked() throws {
        try TestServer.withScratchDatabase("export_new") { database in
            try TestServer.withConnection(database: database) { setup in
                try setup.execute("CREATE TABLE public.kegs (id integer PRIMARY KEY); INSERT INTO public.kegs SELECT generate_series(1, 100)")
            }
            let path = ExportTestSupport.temporaryPath("created.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let export = try RotationTests.Running(
                arguments: ["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "-j", "2"],
                environment: [RotationPauseHook.environmentVariable: "export-tables-listed,export-data"])
            try #require(export.waitForPause("export-tables-listed"), "\(export.stderr)")
            try TestServer.withConnection(database: database) { other in
                try other.execute("""
                    CREATE TABLE public.late (id integer PRIMARY KEY, note text NOT NULL);
                    INSERT INTO public.late SELECT g, 'late ' || g FROM generate_series(1, 300) g;
                    """)
            }
            kill(export.process.processIdentifier, SIGUSR1)
            try #require(export.waitForPause("export-data"), "\(export.stderr)")

            // Snapshot taken, data not yet read: a TRUNCATE of the new table
            // must wait for the export. Had it been left unlocked, the
            // TRUNCATE would commit now and COPY would read its new, empty file.
            let truncate = try Process.startDiscardingOutput(ExportTestSupport.pgBinary("psql"),
                                             ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "\(try TestServer.dsn()) dbname=\(database)",
                                              "-c", "TRUNCATE public.late"])
            defer { if truncate.isRunning { truncate.terminate() } }
            #expect(try waitsForLock(on: "public.late", in: database), "the TRUNCATE of the new table did not wait for the export's lock")
            #expect(truncate.isRunning, "the TRUNCATE finished while the export held its snapshot")

            kill(export.process.processIdentifier, SIGUSR1)
            export.process.waitUntilExit()
            #expect(export.process.terminationStatus == 0, "\(export.stderr)")
            truncate.waitUntilExit()
            #expect(truncate.terminationStatus == 0, "the TRUNCATE goes ahead once the export ends")

            let archive = try ArchiveReader(path: path)
            let rows = archive.entries.filter { $0.data?.tableName == "late" }.reduce(0) { $0 + ($1.data?.rows ?? 0) }
            #expect(rows == 300, "the archive's late holds \(rows) rows; it held 300 at the snapshot")
            let restored = TestServer.uniqueName("export_new_restored")
            defer { dropDatabase(restored) }
            let restore = try Pgcellar.run(["restore", path, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: restored)])
            #expect(restore.status == 0, "\(restore.stderr)")
            let counts = try TestServer.withConnection(database: restored) { connection in
                try connection.query("SELECT (SELECT count(*) FROM public.late)::text AS late, (SELECT sum(id) FROM public.late)::text AS ids, (SELECT count(*) FROM public.kegs)::text AS kegs")
                    .first.map { [$0["late"], $0["ids"], $0["kegs"]] }
            }
            #expect(counts == ["300", "45150", "100"], "restored rows of late, the sum of their ids, rows of kegs")
        }
    }

    @Test("a listed table dropped before the export locked it: the export tries again without it, and the archive restores")
    func droppedTableIsLeftOut() throws {
        try TestServer.withScratchDatabase("export_gone") { database in
            try TestServer.withConnection(database: database) { setup in
                try setup.execute("""
                    CREATE TABLE public.kegs (id integer PRIMARY KEY); INSERT INTO public.kegs SELECT generate_series(1, 100);
                    CREATE TABLE public.gone (id integer); INSERT INTO public.gone SELECT generate_series(1, 50);
                    """)
            }
            let path = ExportTestSupport.temporaryPath("dropped.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let export = try RotationTests.Running(
                arguments: ["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "-j", "2"],
                environment: [RotationPauseHook.environmentVariable: "export-tables-listed"])
            try #require(export.waitForPause("export-tables-listed"), "\(export.stderr)")
            try TestServer.withConnection(database: database) { try $0.execute("DROP TABLE public.gone") }
            kill(export.process.processIdentifier, SIGUSR1)
            export.process.waitUntilExit()
            #expect(export.process.terminationStatus == 0, "\(export.stderr)")

            let archive = try ArchiveReader(path: path)
            #expect(!archive.entries.contains { $0.name == "gone" || $0.data?.tableName == "gone" }, "the dropped table is in the archive")
            let rows = archive.entries.filter { $0.data?.tableName == "kegs" }.reduce(0) { $0 + ($1.data?.rows ?? 0) }
            #expect(rows == 100)
            let restored = TestServer.uniqueName("export_gone_restored")
            defer { dropDatabase(restored) }
            let restore = try Pgcellar.run(["restore", path, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: restored)])
            #expect(restore.status == 0, "\(restore.stderr)")
            let count = try TestServer.withConnection(database: restored) { try $0.query("SELECT count(*)::text AS n FROM public.kegs").first?["n"] }
            #expect(count == "100")
        }
    }

    /// pg_dump's deadlock guard: a worker connection locks each table with
    /// NOWAIT (in the COPY's own query string) before copying it; behind a
    /// session queued for an exclusive lock it would wait forever, since that
    /// session waits for the export's main connection.
    @Test("a parallel connection that finds an exclusive lock queued on its table fails at once, naming it, and leaves no file")
    func queuedExclusiveLockFailsTheWorker() throws {
        try TestServer.withScratchDatabase("export_queued") { database in
            try TestServer.withConnection(database: database) { setup in
                // Every table gets a queued exclusive lock: whichever the
                // second connection takes, it must refuse to wait. The large
                // one keeps the main connection busy, so that the second one
                // is sure to take a table.
                try setup.execute("""
                    CREATE TABLE public.big (id integer, note text);
                    INSERT INTO public.big SELECT g, repeat('x', 40) FROM generate_series(1, 400000) g;
                    CREATE TABLE public.small1 (id integer); INSERT INTO public.small1 VALUES (1);
                    CREATE TABLE public.small2 (id integer); INSERT INTO public.small2 VALUES (2);
                    ANALYZE;
                    """)
            }
            let path = ExportTestSupport.temporaryPath("queued.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let export = try RotationTests.Running(
                arguments: ["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "-j", "2"],
                environment: [RotationPauseHook.environmentVariable: "export-data"])
            try #require(export.waitForPause("export-data"), "\(export.stderr)")
            var truncates: [Process] = []
            defer { for truncate in truncates where truncate.isRunning { truncate.terminate() } }
            for table in ["public.big", "public.small1", "public.small2"] {
                truncates.append(try Process.startDiscardingOutput(ExportTestSupport.pgBinary("psql"),
                    ["-X", "-q", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-c", "TRUNCATE \(table)"]))
                #expect(try waitsForLock(on: table, in: database), "the TRUNCATE of \(table) did not queue behind the export")
            }
            kill(export.process.processIdentifier, SIGUSR1)
            // Without the guard the export would wait forever.
            let deadline = Date().addingTimeInterval(60)
            while export.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            let hung = export.process.isRunning
            if hung { export.process.terminate() }
            export.process.waitUntilExit()
            #expect(!hung, "the export still waited after a minute: \(export.stderr)")
            #expect(export.process.terminationStatus != 0)
            #expect(export.stderr.contains("another session is waiting for an exclusive lock on it"), "\(export.stderr)")
            #expect(["public.big", "public.small1", "public.small2"].contains { export.stderr.contains("cannot export \($0) on a parallel connection") },
                    "\(export.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path), "a failed export left a file")
            for truncate in truncates { truncate.waitUntilExit() }
            #expect(truncates.allSatisfy { $0.terminationStatus == 0 }, "the TRUNCATEs go ahead once the export is over")
        }
    }

    /// Whether a session waits for a lock on `table` within thirty seconds.
    private func waitsForLock(on table: String, in database: String) throws -> Bool {
        try TestServer.withConnection(database: database) { observer in
            for _ in 0..<300 {
                let waiting = try observer.query("""
                    SELECT count(*)::int AS waiting FROM pg_catalog.pg_locks
                    WHERE NOT granted AND relation = pg_catalog.to_regclass($1)
                    """, [table]).first?.int("waiting") ?? 0
                if waiting > 0 { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
    }
}

extension Process {
    /// Starts `executable` with the test environment, its output discarded.
    static func startDiscardingOutput(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
