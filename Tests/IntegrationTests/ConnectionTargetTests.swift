import Cellar
import Foundation
import Logging
import PostgresClient
import Testing

/// What every pgcellar connection does, seen from outside: TLS unless an
/// sslmode is named, one warning when TLS does not verify the server, and
/// `-d NAME` as pg_dump takes it.
@Suite("connection targets: TLS by default, pg_dump-style names")
struct ConnectionTargetIntegrationTests {
    static let refusal = "the server does not offer TLS; pgcellar requires it by default: add sslmode=disable (or prefer) to the DSN or set PGSSLMODE to connect without TLS knowingly"
    static let identityWarning = "does not verify the server's identity"

    /// Runs pgcellar as a user would who has none of the shared test
    /// cluster's `PG*` variables (above all its `PGSSLMODE=require`), plus `environment`.
    static func pgcellar(_ arguments: [String], environment: [String: String] = [:]) throws -> Pgcellar.Output {
        let unset = ProcessInfo.processInfo.environment.keys
            .filter { $0.hasPrefix("PG") && !$0.hasPrefix("PGCELLAR_") && environment[$0] == nil }
            .sorted()
        return try Subprocess.run("/usr/bin/env", unset.flatMap { ["-u", $0] } + [try Pgcellar.binary()] + arguments,
                                  environment: environment)
    }

    static func scratchDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-conn-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a server without TLS is refused unless an sslmode is named; the message says how to allow it knowingly")
    func plaintextServerRefused() throws {
        let server = try ThrowawayServer(tls: false)
        defer { server.stop() }
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let archive = directory + "/postgres.sql.zst"

        // export --dbname: refused, nothing written.
        let export = try Self.pgcellar(["export", "-d", server.conninfo(), "-o", archive])
        #expect(export.status == 1)
        #expect(export.stderr.contains(Self.refusal), "\(export.stderr)")
        #expect(export.stderr.contains("cannot connect to 127.0.0.1:\(server.port) as postgres"))
        #expect(!FileManager.default.fileExists(atPath: archive))

        // Named in the DSN: the user knows, so it connects without TLS.
        let knowingly = try Self.pgcellar(["export", "-d", server.conninfo() + " sslmode=disable", "-o", archive])
        #expect(knowingly.status == 0, "\(knowingly.stderr)")

        // restore --dbname, its --create maintenance connection first.
        let restore = try Self.pgcellar(["restore", archive, "--create", "--dbname", server.conninfo(database: "copy")])
        #expect(restore.status == 1)
        #expect(restore.stderr.contains(Self.refusal), "\(restore.stderr)")
        // PGSSLMODE names it too; a URI's ?sslmode= as well.
        let viaEnvironment = try Self.pgcellar(["restore", archive, "--create", "--dbname", server.conninfo(database: "copy")],
                                               environment: ["PGSSLMODE": "prefer"])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        let viaURI = try Self.pgcellar(["export", "-d", "postgresql://postgres@127.0.0.1:\(server.port)/copy?sslmode=disable",
                                        "-o", directory + "/copy.sql.zst"])
        #expect(viaURI.status == 0, "\(viaURI.stderr)")

        // --admin-dsn: plan, and destroy's admin connection.
        let configPath = directory + "/config.yaml"
        try """
            cluster: {host: 127.0.0.1, port: \(server.port), user: postgres}
            database: {name: copy, owner: copy_owner}
            roles:
              - {name: copy_owner, profile: owner, secret: {name: s, namespace: t, file: owner.secret.yaml}}

            """.write(toFile: configPath, atomically: false, encoding: .utf8)
        for arguments in [["plan", "-c", configPath], ["destroy", "-c", configPath, "--export-to", directory + "/gone.sql.zst"]] {
            let refused = try Self.pgcellar(arguments + ["--admin-dsn", server.conninfo()])
            #expect(refused.status == 1, "\(arguments[0])")
            #expect(refused.stderr.contains(Self.refusal), "\(arguments[0]): \(refused.stderr)")
        }
        // The configuration's cluster section says require unless it says otherwise.
        let fromConfig = try Self.pgcellar(["plan", "-c", configPath])
        #expect(fromConfig.status == 1)
        #expect(fromConfig.stderr.contains("which cluster.sslmode=require in \(configPath) demands (require is its default)"), "\(fromConfig.stderr)")
        let planned = try Self.pgcellar(["plan", "-c", configPath, "--admin-dsn", server.conninfo() + " sslmode=prefer"])
        #expect(planned.status == 0, "\(planned.stderr)")

        // An sslmode named explicitly keeps libpq's plain message, without
        // "by default" advice: the user asked for TLS.
        let explicit = try #require(throws: ConnectionError.self) {
            _ = try ConnectionTarget.pgcellar(server.conninfo() + " sslmode=require").connect()
        }
        #expect(explicit.kind == .tlsNotOffered)
        #expect(!explicit.description.contains("by default"))
    }

    @Test("a Unix socket needs no TLS: libpq ignores sslmode there, and no warning")
    func unixSocket() throws {
        let server = try ThrowawayServer(tls: false)
        defer { server.stop() }
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = try Self.pgcellar(["export", "-d", "host=\(server.socketDirectory) port=\(server.port) user=postgres dbname=postgres",
                                        "-o", directory + "/x.sql.zst"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(!output.stderr.contains(Self.identityWarning))
    }

    @Test("a service entry that names sslmode is obeyed; one that does not (or says prefer) still requires TLS")
    func serviceFiles() throws {
        let server = try ThrowawayServer(tls: false)
        defer { server.stop() }
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let entry = "host=127.0.0.1\nport=\(server.port)\nuser=postgres\ndbname=postgres\n"
        let serviceFile = directory + "/pg_service.conf"
        try "[plain]\n\(entry)sslmode=disable\n[unsaid]\n\(entry)[preferred]\n\(entry)sslmode=prefer\n"
            .write(toFile: serviceFile, atomically: false, encoding: .utf8)
        let environment = ["PGSERVICEFILE": serviceFile]

        let named = try Self.pgcellar(["export", "-d", "service=plain", "-o", directory + "/a.sql.zst"], environment: environment)
        #expect(named.status == 0, "\(named.stderr)")
        var viaPGSERVICE = environment
        viaPGSERVICE["PGSERVICE"] = "plain"
        let fromEnvironment = try Self.pgcellar(["export", "-o", directory + "/b.sql.zst"], environment: viaPGSERVICE)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")

        let unsaid = try Self.pgcellar(["export", "-d", "service=unsaid", "-o", directory + "/c.sql.zst"], environment: environment)
        #expect(unsaid.status == 1)
        #expect(unsaid.stderr.contains(Self.refusal), "\(unsaid.stderr)")
        // libpq's own default is prefer too: the entry cannot be told from
        // saying nothing, so TLS stays required (documented in ConnectionTarget).
        let preferred = try Self.pgcellar(["export", "-d", "service=preferred", "-o", directory + "/d.sql.zst"], environment: environment)
        #expect(preferred.status == 1)
        #expect(preferred.stderr.contains(Self.refusal), "\(preferred.stderr)")
    }

    @Test("TLS that does not verify a server off this machine warns once per run, however many connections",
          .enabled(if: NetworkAddress.nonLoopbackIPv4 != nil, "this machine has no non-loopback IPv4 address to serve on"))
    func unverifiedServerWarnsOnce() throws {
        let address = try #require(NetworkAddress.nonLoopbackIPv4)
        let server = try ThrowawayServer(tls: true, addresses: [address])
        defer { server.stop() }
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Tables for three copying connections (a data phase without tables opens none).
        let setup = try ConnectionTarget(server.conninfo()).connect()
        try setup.execute("CREATE TABLE a AS SELECT g FROM generate_series(1, 1000) g; CREATE TABLE b AS SELECT g FROM generate_series(1, 1000) g; CREATE TABLE c (x int)")
        setup.close()
        let environment = ["PGPASSFILE": server.pgpassFile]

        let remote = try Self.pgcellar(["export", "-j", "3", "-d", server.conninfo(host: address), "-o", directory + "/r.sql.zst"],
                                       environment: environment)
        #expect(remote.status == 0, "\(remote.stderr)")
        let warnings = remote.stderr.split(separator: "\n").filter { $0.contains(Self.identityWarning) }
        #expect(warnings.count == 1, "\(remote.stderr)")
        #expect(warnings.first?.contains("sslmode=require") == true)
        #expect(warnings.first?.contains("verify-full") == true && warnings.first?.contains("sslrootcert") == true)

        // Loopback: nobody on a network path to pose as the server.
        let local = try Self.pgcellar(["export", "-j", "3", "-d", server.conninfo(), "-o", directory + "/l.sql.zst"])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(!local.stderr.contains(Self.identityWarning), "\(local.stderr)")

        // Verified: the certificate names the address and the CA is given.
        let verified = try Self.pgcellar(["export", "-d", server.conninfo(host: address) + " sslmode=verify-full sslrootcert=\(server.certificate)",
                                          "-o", directory + "/v.sql.zst"], environment: environment)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(!verified.stderr.contains(Self.identityWarning), "\(verified.stderr)")
    }

    @Test("-d NAME means dbname=NAME with host, port and user from PG*, as pg_dump and pg_restore take it")
    func pgDumpStyleNames() throws {
        try TestServer.withScratchDatabase("pgc_name") { source in
            try TestServer.withConnection(database: source) { connection in
                try connection.execute("CREATE TABLE beer (id int PRIMARY KEY, name text); INSERT INTO beer SELECT g, 'b' || g FROM generate_series(1, 250) g")
            }
            let directory = try Self.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let archive = directory + "/named.sql.zst"
            let exported = try Pgcellar.run(["export", "-d", source, "-o", archive, "--json"])
            #expect(exported.status == 0, "\(exported.stderr)")
            #expect(exported.stdout.contains("\"database\" : \"\(source)\""), "\(exported.stdout)")

            let copy = TestServer.uniqueName("pgc_name_copy")
            defer { _ = try? TestServer.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(try $0.escapeIdentifier(copy)) WITH (FORCE)") } }
            let restored = try Pgcellar.run(["restore", archive, "--create", "-d", copy])
            #expect(restored.status == 0, "\(restored.stderr)")
            let rows = try TestServer.withConnection(database: copy) { try $0.query("SELECT count(*)::int AS n FROM public.beer").first?.int("n") }
            #expect(rows == 250)
        }
    }

    @Test("a DSN with a password is still refused on the command line, whatever its form", arguments: [
        "postgresql://postgres:s3cret-pw@127.0.0.1/postgres", "host=127.0.0.1 password=s3cret-pw dbname=postgres",
    ])
    func passwordsRefused(dsn: String) throws {
        for arguments in [["export", "-d", dsn, "-o", "/nonexistent/x.sql.zst"], ["restore", "x.sql.zst", "-d", dsn],
                          ["plan", "-c", "/nonexistent/config.yaml", "--admin-dsn", dsn]] {
            let output = try Pgcellar.run(arguments)
            #expect(output.status == 64, "\(arguments[0])")
            #expect(output.stderr.contains("contains a password"), "\(arguments[0]): \(output.stderr)")
            #expect(!output.stderr.contains("s3cret-pw"))
        }
    }
}
