import CellarSupport
import Foundation
import Logging
import PostgresClient
import Testing

@Suite("libpq client against the TLS/SCRAM test cluster")
struct PostgresClientIntegrationTests {
    @Test("connects over sslmode=require with a password and reports the server")
    func connectsOverTLS() throws {
        try TestServer.withConnection { connection in
            #expect(connection.usesTLS)
            #expect(connection.serverVersionNumber >= 150000)
            #expect(connection.serverVersion.hasPrefix("15") || connection.serverVersionNumber >= 160000)
            let row = try #require(try connection.query(
                "SELECT ssl, current_setting('password_encryption') AS enc FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first)
            #expect(try row.bool("ssl"))
            #expect(try row.string("enc") == "scram-sha-256")
        }
    }

    @Test("a syntax error carries SQLSTATE 42601 and a position")
    func syntaxError() throws {
        try TestServer.withConnection { connection in
            let error = try #require(throws: PostgresError.self) {
                try connection.execute("SELECT 1 FROM WHERE")
            }
            #expect(error.code == .syntaxError)
            #expect(error.position == 15)
            #expect(error.severity == "ERROR")
            #expect(error.statement == "SELECT 1 FROM WHERE")
            #expect(error.description.contains("42601"))
            // The connection stays usable after an error.
            #expect(try connection.query("SELECT 1 AS one").first?.int("one") == 1)
        }
    }

    @Test("bound parameters travel separately, NULL included")
    func boundParameters() throws {
        try TestServer.withConnection { connection in
            let row = try #require(try connection.query(
                "SELECT $1::text AS a, $2::text IS NULL AS b, length($3::text) AS c",
                ["it's; DROP TABLE x; --", nil, "bière"]).first)
            #expect(try row.string("a") == "it's; DROP TABLE x; --")
            #expect(try row.bool("b"))
            #expect(try row.int("c") == 5)
        }
    }

    @Test("server errors name the constraint and table")
    func constraintFields() throws {
        try TestServer.withScratchDatabase("pgc_err") { database in
            try TestServer.withConnection(database: database) { connection in
                try connection.execute("CREATE TABLE t (id int CONSTRAINT t_pk PRIMARY KEY); INSERT INTO t VALUES (1)")
                let error = try #require(throws: PostgresError.self) {
                    try connection.execute("INSERT INTO t VALUES ($1)", ["1"])
                }
                #expect(error.code == .uniqueViolation)
                #expect(error.constraintName == "t_pk")
                #expect(error.tableName == "t")
                #expect(error.schemaName == "public")
                #expect(error.detail?.contains("already exists") == true)
            }
        }
    }

    @Test("a wrong password is a clear authentication error that does not echo it")
    func wrongPassword() throws {
        let wrong = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = try #require(throws: ConnectionError.self) {
            _ = try ConnectionTarget(TestServer.conninfo(user: "postgres")).overriding("password", wrong).connect()
        }
        #expect(error.isAuthenticationFailure)
        #expect(error.description.contains("cannot connect to \(TestServer.host):\(TestServer.port) as postgres"))
        #expect(error.description.contains("password authentication failed"))
        #expect(!error.description.contains(wrong))
    }

    @Test("a plain-text connection is refused by the production-like pg_hba")
    func plaintextRefused() throws {
        let dsn = try TestServer.dsn()
        #expect(throws: ConnectionError.self) {
            _ = try ConnectionTarget(dsn).overriding("sslmode", "disable").connect()
        }
    }

    @Test("notices reach the logger")
    func noticesAreLogged() throws {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "notices") { _ in handler }
        try TestServer.withConnection(logger: logger) { connection in
            try connection.execute("DO $$ BEGIN RAISE WARNING 'cellar warning %', 42; END $$")
        }
        #expect(handler.messages.contains { $0.0 == .warning && $0.1.contains("cellar warning 42") })
    }

    @Test("a client-side SCRAM verifier is accepted by ALTER ROLE, logs in, and the plaintext never reaches the server log")
    func scramVerifier() throws {
        let role = TestServer.uniqueName("pgc_scram")
        let password = try SecureRandom.password()
        let logOffset = try TestServer.serverLogOffset()
        try TestServer.withConnection { admin in
            let verifier = try admin.encryptPassword(password, user: role)
            #expect(verifier.hasPrefix("SCRAM-SHA-256$4096:"))
            #expect(!verifier.contains(password))
            try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(role)) LOGIN PASSWORD \(try admin.escapeLiteral(verifier))",
                              redacted: true)
        }
        defer { _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(role))") } }
        let stored = try TestServer.withConnection { admin in
            try admin.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]).first?.string("rolpassword")
        }
        #expect(stored?.hasPrefix("SCRAM-SHA-256$") == true)

        let login = try ConnectionTarget(TestServer.conninfo(user: role)).overriding("password", password).connect()
        #expect(login.usesTLS)
        #expect(try login.query("SELECT current_user AS u").first?.string("u") == role)
        login.close()

        let log = try TestServer.serverLog(since: logOffset)
        #expect(log.contains(role), "the statement log should show the CREATE ROLE")
        #expect(!log.contains(password))
    }
}
