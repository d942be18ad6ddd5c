import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

@Suite("provision, plan and check on the real cluster")
struct ProvisionTests {
    /// Statements in a slice of the server log that change something and
    /// concern the fixture (other tests run in parallel on the same server).
    static func writes(in log: String, of fixture: ProvisionFixture) -> [String] {
        let names = [fixture.database, fixture.owner, fixture.readwrite, fixture.readonly]
        return log.split(separator: "\n").map(String.init).filter { line in
            guard names.contains(where: { line.contains($0) }) else { return false }
            guard let range = line.range(of: "statement: ") else { return false }
            let statement = line[range.upperBound...].uppercased()
            return ["CREATE", "ALTER", "GRANT", "REVOKE", "DROP", "INSERT", "UPDATE", "DELETE", "COMMENT", "SET ROLE"]
                .contains { statement.hasPrefix($0) }
        }
    }

    @Test("a fresh provision produces exactly the seed's database, roles, grants and default privileges")
    func freshProvision() throws {
        let fixture = try ProvisionFixture(prefix: "pv_fresh")
        defer { fixture.cleanUp() }
        let report = try fixture.provisioner().apply()
        #expect(report.applied.count == report.plan.steps.count)

        try TestServer.withConnection { admin in
            let roles = try admin.query("""
                SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
                FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname
                """, ["{\(fixture.owner),\(fixture.readwrite),\(fixture.readonly)}"]).rows
            #expect(roles.count == 3)
            for role in roles {
                #expect(try role.bool("rolcanlogin"))
                for attribute in ["rolsuper", "rolcreatedb", "rolcreaterole", "rolreplication", "rolbypassrls"] {
                    #expect(try role.bool(attribute) == false, "\(role["rolname"] ?? "") has \(attribute)")
                }
            }
            let database = try #require(try admin.query("""
                SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS enc, datcollate, datctype, datconnlimit,
                       (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type, ',' ORDER BY 1)
                        FROM aclexplode(datacl) a) AS acl
                FROM pg_database WHERE datname = $1
                """, [fixture.database]).first)
            #expect(try database.string("owner") == fixture.owner)
            #expect(try database.string("enc") == "UTF8")
            #expect(try database.string("datcollate") == "en_US.UTF-8")
            #expect(try database.string("datctype") == "en_US.UTF-8")
            #expect(try database.int("datconnlimit") == -1)
            let acl = Set(try database.string("acl").split(separator: ",").map(String.init))
            #expect(acl == [
                "\(fixture.owner):CONNECT", "\(fixture.owner):CREATE", "\(fixture.owner):TEMPORARY",
                "\(fixture.readwrite):CONNECT", "\(fixture.readonly):CONNECT",
            ])
        }
        try TestServer.withConnection(database: fixture.database) { connection in
            let schema = try connection.query("""
                SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type, ',') AS acl
                FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public'
                """).first?.string("acl")
            let schemaGrants = Set((schema ?? "").split(separator: ",").map(String.init))
            #expect(schemaGrants.isSuperset(of: ["\(fixture.owner):USAGE", "\(fixture.owner):CREATE",
                                                 "\(fixture.readwrite):USAGE", "\(fixture.readonly):USAGE"]))
            #expect(!schemaGrants.contains("\(fixture.readwrite):CREATE"))
            let defaults = try connection.query("""
                SELECT d.defaclobjtype::text AS kind, pg_get_userbyid(d.defaclrole) AS creator,
                       pg_get_userbyid(a.grantee) AS grantee, a.privilege_type AS privilege
                FROM pg_default_acl d, aclexplode(d.defaclacl) a
                """).rows
            var byGrantee: [String: Set<String>] = [:]
            for row in defaults {
                #expect(try row.string("creator") == fixture.owner)
                byGrantee["\(try row.string("kind")):\(try row.string("grantee"))", default: []].insert(try row.string("privilege"))
            }
            #expect(byGrantee["r:\(fixture.owner)"] == ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"])
            #expect(byGrantee["S:\(fixture.owner)"] == ["USAGE", "SELECT", "UPDATE"])
            #expect(byGrantee["r:\(fixture.readwrite)"] == ["SELECT", "INSERT", "UPDATE", "DELETE"])
            #expect(byGrantee["S:\(fixture.readwrite)"] == ["USAGE", "SELECT"])
            #expect(byGrantee["r:\(fixture.readonly)"] == ["SELECT"])
            #expect(byGrantee["S:\(fixture.readonly)"] == ["SELECT"])
        }

        // The Secret: 0600, and its password logs in over TLS and runs the seed's connectivity test.
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.secretPath(fixture.owner))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        #expect(owner.usesTLS)
        try owner.execute("CREATE TABLE test_ddl (id SERIAL PRIMARY KEY, name VARCHAR(50))")
        try owner.execute("INSERT INTO test_ddl (name) VALUES ('test')")
        #expect(try owner.query("SELECT name FROM test_ddl").first?.string("name") == "test")
        try owner.execute("DROP TABLE test_ddl")
    }

    @Test("a second provision and a plan change nothing, as the server's statement log shows")
    func idempotent() throws {
        let fixture = try ProvisionFixture(prefix: "pv_idem", extensions: ["pgcrypto"])
        defer { fixture.cleanUp() }
        let firstOffset = try TestServer.serverLogOffset()
        _ = try fixture.provisioner().apply()
        // The detector itself sees the first run's writes.
        #expect(Self.writes(in: try TestServer.serverLog(since: firstOffset), of: fixture).count >= 10)
        // A table the owner created, so table grants are compared too.
        let owner = try fixture.connect(as: fixture.owner)
        try owner.execute("CREATE TABLE beers (id serial PRIMARY KEY, name text)")
        owner.close()

        let offset = try TestServer.serverLogOffset()
        let second = try fixture.provisioner().apply()
        #expect(second.applied.isEmpty)
        #expect(!second.plan.hasChanges)
        let (plan, _) = try fixture.provisioner().plan()
        #expect(!plan.hasChanges)
        let log = try TestServer.serverLog(since: offset)
        #expect(log.contains("pg_roles"), "the runs should have read the catalogs")
        #expect(log.contains("@\(fixture.database)"), "the runs should have connected to the database")
        #expect(Self.writes(in: log, of: fixture).isEmpty, "a converged cluster got writes: \(Self.writes(in: log, of: fixture))")
    }

    @Test("drift is found and repaired exactly: a revoked grant, CREATEDB, PUBLIC CONNECT")
    func drift() throws {
        let fixture = try ProvisionFixture(prefix: "pv_drift")
        defer { fixture.cleanUp() }
        _ = try fixture.provisioner().apply()
        let owner = try fixture.connect(as: fixture.owner)
        try owner.execute("CREATE TABLE orders (id int)")
        owner.close()
        try TestServer.withConnection { admin in
            try admin.execute("ALTER ROLE \(try admin.escapeIdentifier(fixture.readonly)) CREATEDB")
            try admin.execute("GRANT CONNECT ON DATABASE \(try admin.escapeIdentifier(fixture.database)) TO PUBLIC")
        }
        try TestServer.withConnection(database: fixture.database) { admin in
            try admin.execute("REVOKE SELECT ON TABLE public.orders FROM \(try admin.escapeIdentifier(fixture.readonly))")
        }

        let (plan, _) = try fixture.provisioner().plan()
        let statements = plan.steps.map(\.sql).sorted()
        let expected = [
            "ALTER ROLE \(try SQLQuoting.identifier(fixture.readonly)) NOCREATEDB",
            "GRANT SELECT ON TABLE \"public\".\"orders\" TO \(try SQLQuoting.identifier(fixture.readonly))",
            "REVOKE CONNECT ON DATABASE \(try SQLQuoting.identifier(fixture.database)) FROM PUBLIC",
        ].sorted()
        #expect(statements == expected)

        let report = try fixture.provisioner().apply()
        #expect(report.applied.count == 3)
        #expect(try !fixture.provisioner().plan().plan.hasChanges)
        let reader = try fixture.connect(as: fixture.readonly)
        defer { reader.close() }
        #expect(try reader.query("SELECT count(*) AS n FROM orders").first?.int("n") == 0)
    }

    @Test("a table the owner creates later is readable by the readonly role without another provision")
    func defaultPrivilegesCoverFutureTables() throws {
        let fixture = try ProvisionFixture(prefix: "pv_future")
        defer { fixture.cleanUp() }
        _ = try fixture.provisioner().apply()
        let owner = try fixture.connect(as: fixture.owner)
        try owner.execute("CREATE TABLE later (id serial PRIMARY KEY, v text); INSERT INTO later (v) VALUES ('a'), ('b')")
        owner.close()

        let reader = try fixture.connect(as: fixture.readonly)
        defer { reader.close() }
        #expect(try reader.query("SELECT count(*) AS n FROM later").first?.int("n") == 2)
        #expect(throws: PostgresError.self) { try reader.execute("INSERT INTO later (v) VALUES ('c')") }

        let writer = try fixture.connect(as: fixture.readwrite)
        defer { writer.close() }
        try writer.execute("INSERT INTO later (v) VALUES ('c')")
        let ddl = try #require(throws: PostgresError.self) { try writer.execute("CREATE TABLE nope (id int)") }
        #expect(ddl.code == .insufficientPrivilege)

        let results = Checker(config: try fixture.config(), logger: Logger(label: "test")).run()
        #expect(!results.hasFailures, "\(results.render())")
        #expect(results.contains { $0.role == fixture.readonly && $0.expectation.contains("exactly SELECT on the 1 tables") && $0.outcome == .pass })
    }

    @Test("names that need quoting work end to end")
    func awkwardNames() throws {
        let fixture = try ProvisionFixture(prefix: "pv_quote", database: "Beer \"Stage\" DB \(UInt16.random(in: 0...9999))",
                                           owner: "Beer Admin \(UInt16.random(in: 0...9999))",
                                           readwrite: "app\"rw\(UInt16.random(in: 0...9999))",
                                           readonly: "RO bière \(UInt16.random(in: 0...9999))")
        defer { fixture.cleanUp() }
        _ = try fixture.provisioner().apply()
        #expect(try !fixture.provisioner().plan().plan.hasChanges)
        let results = Checker(config: try fixture.config(), logger: Logger(label: "test")).run()
        #expect(!results.hasFailures, "\(results.render())")
        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        #expect(try owner.query("SELECT current_database() AS d").first?.string("d") == fixture.database)
    }

    @Test("plaintext passwords never reach the server log")
    func noPlaintextInLog() throws {
        let fixture = try ProvisionFixture(prefix: "pv_log")
        defer { fixture.cleanUp() }
        let offset = try TestServer.serverLogOffset()
        _ = try fixture.provisioner().apply()
        let log = try TestServer.serverLog(since: offset)
        #expect(log.contains("CREATE DATABASE"), "the statement log should show the run")
        for role in [fixture.owner, fixture.readwrite, fixture.readonly] {
            let password = try fixture.password(of: role)
            #expect(password.count >= 43)
            #expect(!log.contains(password))
        }
    }

    @Test("a locale the server lacks is a clear error and creates nothing")
    func missingLocale() throws {
        let fixture = try ProvisionFixture(prefix: "pv_locale", locale: "xx_YY.UTF-8")
        defer { fixture.cleanUp() }
        let error = try #require(throws: ProvisionError.self) { try fixture.provisioner().apply() }
        #expect(error.description.contains("xx_YY.UTF-8"))
        #expect(error.description.contains("C.UTF-8"))
        #expect(error.description.contains("install"))
        try TestServer.withConnection { admin in
            let found = try admin.query("SELECT (SELECT count(*) FROM pg_database WHERE datname = $1) + (SELECT count(*) FROM pg_roles WHERE rolname = ANY($2::text[])) AS n",
                                        [fixture.database, "{\(fixture.owner),\(fixture.readwrite),\(fixture.readonly)}"]).first?.int("n")
            #expect(found == 0)
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.secretPath(fixture.owner)))
    }

    @Test("an extension the server does not have is reported clearly and nothing is created")
    func unavailableExtension() throws {
        let fixture = try ProvisionFixture(prefix: "pv_ext", extensions: ["uuid-ossp", "no_such_extension"])
        defer { fixture.cleanUp() }
        let (plan, _) = try fixture.provisioner().plan()
        #expect(plan.problems.count == 1)
        #expect(plan.problems.first?.contains("extension no_such_extension is not available") == true)
        #expect(plan.steps.contains { $0.sql == "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"" })
        #expect(throws: ProvisionError.self) { try fixture.provisioner().apply() }
        let roles = try TestServer.withConnection { admin in
            try admin.query("SELECT count(*) AS n FROM pg_roles WHERE rolname = $1", [fixture.owner]).first?.int("n")
        }
        #expect(roles == 0)
    }

    @Test("locale spellings en_US.UTF-8 and en_US.utf8 are the same: no drift")
    func localeSpelling() throws {
        let fixture = try ProvisionFixture(prefix: "pv_spell", locale: "en_US.utf8")
        defer { fixture.cleanUp() }
        _ = try fixture.provisioner().apply()
        var config = try fixture.config()
        config.database.locale = "en_US.UTF-8"
        let (plan, _) = try Provisioner(config: config, adminDSN: nil, logger: Logger(label: "t")).plan()
        #expect(plan.problems.isEmpty)
        #expect(!plan.hasChanges)
    }
}

@Suite("provision through the pgcellar binary")
struct ProvisionCommandTests {
    @Test("plan --detailed-exitcode says 2 before and 0 after; a non-superuser CREATEDB CREATEROLE admin suffices")
    func nonSuperuserAdmin() throws {
        let adminRole = try TestLoginRole(prefix: "pv_cnpg_admin", attributes: "CREATEDB CREATEROLE")
        let (adminName, adminPassword) = (adminRole.name, adminRole.password)
        let fixture = try ProvisionFixture(prefix: "pv_cnpg", extensions: ["pgcrypto"], clusterUser: adminName)
        defer {
            fixture.cleanUp()
            adminRole.drop()
        }
        // The admin's password reaches pgcellar the way it would in production: a pgpass file.
        let environment = ["PGPASSFILE": try adminRole.pgpassFile(in: fixture.directory)]

        let before = try Pgcellar.run(["plan", "-c", fixture.configPath, "--detailed-exitcode"], environment: environment)
        #expect(before.status == 2, "\(before.stderr)")
        #expect(before.stdout.contains("GRANT \(try SQLQuoting.identifier(fixture.owner)) TO \(try SQLQuoting.identifier(adminName))"))

        let apply = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment)
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(apply.stdout.contains("Applied"))
        #expect(!apply.stdout.contains(adminPassword) && !apply.stderr.contains(adminPassword))

        let after = try Pgcellar.run(["plan", "-c", fixture.configPath, "--detailed-exitcode"], environment: environment)
        #expect(after.status == 0, "\(after.stdout)\n\(after.stderr)")
        #expect(after.stdout.contains("No changes"))

        let again = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment)
        #expect(again.status == 0)
        #expect(again.stdout.contains("No changes"))

        let check = try Pgcellar.run(["check", "-c", fixture.configPath], environment: environment)
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
        #expect(check.stdout.contains("0 not met"))

        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        #expect(try owner.query("SELECT count(*) AS n FROM pg_extension WHERE extname = 'pgcrypto'").first?.int("n") == 1)
    }

    @Test("a run that fails half-way is converged by the next one")
    func partialFailureConverges() throws {
        let adminRole = try TestLoginRole(prefix: "pv_half_admin", attributes: "CREATEDB CREATEROLE")
        let fixture = try ProvisionFixture(prefix: "pv_half", clusterUser: adminRole.name)
        defer {
            fixture.cleanUp()
            adminRole.drop()
        }
        let environment = ["PGPASSFILE": try adminRole.pgpassFile(in: fixture.directory)]
        #expect(try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment).status == 0)

        // A table the admin may not grant on (the superuser owns it): the next
        // run gets past roles and the database, then fails inside it.
        try TestServer.withConnection(database: fixture.database) { superuser in
            try superuser.execute("CREATE TABLE public.legacy (id int)")
        }
        try TestServer.withConnection { superuser in
            try superuser.execute("ALTER ROLE \(try superuser.escapeIdentifier(fixture.readonly)) CREATEDB")
        }
        let failed = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("provision stopped at: grant"), "\(failed.stderr)")
        #expect(failed.stderr.contains("legacy"), "the error should name the object: \(failed.stderr)")
        #expect(failed.stderr.contains("run provision again"))
        // The roles phase committed before the failure; the database phase never ran halfway.
        let createdb = try TestServer.withConnection { superuser in
            try superuser.query("SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", [fixture.readonly]).first?.bool("rolcreatedb")
        }
        #expect(createdb == false)

        // Once the obstacle is gone, the next run converges and the one after changes nothing.
        try TestServer.withConnection(database: fixture.database) { superuser in
            try superuser.execute("ALTER TABLE public.legacy OWNER TO \(try superuser.escapeIdentifier(fixture.owner))")
        }
        let again = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        let after = try Pgcellar.run(["plan", "-c", fixture.configPath, "--detailed-exitcode"], environment: environment)
        #expect(after.status == 0, "\(after.stdout)")
        let reader = try fixture.connect(as: fixture.readonly)
        defer { reader.close() }
        #expect(try reader.query("SELECT count(*) AS n FROM public.legacy").first?.int("n") == 0)
    }

    @Test("a bad configuration is refused before connecting, naming the file and key")
    func badConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-badcfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bad.yaml"
        try """
            cluster: {host: 127.0.0.1, port: 1, user: postgres}
            database: {name: x, owner: nobody, colour: blue}
            roles: []
            """.write(toFile: path, atomically: false, encoding: .utf8)
        let result = try Pgcellar.run(["plan", "-c", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.yaml"))
        #expect(result.stderr.contains("database.colour"))
        #expect(!result.stderr.contains("cannot connect"))
    }

    @Test("a password inside --admin-dsn is refused as a usage error")
    func passwordInArgv() throws {
        let result = try Pgcellar.run(["plan", "-c", "/nonexistent.yaml", "--admin-dsn", "postgresql://u:hunter2@127.0.0.1/db"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("never accepted on the command line"))
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test("a wrong admin password and an admin without CREATEDB are clear errors that change nothing")
    func adminProblems() throws {
        let adminRole = try TestLoginRole(prefix: "pv_weak_admin", attributes: "CREATEROLE")
        let (adminName, adminPassword) = (adminRole.name, adminRole.password)
        let fixture = try ProvisionFixture(prefix: "pv_weak", clusterUser: adminName)
        defer {
            fixture.cleanUp()
            adminRole.drop()
        }
        let wrongPgpass = try adminRole.pgpassFile(in: fixture.directory, password: "wrong-\(adminPassword)")
        let wrong = try Pgcellar.run(["provision", "-c", fixture.configPath], environment: ["PGPASSFILE": wrongPgpass])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("cannot connect to \(TestServer.host):\(TestServer.port) as \(adminName)"))
        #expect(wrong.stderr.contains("password authentication failed"))
        #expect(!wrong.stderr.contains(adminPassword))

        let weak = try Pgcellar.run(["provision", "-c", fixture.configPath],
                                    environment: ["PGPASSFILE": try adminRole.pgpassFile(in: fixture.directory)])
        #expect(weak.status == 1)
        #expect(weak.stderr.contains("lacks CREATEDB"))
        #expect(weak.stderr.contains("ALTER ROLE \(adminName) CREATEDB"))
        let created = try TestServer.withConnection { admin in
            try admin.query("SELECT count(*) AS n FROM pg_roles WHERE rolname = $1", [fixture.owner]).first?.int("n")
        }
        #expect(created == 0, "nothing may be created when the plan has problems")
        #expect(!FileManager.default.fileExists(atPath: fixture.secretPath(fixture.owner)))
    }

    @Test("an unreachable server is a clear error")
    func unreachable() throws {
        let fixture = try ProvisionFixture(prefix: "pv_unreach")
        defer { fixture.cleanUp() }
        let result = try Pgcellar.run(["plan", "-c", fixture.configPath, "--admin-dsn", "host=127.0.0.1 port=1 user=postgres sslmode=require"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot connect to 127.0.0.1:1 as postgres"))
    }
}
