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

@Suite("restore --create and signals", .serialized)
struct RestoreSignalTests {
    @Test("a SIGTERM after restore --create succeeded does not drop the restored database")
    func signalAfterSuccessKeepsDatabase() throws {
        try TestServer.withScratchDatabase("rsig_src") { source in
            try TestServer.withConnection(database: source) { connection in
                try connection.execute("CREATE TABLE public.kegs (id int PRIMARY KEY, litres int); INSERT INTO public.kegs SELECT g, g % 50 FROM generate_series(1, 700) g")
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-rsig-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let archive = directory + "/kegs.sql.zst"
            let export = try Pgcellar.run(["export", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: source), "-o", archive])
            try #require(export.status == 0, "\(export.stderr)")

            let target = TestServer.uniqueName("rsig_restored")
            defer { dropDatabase(target) }
            let running = try RotationTests.Running(
                arguments: ["restore", archive, "--create", "--json", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)],
                environment: [RotationPauseHook.environmentVariable: "restore-succeeded"])
            try #require(running.waitForPause("restore-succeeded"), "\(running.stderr)")
            running.signalAndWait(SIGTERM)
            #expect(running.stderr.contains("the database is kept"), "\(running.stderr)")
            #expect(try databaseExists(target), "the restored database was dropped after the restore succeeded")
            let rows = try TestServer.withConnection(database: target) { try $0.query("SELECT count(*) AS n FROM public.kegs").first?["n"] }
            #expect(rows == "700")
        }
    }
}
