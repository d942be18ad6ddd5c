import Foundation
import Logging
@testable import PostgresClient
import Testing

@Suite("ConnectionTarget without a server")
struct ConnectionTargetTests {
    // MARK: - What a value names

    @Test("a value with no = that is not a URI is a database name, as pg_dump's -d takes it", arguments: [
        ("shop", "shop"), ("my db", "my db"), ("it's\\here", "it's\\here"), ("beer-ü", "beer-ü"),
    ])
    func bareNames(name: String, database: String) throws {
        let target = ConnectionTarget(name)
        #expect(target.database == database)
        #expect(try target.parsed().options == ["dbname": database])
        #expect(!target.hasPassword)
    }

    @Test("conninfo strings and URIs are kept as written")
    func connectionStrings() throws {
        for text in ["host=db dbname=shop", "postgresql://db/shop", "postgres://db/shop", "dbname=shop"] {
            #expect(ConnectionTarget(text).conninfo == text)
            #expect(ConnectionTarget(text).database == "shop")
        }
        #expect(ConnectionTarget("").conninfo == "")
        #expect(ConnectionTarget("").database == nil)
        #expect(ConnectionTarget.isConnectionString("a=b"))
        #expect(!ConnectionTarget.isConnectionString("postgresql:/db"))
    }

    @Test("overrides win over the connection string; a keyword overridden twice keeps the last value, once")
    func overrides() {
        let target = ConnectionTarget("host=db dbname=shop").with(database: "postgres").overriding("port", "6432").with(database: "other")
        #expect(target.database == "other")
        #expect(target.value(of: "host") == "db")
        #expect(target.overrides == [.init("port", "6432"), .init("dbname", "other")])
        let literal = ConnectionTarget().overriding(["host": "h", "user": "u"])
        #expect(literal.overrides == [.init("host", "h"), .init("user", "u")])
    }

    @Test("no description shows a password: connection string, URI or override")
    func descriptionsRedact() {
        let targets = [
            ConnectionTarget("host=db password=hunter2-x dbname=shop"),
            ConnectionTarget("postgresql://app:hunter2-x@db/shop"),
            ConnectionTarget("host=db sslpassword=hunter2-x"),
            ConnectionTarget("dbname=shop").overriding("password", "hunter2-x"),
            ConnectionTarget("host=db password='unterminated hunter2-x"),
        ]
        for target in targets {
            var dumped = ""
            dump(target, to: &dumped)
            for text in [target.description, target.debugDescription, "\(target)", String(reflecting: target), dumped] {
                #expect(!text.contains("hunter2-x"), "\(text)")
            }
        }
        #expect(targets[0].description == "dbname=shop host=db password=<redacted>")
        #expect(targets[3].description == "dbname=shop password=<redacted>")
        #expect(targets[4].description == "<malformed connection string>")
        #expect(targets[0].hasPassword && targets[1].hasPassword && targets[3].hasPassword)
        #expect(ConnectionTarget().description == "libpq defaults")
    }

    // MARK: - sslmode

    @Test("sslmode: an override, then the connection string (keyword or URI), then PGSSLMODE, else require")
    func sslModeChoice() {
        let none: [String: String] = [:]
        #expect(ConnectionTarget("host=db").sslModeChoice(environment: none) == .init(mode: "require", source: .targetDefault))
        #expect(ConnectionTarget("shop").sslModeChoice(environment: none).isTargetDefault)
        #expect(ConnectionTarget("host=db sslmode=disable").sslModeChoice(environment: none) == .init(mode: "disable", source: .connectionString))
        #expect(ConnectionTarget("postgresql://db/shop?sslmode=prefer").sslModeChoice(environment: none) == .init(mode: "prefer", source: .connectionString))
        #expect(ConnectionTarget("host=db sslmode=disable").overriding("sslmode", "verify-full").sslModeChoice(environment: none)
                    == .init(mode: "verify-full", source: .override))
        #expect(ConnectionTarget("host=db").sslModeChoice(environment: ["PGSSLMODE": "allow"]) == .init(mode: "allow", source: .environment))
        // An empty PGSSLMODE names nothing (libpq would call it invalid).
        #expect(ConnectionTarget("host=db").sslModeChoice(environment: ["PGSSLMODE": ""]).isTargetDefault)
        var libpqs = ConnectionTarget("host=db")
        libpqs.defaultSSLMode = nil
        #expect(libpqs.sslModeChoice(environment: none) == .init(mode: "prefer", source: .libpqDefault))
        #expect(ConnectionTarget.libpqDefaultSSLMode == "prefer")
    }

    @Test("options resolve as libpq would connect, without connecting")
    func resolvedWithoutConnecting() throws {
        let started = Date()
        let resolved = try #require(ConnectionTarget("host=db.invalid port=6543 dbname=shop sslmode=verify-ca").overriding("user", "u")
            .overriding("password", "hunter2-x").resolvedByLibpq())
        #expect(resolved["host"] == "db.invalid")
        #expect(resolved["port"] == "6543")
        #expect(resolved["user"] == "u")
        #expect(resolved["sslmode"] == "verify-ca")
        #expect(resolved["password"] == nil)
        // db.invalid cannot resolve: had libpq looked it up, or connected, it would have said so slowly.
        #expect(Date().timeIntervalSince(started) < 2)
        // A service that is not defined: libpq cannot resolve, nothing is guessed.
        #expect(ConnectionTarget("service=pgcellar-no-such-service-\(UUID().uuidString)").resolvedByLibpq() == nil)
    }

    // MARK: - Connecting

    @Test("a database name from elsewhere is never read as a connection string")
    func databaseNamesAreNotExpanded() throws {
        let socket = "/nonexistent/pgcellar-test-\(UUID().uuidString.prefix(8))"
        let error = try #require(throws: ConnectionError.self) {
            _ = try ConnectionTarget("host=\(socket) port=1").with(database: "host=127.0.0.1 sslmode=disable").connect()
        }
        #expect(error.host == socket)
        #expect(error.database == "host=127.0.0.1 sslmode=disable")
        // With no connection string at all, too.
        let bare = try #require(throws: ConnectionError.self) {
            _ = try ConnectionTarget().overriding(["host": socket, "port": "1", "dbname": "host=127.0.0.1"]).connect()
        }
        #expect(bare.host == socket)
        #expect(bare.database == "host=127.0.0.1")
    }

    @Test("a failure gets the target's advice for its kind, else the generic advice")
    func advice() throws {
        // Nobody listens on port 1 of the loopback interface.
        let refused = ConnectionTarget("host=127.0.0.1 port=1 sslmode=disable")
        let generic = try #require(throws: ConnectionError.self) { _ = try refused.connect() }
        #expect(generic.kind == .connectionRefused)
        #expect(generic.advice == ConnectionError.genericAdvice(for: .connectionRefused))
        var advised = refused
        advised.advice[.connectionRefused] = "start the tunnel first"
        let specific = try #require(throws: ConnectionError.self) { _ = try advised.connect() }
        #expect(specific.advice == "start the tunnel first")
        #expect(specific.description.hasSuffix("(start the tunnel first)"))
    }

    @Test("libpq's reasons map to kinds", arguments: [
        ("FATAL:  password authentication failed for user \"x\"", ConnectionError.Kind.authenticationFailed),
        ("fe_sendauth: no password supplied", .passwordMissing),
        ("server does not support SSL, but SSL was required", .tlsNotOffered),
        ("FATAL:  no pg_hba.conf entry for host \"10.0.0.1\", user \"x\", database \"y\", no encryption", .rejectedByHBA),
        ("FATAL:  pg_hba.conf rejects connection for host \"127.0.0.1\"", .rejectedByHBA),
        ("connection to server at \"127.0.0.1\", port 1 failed: Connection refused", .connectionRefused),
        ("could not translate host name \"nope\" to address", .unknownHost),
        ("FATAL:  database \"nope\" does not exist", .unknownDatabase),
        ("something else", .other),
    ])
    func kinds(reason: String, kind: ConnectionError.Kind) {
        #expect(ConnectionError.Kind(classifying: reason) == kind)
    }

    @Test("loopback addresses and names", arguments: [
        ("127.0.0.1", true), ("127.1.2.3", true), ("::1", true), ("::ffff:127.0.0.1", true), ("localhost", true),
        ("10.0.0.1", false), ("192.0.2.2", false), ("::2", false), ("fd00::1", false), ("db.example", false),
    ])
    func loopback(address: String, isLoopback: Bool) {
        #expect(Connection.isLoopback(address) == isLoopback)
    }

    @Test("targets compare by what they name and their defaults; the warning by identity")
    func equality() {
        #expect(ConnectionTarget("shop") == ConnectionTarget("dbname='shop'"))
        #expect(ConnectionTarget("shop") != ConnectionTarget("shop").with(database: "x"))
        var other = ConnectionTarget("shop")
        other.unverifiedServerWarning = UnverifiedServerWarning()
        #expect(ConnectionTarget("shop") != other)
    }
}
