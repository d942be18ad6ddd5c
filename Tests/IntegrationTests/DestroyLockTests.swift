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

/// provision, rotate and destroy of one database serialize on one advisory
/// lock on the maintenance database.
@Suite("Destroy lock", .serialized)
struct DestroyLockTests {
    @Test("provision during a destroy waits for the database's lock and grants no CONNECT back meanwhile")
    func provisionWaitsForDestroy() throws {
        let scene = try DestroyScene("dlock_prov")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        let destroy = try scene.startDestroy(pauseAt: "destroy-after-revoke")
        try #require(destroy.waitForPause("destroy-after-revoke"), "\(destroy.stderr)")

        // Through an --admin-dsn naming another database: the lock is still the maintenance database's.
        let provision = try RotationTests.Running(
            arguments: ["provision", "-c", scene.fixture.configPath, "--admin-dsn", try TestServer.dsn() + " dbname=template1"],
            environment: [:])
        #expect(provision.waitForStderr("waiting for another pgcellar run on database:\(scene.database)"), "\(provision.stderr)")
        usleep(1_000_000)
        #expect(provision.process.isRunning, "provision did not wait: \(provision.stderr)")
        #expect(try scene.mayConnect(scene.fixture.readwrite) == false, "provision granted CONNECT back during the destroy")

        destroy.signalAndWait(SIGTERM)
        provision.process.waitUntilExit()
        #expect(provision.process.terminationStatus == 0, "\(provision.stderr)")
        let after = try #require(try scene.state())
        #expect(after.acl == before.acl)
        #expect(try scene.mayConnect(scene.fixture.readwrite))
    }

    @Test("a destroy waits while another run holds the database's lock, and changes nothing meanwhile")
    func lockScope() throws {
        let scene = try DestroyScene("dlock_scope")
        defer { scene.cleanUp() }
        let config = try scene.fixture.config()
        let lock = try DatabaseLock(database: scene.database, connector: AdminConnector(config: config, dsn: nil),
                                    maintenanceDatabase: config.cluster.dbname, logger: .init(label: "test"))
        defer { lock.release() }
        let before = try #require(try scene.state())
        let destroy = try RotationTests.Running(
            arguments: ["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--yes", "--no-drill"], environment: [:])
        #expect(destroy.waitForStderr("waiting for another pgcellar run on database:\(scene.database)"), "\(destroy.stderr)")
        usleep(500_000)
        #expect(destroy.process.isRunning)
        #expect(try scene.state()?.acl == before.acl)
        destroy.signalAndWait(SIGTERM)
        #expect(destroy.stderr.contains("before anything changed"), "\(destroy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        #expect(try databaseExists(scene.database))
        #expect(try scene.mayConnect(scene.fixture.readwrite))
    }
}
