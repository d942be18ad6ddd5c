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

/// `pgcellar export -o FILE` stopped by SIGINT or SIGTERM in mid-export:
/// nothing at FILE (or the old FILE untouched), no temporary file holding
/// part of the database, and no session of the export left on the server.
@Suite("Export interrupted by a signal", .serialized)
struct ExportSignalTests {
    @Test("SIGINT in mid-export removes the temporary file and leaves no FILE")
    func interruptLeavesNothing() throws {
        try interrupted(by: SIGINT, previousFile: nil)
    }

    @Test("SIGTERM in mid-export removes the temporary file and leaves the FILE that was there untouched")
    func terminateKeepsThePreviousFile() throws {
        try interrupted(by: SIGTERM, previousFile: Data("an earlier export\n".utf8))
    }

    /// Starts an export paused at the start of its data phase (its pre-data
    /// already in the temporary file), signals it there, and checks what it left.
    private func interrupted(by signal: Int32, previousFile: Data?) throws {
        try TestServer.withScratchDatabase("export_sig") { database in
            try TestServer.withConnection(database: database) { setup in
                try setup.execute("""
                    CREATE TABLE public.taps (id integer PRIMARY KEY, beer text NOT NULL);
                    INSERT INTO public.taps SELECT g, 'beer ' || g FROM generate_series(1, 20000) g;
                    """)
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-exsig-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/taps.sql.zst"
            if let previousFile { try previousFile.write(to: URL(fileURLWithPath: path)) }

            let export = try RotationTests.Running(
                arguments: ["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", path, "-j", "2"],
                environment: [RotationPauseHook.environmentVariable: "export-data"])
            try #require(export.waitForPause("export-data"), "\(export.stderr)")
            let partial = try temporaryFiles(in: directory)
            #expect(partial.count == 1, "the export writes into one temporary file beside FILE: \(partial)")

            export.signalAndWait(signal)
            #expect(export.process.terminationReason == .uncaughtSignal && export.process.terminationStatus == signal,
                    "the export ends with the signal's status: \(export.process.terminationReason) \(export.process.terminationStatus)")
            #expect(export.stderr.contains("export interrupted; nothing was written to the target"), "\(export.stderr)")
            #expect(try temporaryFiles(in: directory).isEmpty, "the temporary file holding part of the database is still there")
            if let previousFile {
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == previousFile, "the FILE that was there was changed")
            } else {
                #expect(!FileManager.default.fileExists(atPath: path), "an interrupted export left \(path)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == (previousFile == nil ? 0 : 1))
            #expect(try sessionsEnd(in: database), "the export's sessions stay on the server after it was interrupted")
        }
    }

    /// The `.<name>.<random>.tmp` files AtomicFileWriter makes in `directory`.
    private func temporaryFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }
    }

    /// Whether every session on `database` ends within ten seconds (a
    /// backend notices that its client went away only when it next reads).
    private func sessionsEnd(in database: String) throws -> Bool {
        try TestServer.withConnection { observer in
            for _ in 0..<100 {
                let count = try observer.query("SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE datname = $1",
                                               [database]).first?.int("n") ?? 0
                if count == 0 { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
    }
}
