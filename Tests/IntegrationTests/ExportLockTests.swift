import Cellar
import Foundation
import PostgresClient
import Testing

@Suite("Export locks before its snapshot")
struct ExportLockTests {
    /// A TRUNCATE (a table rewrite) that commits while the export waits for
    /// its lock must be inside the export's snapshot. Were the snapshot taken
    /// first, COPY would read the truncated table's new file with the older
    /// snapshot and find none of its rows: an archive that verifies and holds
    /// an empty table that was never empty.
    @Test("a TRUNCATE committed while the export waits for its lock: the archive holds the rows after it, not none")
    func truncateWhileTheExportWaits() throws {
        try TestServer.withScratchDatabase("export_lock") { database in
            try TestServer.withConnection(database: database) { setup in
                try setup.execute("""
                    CREATE TABLE t (id integer);
                    INSERT INTO t SELECT generate_series(1, 100);
                    CREATE TABLE u (id integer);
                    INSERT INTO u VALUES (1);
                    """)
            }
            let path = ExportTestSupport.temporaryPath("lock.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try TestServer.withConnection(database: database) { blocker in
                try blocker.execute("BEGIN; TRUNCATE t; INSERT INTO t SELECT generate_series(1, 5)")
                let export = Process()
                export.executableURL = URL(fileURLWithPath: try Pgcellar.binary())
                export.arguments = ["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "-j", "2", "--quiet"]
                export.standardInput = FileHandle.nullDevice
                try export.run()
                defer { if export.isRunning { export.terminate() } }
                // Wait until the export waits for its lock on t.
                let waiting = try TestServer.withConnection(database: database) { observer in
                    for _ in 0..<300 {
                        let count = try observer.query("""
                            SELECT count(*)::int AS waiting FROM pg_catalog.pg_locks l
                            WHERE NOT l.granted AND l.relation = 'public.t'::pg_catalog.regclass
                            """).first?.int("waiting") ?? 0
                        if count > 0 { return true }
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                    return false
                }
                #expect(waiting, "the export never waited for the lock on t")
                try blocker.execute("COMMIT")
                export.waitUntilExit()
                #expect(export.terminationStatus == 0)
            }
            let archive = try ArchiveReader(path: path)
            let rows = archive.entries.filter { $0.data?.tableName == "t" }.reduce(0) { $0 + ($1.data?.rows ?? 0) }
            #expect(rows == 5, "the archive's t holds \(rows) rows; the table held 5 once the TRUNCATE committed")
            let other = archive.entries.filter { $0.data?.tableName == "u" }.reduce(0) { $0 + ($1.data?.rows ?? 0) }
            #expect(other == 1)
        }
    }
}
