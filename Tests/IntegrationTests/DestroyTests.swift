import Cellar
import Foundation
import PostgresClient
import Testing

/// pgcellar destroy against the real cluster, through the built binary.
@Suite("Destroy", .serialized)
struct DestroyTests {
    /// A provisioned database with rows written by its owner role.
    func provisionedWithData(_ prefix: String) throws -> ProvisionFixture {
        let fixture = try ProvisionFixture(prefix: prefix)
        _ = try fixture.provisioner().apply()
        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        try owner.execute("""
            CREATE TABLE public.beers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, abv numeric(4,2));
            INSERT INTO public.beers (name, abv) SELECT 'beer ' || g, (g % 120) / 10.0 FROM generate_series(1, 5000) g;
            CREATE INDEX beers_name_idx ON public.beers (name);
            """)
        return fixture
    }

    func roleExists(_ role: String) throws -> Bool {
        try TestServer.withConnection { try $0.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]).rowCount > 0 }
    }

    @Test("without --yes, destroy prints the plan and changes nothing")
    func dryRun() throws {
        let fixture = try provisionedWithData("ds_dry")
        defer { fixture.cleanUp() }
        let path = fixture.directory + "/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("drop database \(fixture.database)"), "\(result.stdout)")
        #expect(result.stdout.contains(fixture.owner))
        #expect(result.stdout.contains("rerun with --yes"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try databaseExists(fixture.database))
        for role in [fixture.owner, fixture.readwrite, fixture.readonly] { #expect(try roleExists(role)) }
        let connection = try fixture.connect(as: fixture.readwrite)
        connection.close()
    }

    @Test("with --yes: the export verifies and restores to the same data, and the database and roles are gone")
    func destroyAfterVerifiedExport() throws {
        let fixture = try provisionedWithData("ds_yes")
        defer { fixture.cleanUp() }
        let expected = try DatabaseFingerprint.of(fixture.database)
        // A session that destroy must end.
        let session = try fixture.connect(as: fixture.readwrite)
        defer { session.close() }
        let path = fixture.directory + "/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes", "--json"])
        try #require(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(report?["databaseDropped"] as? Bool == true)
        #expect(Set(report?["rolesDropped"] as? [String] ?? []) == [fixture.owner, fixture.readwrite, fixture.readonly])
        #expect(try databaseExists(fixture.database) == false)
        for role in [fixture.owner, fixture.readwrite, fixture.readonly] { #expect(try roleExists(role) == false) }

        let verify = try ArchiveVerifier.verify(path: path)
        #expect(verify.rows == 5000)
        let target = TestServer.uniqueName("ds_restored")
        defer { dropDatabase(target) }
        let restored = try Pgcellar.run(["restore", path, "--create", "--no-owner", "--no-privileges", "-j", "2",
                                         "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
        try #require(restored.status == 0, "\(restored.stderr)")
        #expect(try DatabaseFingerprint.of(target) == expected)
    }

    @Test("a failed export drops nothing and leaves the database accepting connections")
    func failedExportDropsNothing() throws {
        let fixture = try provisionedWithData("ds_fail")
        defer { fixture.cleanUp() }
        let path = fixture.directory + "/no/such/directory/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes"])
        #expect(result.status == 1)
        // The path is checked before anything is revoked.
        #expect(result.stderr.contains("does not exist") && result.stderr.contains(path), "\(result.stderr)")
        #expect(try databaseExists(fixture.database))
        for role in [fixture.owner, fixture.readwrite, fixture.readonly] { #expect(try roleExists(role)) }
        // The application's roles can connect again.
        let connection = try fixture.connect(as: fixture.readwrite)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) AS n FROM public.beers").first?["n"] == "5000")
    }

    @Test("a role that still holds privileges elsewhere is kept and the object named")
    func roleWithDependenciesElsewhereIsKept() throws {
        let fixture = try provisionedWithData("ds_keep")
        defer { fixture.cleanUp() }
        try TestServer.withScratchDatabase("ds_other") { other in
            _ = try TestServer.withConnection(database: other) { connection in
                try connection.execute("CREATE TABLE public.elsewhere (id int)")
                try connection.execute("GRANT SELECT ON public.elsewhere TO \(try connection.escapeIdentifier(fixture.readonly))")
            }
            let path = fixture.directory + "/export.sql.zst"
            let dry = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path])
            #expect(dry.stdout.contains("keep role \(fixture.readonly)"), "\(dry.stdout)")
            #expect(dry.stdout.contains("elsewhere"), "\(dry.stdout)")
            let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes"])
            try #require(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Kept role \(fixture.readonly)"), "\(result.stdout)")
            #expect(result.stdout.contains("table public.elsewhere in database \(other)"), "\(result.stdout)")
            #expect(try roleExists(fixture.readonly))
            #expect(try roleExists(fixture.owner) == false)
            _ = try TestServer.withConnection(database: other) { connection in
                try connection.execute("DROP TABLE public.elsewhere")
            }
        }
    }

    @Test("a non-superuser CREATEDB CREATEROLE admin (as CloudNativePG hands out) can destroy")
    func nonSuperuserAdmin() throws {
        let adminRole = try TestLoginRole(prefix: "ds_cnpg_admin", attributes: "CREATEDB CREATEROLE")
        let adminName = adminRole.name
        let fixture = try ProvisionFixture(prefix: "ds_cnpg", clusterUser: adminName)
        defer {
            fixture.cleanUp()
            adminRole.drop()
        }
        let environment = ["PGPASSFILE": try adminRole.pgpassFile(in: fixture.directory)]
        let provision = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment)
        try #require(provision.status == 0, "\(provision.stderr)")
        let owner = try fixture.connect(as: fixture.owner)
        try owner.execute("CREATE TABLE public.kegs (id int PRIMARY KEY, litres int); INSERT INTO public.kegs SELECT g, g % 50 FROM generate_series(1, 300) g")
        owner.close()

        let path = fixture.directory + "/export.sql.zst"
        let result = try Pgcellar.run(["destroy", "-c", fixture.configPath, "--export-to", path, "--yes"], environment: environment)
        try #require(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(try databaseExists(fixture.database) == false)
        #expect(try ArchiveVerifier.verify(path: path).rows == 300)
        for role in [fixture.owner, fixture.readwrite, fixture.readonly] { #expect(try roleExists(role) == false) }
    }
}

