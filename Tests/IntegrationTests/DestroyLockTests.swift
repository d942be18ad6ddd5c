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

    @Test("rotate during a destroy waits for the database's lock and changes no password; when the destroy is aborted it rotates")
    func rotateWaitsForAbortedDestroy() throws {
        let scene = try DestroyScene("dlock_rot")
        defer { scene.cleanUp() }
        let role = scene.fixture.readwrite
        let secretPath = scene.fixture.secretPath(role)
        let secretBefore = try Data(contentsOf: URL(fileURLWithPath: secretPath))
        let verifierBefore = try #require(try storedVerifier(of: role))
        let destroy = try scene.startDestroy(pauseAt: "destroy-after-revoke")
        try #require(destroy.waitForPause("destroy-after-revoke"), "\(destroy.stderr)")

        // Through an --admin-dsn naming another database: the lock is still the maintenance database's.
        let rotate = try RotationTests.Running(
            arguments: ["rotate", "-c", scene.fixture.configPath, "--role", role, "--admin-dsn", try TestServer.dsn() + " dbname=template1"],
            environment: [:])
        #expect(rotate.waitForStderr("waiting for another pgcellar run on database:\(scene.database)"), "\(rotate.stderr)")
        usleep(1_000_000)
        #expect(rotate.process.isRunning, "rotate did not wait for the destroy: \(rotate.stderr)")
        #expect(try storedVerifier(of: role) == verifierBefore, "rotate changed the password during the destroy")
        #expect(try Data(contentsOf: URL(fileURLWithPath: secretPath)) == secretBefore)
        #expect(!FileManager.default.fileExists(atPath: RotationJournal.path(forSecret: secretPath)), "rotate journaled a password during the destroy")

        destroy.signalAndWait(SIGTERM)
        rotate.process.waitUntilExit()
        #expect(rotate.process.terminationStatus == 0, "\(rotate.stderr)")
        #expect(try storedVerifier(of: role) != verifierBefore, "rotate did not rotate once the destroy ended")
        let connection = try scene.fixture.connect(as: role)
        defer { connection.close() }
        #expect(connection.user == role, "the new password from the Secret logs in: the destroy gave CONNECT back first")
    }

    @Test("rotate waiting on a destroy that drops the database and its roles then fails naming the role, and journals nothing")
    func rotateAfterFinishedDestroy() throws {
        let scene = try DestroyScene("dlock_rotd")
        defer { scene.cleanUp() }
        let role = scene.fixture.readwrite
        let secretPath = scene.fixture.secretPath(role)
        let secretBefore = try Data(contentsOf: URL(fileURLWithPath: secretPath))
        let destroy = try scene.startDestroy(pauseAt: "destroy-after-revoke")
        try #require(destroy.waitForPause("destroy-after-revoke"), "\(destroy.stderr)")

        let rotate = try RotationTests.Running(
            arguments: ["rotate", "-c", scene.fixture.configPath, "--role", role], environment: [:])
        #expect(rotate.waitForStderr("waiting for another pgcellar run on database:\(scene.database)"), "\(rotate.stderr)")
        usleep(500_000)
        #expect(rotate.process.isRunning, "rotate did not wait for the destroy: \(rotate.stderr)")

        kill(destroy.process.processIdentifier, SIGUSR1)
        destroy.process.waitUntilExit()
        #expect(destroy.process.terminationStatus == 0, "\(destroy.stderr)")
        rotate.process.waitUntilExit()
        #expect(rotate.process.terminationStatus == 1, "\(rotate.stderr)")
        #expect(rotate.stderr.contains(role) && rotate.stderr.contains("does not exist"), "\(rotate.stderr)")
        #expect(try !databaseExists(scene.database))
        #expect(try storedVerifier(of: role) == nil, "the destroy dropped the role; rotate must not have made it again")
        #expect(!FileManager.default.fileExists(atPath: RotationJournal.path(forSecret: secretPath)), "no journal for a role that is gone")
        #expect(try Data(contentsOf: URL(fileURLWithPath: secretPath)) == secretBefore, "rotate wrote no Secret")
    }

    /// The role's `rolpassword` as the server stores it; nil when there is no such role.
    private func storedVerifier(of role: String) throws -> String? {
        try TestServer.withConnection { admin in
            try admin.query("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1", [role]).first?["rolpassword"]
        }
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
