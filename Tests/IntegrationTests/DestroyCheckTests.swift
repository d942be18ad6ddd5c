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

/// destroy checks before doing harm, checks again before dropping, and
/// writes an export that restores the database's ACL from before the revoke.
@Suite("Destroy checks", .serialized)
struct DestroyCheckTests {
    @Test("a restore of a destroy's export gives a database that the original grantees can connect to")
    func exportRecordsOriginalACL() throws {
        let scene = try DestroyScene("dchk_acl")
        let restored = TestServer.uniqueName("dchk_acl_restored")
        defer {
            dropDatabase(restored)
            scene.cleanUp()
        }
        let before = try #require(try scene.state())
        let result = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--yes", "--no-drill"])
        try #require(result.status == 0, "\(result.stderr)")
        #expect(try databaseExists(scene.database) == false)

        // A cluster that has the roles: the managed ones again, the others never left.
        try TestServer.withConnection { admin in
            for role in [scene.fixture.owner, scene.fixture.readwrite, scene.fixture.readonly] {
                try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(role)) NOLOGIN")
            }
        }
        let restore = try Pgcellar.run(["restore", scene.exportPath, "--create", "--dbname",
                                        TestServer.conninfo(user: RestoreSources.user, database: restored)])
        try #require(restore.status == 0, "\(restore.stderr)")
        let acl = try TestServer.withConnection { admin in
            try admin.query("SELECT datacl::text AS acl FROM pg_database WHERE datname = $1", [restored]).first?["acl"]
        }
        #expect(acl == before.acl)
        for role in [scene.reader.name, scene.delegated, scene.fixture.readwrite] {
            #expect(try scene.mayConnect(role, database: restored), "\(role) may not connect to the restored database")
        }
        // And really connects, with its own password.
        let connection = try ConnectionTarget(TestServer.conninfo(user: scene.reader.name, database: restored))
            .overriding("password", scene.reader.password).connect()
        #expect(try connection.query("SELECT current_database() AS d").first?["d"] == restored)
        connection.close()
    }

    @Test("no room for the export: the run stops before anything is revoked, and says what to do")
    func noRoom() throws {
        let scene = try DestroyScene("dchk_room")
        defer { scene.cleanUp() }
        let before = try #require(try scene.state())
        let offset = try TestServer.serverLogOffset()
        let session = try scene.fixture.connect(as: scene.fixture.readwrite)
        defer { session.close() }
        let result = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--yes",
                                       "--no-drill", "--export-room-ratio", "100000000"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("nothing was revoked") && result.stderr.contains("--export-room-ratio"), "\(result.stderr)")
        #expect(try scene.state()?.acl == before.acl)
        #expect(!FileManager.default.fileExists(atPath: scene.journalPath))
        let log = try TestServer.serverLog(since: offset)
        // Other suites revoke on their own databases in the same server log.
        #expect(!log.contains("REVOKE CONNECT ON DATABASE \"\(scene.database)\""), "destroy revoked before checking for room")
        // The application's session was never terminated.
        #expect(try session.query("SELECT count(*) AS n FROM public.beers").first?["n"] == "5000")
    }

    @Test("an export path that cannot be written: the run stops before anything is revoked")
    func unwritableExportPath() throws {
        let scene = try DestroyScene("dchk_path")
        defer { scene.cleanUp() }
        let offset = try TestServer.serverLogOffset()
        let session = try scene.fixture.connect(as: scene.fixture.readwrite)
        defer { session.close() }
        for path in [scene.fixture.directory + "/no/such/directory/export.sql.zst", scene.fixture.directory] {
            let result = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", path, "--yes", "--no-drill"])
            #expect(result.status == 1)
            #expect(result.stderr.contains(path), "\(result.stderr)")
        }
        let log = try TestServer.serverLog(since: offset)
        #expect(!log.contains("REVOKE CONNECT ON DATABASE \"\(scene.database)\""), "destroy revoked before checking the export path")
        // The application's session was never terminated.
        #expect(try session.query("SELECT count(*) AS n FROM public.beers").first?["n"] == "5000")
    }

    @Test("the plan names the roles a revoke does not keep out: superusers and members of the owner")
    func planNamesBypassingRoles() throws {
        let scene = try DestroyScene("dchk_plan")
        let member = try TestLoginRole(prefix: "dchk_member", attributes: "")
        let superuser = try TestLoginRole(prefix: "dchk_super", attributes: "SUPERUSER")
        defer {
            scene.cleanUp()
            member.drop()
            superuser.drop()
        }
        try TestServer.withConnection { admin in
            try admin.execute("GRANT \(try admin.escapeIdentifier(scene.fixture.owner)) TO \(try admin.escapeIdentifier(member.name))")
        }
        let dry = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath])
        #expect(dry.status == 0, "\(dry.stderr)")
        let line = dry.stdout.split(separator: "\n").first { $0.contains("can still connect despite the revoke") }.map(String.init) ?? ""
        #expect(line.contains(member.name) && line.contains(superuser.name) && line.contains(scene.fixture.owner), "\(dry.stdout)")
        #expect(!line.contains(scene.fixture.readwrite))
        let json = try Pgcellar.run(["destroy", "-c", scene.fixture.configPath, "--export-to", scene.exportPath, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let bypassing: Set<String> = Set((object?["rolesBypassingRevoke"] as? [String]) ?? [])
        #expect(bypassing.isSuperset(of: [member.name, superuser.name]), "\(json.stdout)")
    }
}
