import Foundation
import Logging
import PostgresClient
import Testing

/// The PostgreSQL cluster that `scripts/test.sh` starts, read from the
/// environment it exports. Every integration test goes through here, so a
/// missing server fails loudly instead of passing by skipping.
enum TestServer {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "no test PostgreSQL is configured (PGCELLAR_TEST_DSN is unset): run the tests through scripts/test.sh, which starts a TLS/SCRAM cluster and exports its settings"
        }
    }

    /// The superuser conninfo (password through PGPASSFILE, never inline).
    static func dsn() throws -> String {
        guard let dsn = ProcessInfo.processInfo.environment["PGCELLAR_TEST_DSN"], !dsn.isEmpty else {
            throw NotConfigured()
        }
        return dsn
    }

    static var serverLogPath: String? { ProcessInfo.processInfo.environment["PGCELLAR_TEST_SERVER_LOG"] }
    static var host: String { ProcessInfo.processInfo.environment["PGHOST"] ?? "127.0.0.1" }
    static var port: String { ProcessInfo.processInfo.environment["PGPORT"] ?? "5432" }

    /// The superuser's password, for tests that must hand it to something
    /// that takes a conninfo with a password in it.
    static func superuserPassword() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["PGCELLAR_TEST_SUPERUSER_PASSWORD_FILE"] else { throw NotConfigured() }
        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Opens a superuser connection, optionally to another database, runs
    /// `body` and always closes the connection.
    @discardableResult
    static func withConnection<T>(database: String? = nil, logger: Logger? = nil,
                                  _ body: (Connection) throws -> T) throws -> T {
        var target = ConnectionTarget(try dsn())
        if let database { target = target.with(database: database) }
        let connection = try target.connect(logger: logger ?? Logger(label: "test"))
        defer { connection.close() }
        return try body(connection)
    }

    /// A conninfo for `user` with `password` on the test server, over TLS.
    static func conninfo(user: String, database: String = "postgres") -> String {
        "host=\(host) port=\(port) user='\(user.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))' dbname='\(database.replacingOccurrences(of: "'", with: "\\'"))' sslmode=require"
    }

    /// A database name unique to this run, for a test that needs its own.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Creates a scratch database, runs `body` with its name, drops it after.
    static func withScratchDatabase<T>(_ prefix: String, _ body: (String) throws -> T) throws -> T {
        let name = uniqueName(prefix)
        try withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(name))") }
        defer {
            _ = try? withConnection { try $0.execute("DROP DATABASE IF EXISTS \(try $0.escapeIdentifier(name)) WITH (FORCE)") }
        }
        return try body(name)
    }

    /// The server log written so far (log_statement = all).
    static func serverLog() throws -> String {
        guard let path = serverLogPath else { throw NotConfigured() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
    }

    /// The size of the server log now, to read only what a test adds.
    static func serverLogOffset() throws -> Int {
        guard let path = serverLogPath else { throw NotConfigured() }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? Int) ?? 0
    }

    static func serverLog(since offset: Int) throws -> String {
        let log = Array(try serverLog().utf8)
        return String(decoding: log[min(offset, log.count)...], as: UTF8.self)
    }
}

/// Resident memory of this process, from /proc (Linux).
enum ProcessMemory {
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}

/// Collects log messages in memory, to check what a component logged.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    // Guarded by `lock`: libpq calls notice receivers on the connection's thread.
    private let lock = NSLock()
    private var _messages: [(Logger.Level, String)] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [(Logger.Level, String)] {
        lock.lock(); defer { lock.unlock() }
        return _messages
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.lock(); defer { lock.unlock() }
        _messages.append((event.level, event.message.description))
    }
}

/// A login role with a password of its own, for tests that run pgcellar as
/// an admin other than the superuser (CloudNativePG's CREATEDB CREATEROLE role).
struct TestLoginRole {
    let name: String
    let password: String

    /// Creates the role with `attributes` (e.g. "CREATEDB CREATEROLE").
    init(prefix: String, attributes: String) throws {
        name = TestServer.uniqueName(prefix)
        password = "pw-\(UUID().uuidString)"
        let (name, password) = (self.name, self.password)
        try TestServer.withConnection { admin in
            let verifier = try admin.encryptPassword(password, user: name)
            try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(name)) LOGIN \(attributes) PASSWORD \(try admin.escapeLiteral(verifier))")
        }
    }

    func drop() {
        _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(name))") }
    }

    /// Writes a 0600 pgpass file in `directory` holding this role's password
    /// (or `password` instead), and returns its path: how the password reaches
    /// pgcellar in production.
    func pgpassFile(in directory: String, password: String? = nil) throws -> String {
        let path = directory + "/pgpass-\(name)"
        try "*:*:*:\(name):\(password ?? self.password)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }
}
