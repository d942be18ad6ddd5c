#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// A provisioned database with an owner and an application role, names
/// unique to one test, `rotation.validFor` set; `cleanUp()` drops it all.
struct RotationFixture {
    var directory: String
    var configPath: String
    var database: String
    var owner: String
    var app: String

    /// - Parameter appSSLMode: the app role's `secret.sslmode`; `disable`
    ///   makes its verification fail (the test server requires TLS).
    init(prefix: String, appSSLMode: String? = nil) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        database = "\(prefix)_\(tag)"
        owner = "\(prefix)_admin_\(tag)"
        app = "\(prefix)_app_\(tag)"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-\(prefix)-\(tag)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        configPath = directory + "/config.yaml"
        let appSSL = appSSLMode.map { ", sslmode: \($0)" } ?? ""
        let yaml = """
            cluster:
              host: \(TestServer.host)
              port: \(TestServer.port)
              user: postgres
              sslmode: require
            database:
              name: \(database)
              owner: \(owner)
            roles:
              - name: \(owner)
                profile: owner
                secret: {name: owner-secret, namespace: test, file: deploy/owner.secret.yaml}
              - name: \(app)
                profile: readwrite
                secret: {name: app-secret, namespace: test, file: deploy/app.secret.yaml\(appSSL)}
            rotation:
              validFor: 30d

            """
        try yaml.write(toFile: configPath, atomically: false, encoding: .utf8)
        _ = try Provisioner(config: try config(), adminDSN: nil, logger: Logger(label: "test.provision")).apply()
    }

    func config() throws -> PgcellarConfig { try PgcellarConfig.load(path: configPath) }

    func secretPath(_ role: String) -> String {
        directory + (role == owner ? "/deploy/owner.secret.yaml" : "/deploy/app.secret.yaml")
    }

    func secret(_ role: String) throws -> SecretManifest.Parsed {
        try #require(try SecretManifest.load(path: secretPath(role)), "no Secret for \(role)")
    }

    /// Connects as `role` with `password` over TLS, to the fixture's database.
    func connect(_ role: String, password: String) throws -> Connection {
        try ConnectionTarget(TestServer.conninfo(user: role, database: database)).overriding("password", password).connect()
    }

    /// Whether `password` is refused for `role` as a wrong password.
    func refuses(_ role: String, password: String) -> Bool {
        do {
            let connection = try connect(role, password: password)
            connection.close()
            return false
        } catch let error as ConnectionError {
            return error.isAuthenticationFailure
        } catch {
            return false
        }
    }

    /// Files in the Secret's directory other than the two Secrets: journals,
    /// temporary files left by a killed write.
    func strayFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/deploy")
            .filter { $0 != "owner.secret.yaml" && $0 != "app.secret.yaml" }
    }

    func rotate(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> Pgcellar.Output {
        try Pgcellar.run(["rotate", "-c", configPath] + arguments, environment: environment)
    }

    func cleanUp() {
        _ = try? TestServer.withConnection { admin in
            try admin.execute("DROP DATABASE IF EXISTS \(try admin.escapeIdentifier(database)) WITH (FORCE)")
            for role in [owner, app] {
                try admin.execute("DROP ROLE IF EXISTS \(try admin.escapeIdentifier(role))")
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("rotate on the real cluster")
struct RotationTests {
    @Test("the new password logs in over TLS, the old one is refused, open sessions live on, nothing leaks")
    func rotates() throws {
        let fixture = try RotationFixture(prefix: "rot_basic")
        defer { fixture.cleanUp() }
        let before = try fixture.secret(fixture.owner)
        let openSession = try fixture.connect(fixture.owner, password: before.password)
        defer { openSession.close() }
        let logOffset = try TestServer.serverLogOffset()

        let output = try fixture.rotate(["--role", fixture.owner])
        #expect(output.status == 0, "\(output.stderr)")

        let after = try fixture.secret(fixture.owner)
        #expect(after.password != before.password)
        #expect(after.password.count == 43)
        let login = try fixture.connect(fixture.owner, password: after.password)
        #expect(login.usesTLS)
        login.close()
        #expect(fixture.refuses(fixture.owner, password: before.password))
        #expect(try openSession.query("SELECT current_user AS u").first?.string("u") == fixture.owner)

        // Only the role asked for: the app role's Secret and password stay.
        #expect(try fixture.secret(fixture.app) == (try SecretManifest.load(path: fixture.secretPath(fixture.app))))
        #expect(!fixture.refuses(fixture.app, password: try fixture.secret(fixture.app).password))

        // Neither plaintext in the server's statement log, nor the verifier
        // (the admin is a superuser), nor in what the tool printed.
        let log = try TestServer.serverLog(since: logOffset)
        #expect(log.contains("rotate:\(fixture.owner)"), "the run left no trace in the server log: is log_statement = all?")
        for secret in [before.password, after.password] {
            #expect(!log.contains(secret))
            #expect(!output.stdout.contains(secret))
            #expect(!output.stderr.contains(secret))
        }
        // Other tests, in parallel, may log verifiers of their own roles.
        #expect(!log.split(separator: "\n").contains { $0.contains(fixture.owner) && $0.contains("SCRAM-SHA-256$") })

        // The audit line: who, which role, when, result.
        let audit = try #require(output.stderr.split(separator: "\n").first { $0.contains("audit: rotate") })
        #expect(audit.contains("role=\(fixture.owner)"))
        #expect(audit.contains("result=rotated"))
        #expect(audit.contains("by=postgres@"))
        #expect(audit.contains("at=20"))

        // VALID UNTIL follows rotation.validFor (30d) from the rotation time.
        let rotatedAt = try #require(after.rotatedAt)
        #expect(abs(rotatedAt.timeIntervalSinceNow) < 120)
        let validUntil = try TestServer.withConnection { admin in
            try admin.query("SELECT extract(epoch FROM rolvaliduntil)::float8 AS t FROM pg_roles WHERE rolname = $1",
                            [fixture.owner]).first?.string("t")
        }
        #expect(validUntil.flatMap(Double.init) == rotatedAt.timeIntervalSince1970 + 30 * 86_400)
        #expect(try fixture.strayFiles().isEmpty)
    }

    @Test("the Secret is a valid basic-auth Secret with every key derived anew; its uri connects as written; mode 0600")
    func secretIsComplete() throws {
        let fixture = try RotationFixture(prefix: "rot_secret")
        defer { fixture.cleanUp() }
        let output = try fixture.rotate(["--role", fixture.owner])
        #expect(output.status == 0, "\(output.stderr)")

        let path = fixture.secretPath(fixture.owner)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let parsed = try fixture.secret(fixture.owner)
        #expect(parsed.type == "kubernetes.io/basic-auth")
        #expect(parsed.name == "owner-secret")
        #expect(parsed.namespace == "test")
        #expect(parsed.isManagedByPgcellar)
        #expect(parsed.username == fixture.owner)
        #expect(parsed.dbname == fixture.database)
        #expect(parsed.sslmode == "require")
        // Every derived key (uri, jdbc-uri, pgpass, ...) is what the new
        // password and the configuration make: the file is exactly the render.
        let manifest = try #require(parsed.manifest)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == manifest.render())
        #expect(manifest == (try fixture.config()).secretManifest(
            for: try #require(try fixture.config().role(named: fixture.owner)), password: parsed.password,
            rotatedAt: try #require(parsed.rotatedAt)))

        // The uri, exactly as written, through libpq.
        let connection = try ConnectionTarget(manifest.uri).connect()
        defer { connection.close() }
        #expect(connection.usesTLS)
        #expect(try connection.query("SELECT current_user AS u, current_database() AS d").first.map {
            [try $0.string("u"), try $0.string("d")]
        } == [fixture.owner, fixture.database])
    }

    @Test("--print writes the new Secret to stdout; --json reports each role")
    func printAndJSON() throws {
        let fixture = try RotationFixture(prefix: "rot_print")
        defer { fixture.cleanUp() }
        let printed = try fixture.rotate(["--role", fixture.owner, "--print"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout == (try String(contentsOfFile: fixture.secretPath(fixture.owner), encoding: .utf8)))

        let json = try fixture.rotate(["--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(Set(results.compactMap { $0["role"] as? String }) == [fixture.owner, fixture.app])
        #expect(results.allSatisfy { $0["result"] as? String == "rotated" })
        for role in [fixture.owner, fixture.app] {
            #expect(!json.stdout.contains(try fixture.secret(role).password))
        }
    }

    @Test("--if-older-than leaves a fresh Secret byte-identical and the password unchanged")
    func ifOlderThan() throws {
        let fixture = try RotationFixture(prefix: "rot_fresh")
        defer { fixture.cleanUp() }
        let path = fixture.secretPath(fixture.owner)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let password = try fixture.secret(fixture.owner).password

        let output = try fixture.rotate(["--role", fixture.owner, "--if-older-than", "30d"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("left alone"))
        #expect(output.stderr.contains("result=fresh"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(!fixture.refuses(fixture.owner, password: password))

        // --print still writes the current Secret, so `| kubectl apply -f -`
        // repairs an apply that failed after an earlier rotation.
        let printed = try fixture.rotate(["--role", fixture.owner, "--if-older-than", "30d", "--print"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(Data(printed.stdout.utf8) == bytes)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)

        // A dry run changes nothing either, and says what it would do.
        let dry = try fixture.rotate(["--role", fixture.owner, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would set a new password"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)

        // Older than 0s: due.
        let due = try fixture.rotate(["--role", fixture.owner, "--if-older-than", "0s"])
        #expect(due.status == 0, "\(due.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != bytes)
    }

    @Test("a role whose new password cannot log in gets its old one back; the other role is still rotated; exit 1")
    func failedVerificationRestores() throws {
        // The app's Secret says sslmode=disable, which the server's pg_hba refuses.
        let fixture = try RotationFixture(prefix: "rot_restore", appSSLMode: "disable")
        defer { fixture.cleanUp() }
        let appPath = fixture.secretPath(fixture.app)
        let appBytes = try Data(contentsOf: URL(fileURLWithPath: appPath))
        let appPassword = try fixture.secret(fixture.app).password
        let ownerPassword = try fixture.secret(fixture.owner).password

        let output = try fixture.rotate()
        #expect(output.status == 1)
        #expect(output.stderr.contains("did not log in"))
        #expect(output.stderr.contains("restored the previous password"))
        #expect(output.stderr.contains("role=\(fixture.app) result=failed"))
        #expect(output.stderr.contains("role=\(fixture.owner) result=rotated"))

        #expect(try Data(contentsOf: URL(fileURLWithPath: appPath)) == appBytes)
        #expect(!fixture.refuses(fixture.app, password: appPassword))
        #expect(fixture.refuses(fixture.owner, password: ownerPassword))
        #expect(!fixture.refuses(fixture.owner, password: try fixture.secret(fixture.owner).password))
        #expect(try fixture.strayFiles().isEmpty)
    }

    @Test("a rollback sets the role's previous VALID UNTIL again, to the microsecond, not one recomputed from the configuration")
    func failedVerificationKeepsPreviousExpiry() throws {
        // The app's Secret says sslmode=disable, which the server's pg_hba refuses.
        let fixture = try RotationFixture(prefix: "rot_expiry", appSSLMode: "disable")
        defer { fixture.cleanUp() }
        // Neither rotatedAt + validFor (30d) nor anything pgcellar would compute.
        let previous = "2031-02-03 04:05:06.789012+00"
        func validUntil() throws -> Bool? {
            try TestServer.withConnection { admin in
                try admin.query("SELECT rolvaliduntil = $2::timestamptz AS same FROM pg_roles WHERE rolname = $1",
                                [fixture.app, previous]).first?.bool("same")
            }
        }
        try TestServer.withConnection { admin in
            try admin.execute("ALTER ROLE \(try admin.escapeIdentifier(fixture.app)) VALID UNTIL \(try admin.escapeLiteral(previous))")
        }
        #expect(try validUntil() == true)

        let output = try fixture.rotate(["--role", fixture.app])
        #expect(output.status == 1)
        #expect(output.stderr.contains("restored the previous password"), "\(output.stderr)")
        #expect(output.stderr.contains("VALID UNTIL 2031-02-03T04:05:06.789012Z"), "\(output.stderr)")
        #expect(try validUntil() == true)
        #expect(!fixture.refuses(fixture.app, password: try fixture.secret(fixture.app).password))

        // A role that never expired (NULL) stays unexpiring: 'infinity'.
        try TestServer.withConnection { admin in
            try admin.execute("UPDATE pg_authid SET rolvaliduntil = NULL WHERE rolname = $1", [fixture.app])
        }
        let again = try fixture.rotate(["--role", fixture.app])
        #expect(again.status == 1)
        let after = try TestServer.withConnection { admin in
            try admin.query("SELECT coalesce(rolvaliduntil::text, 'null') AS v FROM pg_roles WHERE rolname = $1", [fixture.app]).first?.string("v")
        }
        #expect(after == "infinity")
        #expect(try fixture.strayFiles().isEmpty)
    }

    @Test("SIGKILL at any step, then rotate again: the Secret's password logs in", arguments: RotationCheckpoint.allCases)
    func killedAndRerun(at checkpoint: RotationCheckpoint) throws {
        let fixture = try RotationFixture(prefix: "rot_kill")
        defer { fixture.cleanUp() }
        let original = try fixture.secret(fixture.owner).password

        try Self.runAndKill(["rotate", "-c", fixture.configPath, "--role", fixture.owner], at: checkpoint)
        #expect(FileManager.default.fileExists(atPath: RotationJournal.path(forSecret: fixture.secretPath(fixture.owner))),
                "the killed run left no journal")

        let rerun = try fixture.rotate(["--role", fixture.owner])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("finished the interrupted rotation"), "\(rerun.stdout)")
        #expect(rerun.stderr.contains("result=completed-pending"))

        let secret = try fixture.secret(fixture.owner)
        #expect(secret.password != original)
        #expect(!fixture.refuses(fixture.owner, password: secret.password))
        #expect(fixture.refuses(fixture.owner, password: original))
        let stray = try fixture.strayFiles()
        #expect(stray.isEmpty, "left behind: \(stray)")
        #expect(!rerun.stdout.contains(secret.password) && !rerun.stderr.contains(secret.password))

        // And the next ordinary rotation works from there.
        let next = try fixture.rotate(["--role", fixture.owner])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(!fixture.refuses(fixture.owner, password: try fixture.secret(fixture.owner).password))
    }

    @Test("a journal is finished even when the Secret it replaces was damaged; a foreign Secret is never overwritten")
    func journalOverDamagedSecret() throws {
        let fixture = try RotationFixture(prefix: "rot_damaged")
        defer { fixture.cleanUp() }
        let path = fixture.secretPath(fixture.owner)
        try Self.runAndKill(["rotate", "-c", fixture.configPath, "--role", fixture.owner], at: .afterAlter)
        try "not: [a secret".write(toFile: path, atomically: false, encoding: .utf8)

        let rerun = try fixture.rotate(["--role", fixture.owner])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("result=completed-pending"))
        #expect(!fixture.refuses(fixture.owner, password: try fixture.secret(fixture.owner).password))

        // The app's Secret copied over the owner's: rotate refuses to touch either.
        try Self.runAndKill(["rotate", "-c", fixture.configPath, "--role", fixture.owner], at: .afterAlter)
        let appBytes = try Data(contentsOf: URL(fileURLWithPath: fixture.secretPath(fixture.app)))
        try appBytes.write(to: URL(fileURLWithPath: path))
        let refused = try fixture.rotate(["--role", fixture.owner])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("holds the credentials of"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == appBytes)
        #expect(FileManager.default.fileExists(atPath: RotationJournal.path(forSecret: path)))
    }

    @Test("the verifier reaches neither the duration log nor pg_stat_statements when the server records every statement's text")
    func verifierOutOfDurationLogAndStatementStatistics() throws {
        let fixture = try RotationFixture(prefix: "rot_durlog")
        defer { fixture.cleanUp() }
        // What a cluster tuned for slow-query hunting runs with: the text of
        // every statement in the duration log, utility statements tracked,
        // here for the admin role's sessions (the rotated role's own login
        // may not set them).
        try TestServer.withConnection { admin in
            try admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            _ = try admin.query("SELECT pg_stat_statements_reset()")
            try admin.execute("ALTER ROLE CURRENT_USER SET log_min_duration_statement = 0")
            try admin.execute("ALTER ROLE CURRENT_USER SET pg_stat_statements.track_utility = on")
        }
        defer {
            _ = try? TestServer.withConnection { admin in
                try admin.execute("ALTER ROLE CURRENT_USER RESET log_min_duration_statement")
                try admin.execute("ALTER ROLE CURRENT_USER RESET pg_stat_statements.track_utility")
            }
        }
        let logOffset = try TestServer.serverLogOffset()
        let output = try fixture.rotate(["--role", fixture.owner])
        #expect(output.status == 0, "\(output.stderr)")
        let log = try TestServer.serverLog(since: logOffset)
        #expect(log.contains("duration:"), "the duration log was not on: the test proves nothing")
        #expect(!log.split(separator: "\n").contains { $0.contains(fixture.owner) && $0.contains("SCRAM-SHA-256$") },
                "a verifier of \(fixture.owner) is in the server log")
        let recorded = try TestServer.withConnection { admin in
            try admin.query("SELECT count(*) AS n FROM pg_stat_statements WHERE query LIKE '%SCRAM-SHA-256$%' AND query LIKE $1",
                            ["%\(fixture.owner)%"]).first?.string("n")
        }
        #expect(recorded == "0", "pg_stat_statements holds the verifier of \(fixture.owner)")
    }

    @Test("a CREATEROLE admin that is not a superuser can rotate; the plaintext still stays out of the log")
    func nonSuperuserAdmin() throws {
        let fixture = try RotationFixture(prefix: "rot_cnpg")
        let adminRole = try TestLoginRole(prefix: "rot_cnpg_admin", attributes: "CREATEDB CREATEROLE")
        let (adminName, adminPassword) = (adminRole.name, adminRole.password)
        defer {
            fixture.cleanUp()
            adminRole.drop()
        }
        let pgpass = try adminRole.pgpassFile(in: fixture.directory)
        let before = try fixture.secret(fixture.app).password
        let logOffset = try TestServer.serverLogOffset()

        let output = try fixture.rotate(
            ["--role", fixture.app, "--admin-dsn", "host=\(TestServer.host) port=\(TestServer.port) user=\(adminName) dbname=postgres sslmode=require"],
            environment: ["PGPASSFILE": pgpass])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("by=\(adminName)@"))
        let after = try fixture.secret(fixture.app).password
        #expect(!fixture.refuses(fixture.app, password: after))
        #expect(fixture.refuses(fixture.app, password: before))
        let log = try TestServer.serverLog(since: logOffset)
        #expect(!log.contains(after) && !log.contains(before) && !log.contains(adminPassword))
    }

    @Test("a second run waits for the role's lock, held until the first run's session ends, then finishes its journal")
    func concurrentRunWaits() throws {
        let fixture = try RotationFixture(prefix: "rot_lock")
        defer { fixture.cleanUp() }
        let original = try fixture.secret(fixture.owner).password
        let arguments = ["rotate", "-c", fixture.configPath, "--role", fixture.owner]

        // The first run stops with its ALTER ROLE uncommitted and the lock held.
        let first = try Self.start(arguments, pauseAt: .beforeCommit)
        defer { if first.process.isRunning { kill(first.process.processIdentifier, SIGKILL) } }
        #expect(first.waitForStderr(RotationPauseHook.marker + RotationCheckpoint.beforeCommit.rawValue))

        let second = try Self.start(arguments, pauseAt: nil)
        #expect(second.waitForStderr("waiting for another pgcellar run"))
        usleep(500_000)
        #expect(second.process.isRunning, "the second run did not wait for the lock")

        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 0, "\(second.stderr)")
        #expect(second.stderr.contains("result=completed-pending"), "\(second.stderr)")
        let secret = try fixture.secret(fixture.owner)
        #expect(!fixture.refuses(fixture.owner, password: secret.password))
        #expect(fixture.refuses(fixture.owner, password: original))
    }

    /// A pgcellar process whose stderr goes to a file the test can poll.
    final class Running {
        let process = Process()
        let errPath: String
        private let handle: FileHandle

        init(arguments: [String], environment: [String: String]) throws {
            process.executableURL = URL(fileURLWithPath: try Pgcellar.binary())
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            errPath = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-kill-\(UUID().uuidString)").path
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            process.standardError = handle
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? handle.close()
            try? FileManager.default.removeItem(atPath: errPath)
        }

        var stderr: String {
            String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
        }

        /// Polls stderr until it contains `text`, the process ends or two minutes pass.
        func waitForStderr(_ text: String) -> Bool {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if stderr.contains(text) { return true }
                if !process.isRunning { return stderr.contains(text) }
                usleep(20_000)
            }
            return false
        }
    }

    static func start(_ arguments: [String], pauseAt checkpoint: RotationCheckpoint?) throws -> Running {
        try Running(arguments: arguments,
                    environment: checkpoint.map { [RotationPauseHook.environmentVariable: $0.rawValue] } ?? [:])
    }

    /// Starts pgcellar with `PGCELLAR_TEST_PAUSE_AT`, waits for its marker on
    /// stderr, and SIGKILLs it there.
    static func runAndKill(_ arguments: [String], at checkpoint: RotationCheckpoint) throws {
        let running = try start(arguments, pauseAt: checkpoint)
        let paused = running.waitForStderr(RotationPauseHook.marker + checkpoint.rawValue)
        if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
        running.process.waitUntilExit()
        #expect(paused, "pgcellar never reached \(checkpoint.rawValue): \(running.stderr)")
        #expect(running.process.terminationReason == .uncaughtSignal)
    }
}
