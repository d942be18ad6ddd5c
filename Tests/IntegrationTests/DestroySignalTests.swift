#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// destroy's journal: a signal, a crash or a failure puts the database's ACL
/// and ALLOW_CONNECTIONS back exactly; a second run finds the journal.
@Suite("Destroy journal and signals", .serialized)
struct DestroySignalTests {
    @Test("SIGTERM in mid-export gives the ACL and connections back exactly and leaves no partial export")
    func sigtermMidExport() throws {
        let scene = try DestroyScene("dsig_term")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        #expect(try scene.mayConnect(scene.delegated))

        let running = try scene.startDestroy(pauseAt: "destroy-connections-disallowed")
        try #require(running.waitForPause("destroy-connections-disallowed"), "\(running.stderr)")
        // Closed: CONNECT revoked, ALLOW_CONNECTIONS false, journaled (0600), a partial export on disk.
        let closed = try #require(try scene.state())
        #expect(closed.allowConnections == false)
        for role in [scene.fixture.readwrite, scene.reader.name, scene.delegated] { #expect(try scene.mayConnect(role) == false) }
        let attributes = try FileManager.default.attributesOfItem(atPath: scene.journalPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let journal = try #require(try DestroyJournal.load(path: scene.journalPath))
        #expect(journal.aclText == before.acl)
        #expect(journal.connectionsDisallowedAt != nil)
        #expect(scene.temporaryFiles().count == 1)
        // Not even a superuser gets in now.
        #expect(throws: (any Error).self) { try TestServer.withConnection(database: scene.database) { _ in } }

        running.signalAndWait(SIGTERM)
        #expect(running.process.terminationReason == .uncaughtSignal || running.process.terminationStatus != 0)
        #expect(running.stderr.contains("has its privileges and connections back"), "\(running.stderr)")
        let after = try #require(try scene.state())
        #expect(after.acl == before.acl)
        #expect(after.allowConnections)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(scene.temporaryFiles().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scene.exportPath))
        let app = try scene.fixture.connect(as: scene.fixture.readwrite)
        defer { app.close() }
        #expect(try app.query("SELECT count(*) AS n FROM public.beers").first?["n"] == "5000")
    }

    @Test("SIGINT right after the revoke, and SIGHUP with the export verified, drop nothing and restore the ACL",
          arguments: [(SIGINT, "destroy-after-revoke"), (SIGHUP, "destroy-before-drop")])
    func otherSignals(signal: Int32, point: String) throws {
        let scene = try DestroyScene("dsig_other")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        let running = try scene.startDestroy(pauseAt: point)
        try #require(running.waitForPause(point), "\(running.stderr)")
        #expect(try scene.mayConnect(scene.fixture.readwrite) == false)
        running.signalAndWait(signal)
        #expect(running.stderr.contains("has its privileges and connections back"), "\(running.stderr)")
        let after = try #require(try scene.state())
        #expect(after.acl == before.acl)
        #expect(after.allowConnections)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(scene.temporaryFiles().isEmpty)
        #expect(try scene.mayConnect(scene.fixture.readwrite))
    }

    @Test("after SIGKILL the journal stays; a second run refuses and offers --abort, which restores the ACL exactly")
    func crashThenAbort() throws {
        let scene = try DestroyScene("dsig_kill")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        let running = try scene.startDestroy(pauseAt: "destroy-connections-disallowed")
        try #require(running.waitForPause("destroy-connections-disallowed"), "\(running.stderr)")
        running.signalAndWait(SIGKILL)
        #expect(FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(scene.temporaryFiles().count == 1)
        #expect(try scene.state()?.allowConnections == false)

        let again = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--yes", "--no-drill"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("--abort") && again.stderr.contains("--resume"), "\(again.stderr)")
        #expect(try databaseExists(scene.database))
        let dry = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath])
        #expect(dry.stdout.contains("was interrupted"), "\(dry.stdout)")

        let abort = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--abort"])
        #expect(abort.status == 0, "\(abort.stderr)")
        #expect(abort.stdout.contains("Reopened database \(scene.database)"), "\(abort.stdout)")
        let after = try #require(try scene.state())
        #expect(after.acl == before.acl)
        #expect(after.allowConnections)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(scene.temporaryFiles().isEmpty)
        let app = try scene.fixture.connect(as: scene.fixture.readwrite)
        app.close()

        let nothing = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--abort"])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("no journal"), "\(nothing.stderr)")
    }

    @Test("after SIGKILL, --yes --resume finishes the destroy, and its export records the ACL from before the revoke")
    func crashThenResume() throws {
        let scene = try DestroyScene("dsig_resume")
        defer { scene.cleanUp() }
        let running = try scene.startDestroy(pauseAt: "destroy-connections-disallowed")
        try #require(running.waitForPause("destroy-connections-disallowed"), "\(running.stderr)")
        running.signalAndWait(SIGKILL)
        let journal = try #require(try DestroyJournal.load(path: scene.journalPath))

        let resumed = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath,
                                        "--yes", "--resume", "--no-drill"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try databaseExists(scene.database) == false)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(scene.temporaryFiles().isEmpty)
        let header = try ArchiveReader(path: scene.exportPath).header
        #expect(header.database.privileges == journal.privileges)
        #expect(header.database.privileges?.contains { $0.grantee == scene.reader.name && $0.privilege == "CONNECT" } == true)
    }

    @Test("a session that got in despite the revoke (a superuser) is found just before DROP DATABASE: nothing is dropped, the ACL comes back")
    func sessionBeforeDrop() throws {
        let scene = try DestroyScene("dsig_session")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        let running = try scene.startDestroy(pauseAt: "destroy-after-revoke")
        try #require(running.waitForPause("destroy-after-revoke"), "\(running.stderr)")
        // A revoke keeps neither superusers nor members of the owner out, and
        // ALLOW_CONNECTIONS false ends no session already open.
        var target = ConnectionTarget(try TestServer.dsn()).with(database: scene.database)
        target = target.overriding("application_name", "late_superuser")
        let late = try target.connect(logger: Logger(label: "test"))
        defer { late.close() }
        running.signalAndWait(SIGUSR1)
        #expect(running.process.terminationStatus == 1, "\(running.stderr)")
        #expect(running.stderr.contains("a session is on \(scene.database) after the export"), "\(running.stderr)")
        #expect(running.stderr.contains("late_superuser"), "\(running.stderr)")
        #expect(try databaseExists(scene.database))
        let after = try #require(try scene.state())
        #expect(after.acl == before.acl)
        #expect(after.allowConnections)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(try late.query("SELECT count(*) AS n FROM public.beers").first?["n"] == "5000")
    }
}
