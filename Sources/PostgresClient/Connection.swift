import Foundation
internal import CLibPQ
import Logging

/// One libpq connection, owned: `close()` ends it, and so does `deinit`.
///
/// libpq calls block the calling thread, so a connection belongs to one
/// thread at a time and is deliberately not `Sendable`; parallel work opens a
/// connection per worker thread (see `CellarSupport`'s blocking workers).
public final class Connection {
    private var handle: OpaquePointer?
    /// Kept alive for as long as libpq may call the notice receiver with it.
    private let notices: NoticeSink
    public let logger: Logger

    /// Where this connection went, for messages (never the password).
    public let host: String
    public let port: String
    public let user: String
    public let database: String

    /// Opens a connection with exactly these libpq keywords; no defaults are
    /// added. Everything else opens connections through
    /// ``ConnectionTarget/connect(logger:)``, where the defaults live.
    ///
    /// - Parameters:
    ///   - parameters: keyword/value pairs, later ones winning.
    ///   - expandDatabaseName: whether the first `dbname` may be a conninfo
    ///     string or URI (libpq's `expand_dbname`). Only a target's own
    ///     connection string is passed that way, never a database name from
    ///     elsewhere, which could otherwise smuggle in keywords (`host=...`).
    ///   - logger: receives the server's notices and warnings.
    /// - Throws: `ConnectionError` naming host, port, user and libpq's reason.
    init(parameters: [(String, String)], expandDatabaseName: Bool, logger: Logger) throws {
        let keywords = parameters.map(\.0)
        let values = parameters.map(\.1)
        let conn: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, expandDatabaseName ? 1 : 0)
            }
        }
        guard let conn else {
            throw ConnectionError(host: "?", port: "?", user: "?", database: "?", reason: "out of memory while connecting")
        }
        self.host = PQhost(conn).map { String(cString: $0) } ?? ""
        self.port = PQport(conn).map { String(cString: $0) } ?? ""
        self.user = PQuser(conn).map { String(cString: $0) } ?? ""
        self.database = PQdb(conn).map { String(cString: $0) } ?? ""
        self.logger = logger
        self.notices = NoticeSink(logger: logger)
        guard PQstatus(conn) == CONNECTION_OK else {
            let reason = Self.trimmedMessage(PQerrorMessage(conn))
            PQfinish(conn)
            throw ConnectionError(host: host, port: port, user: user, database: database, reason: reason)
        }
        self.handle = conn
        // > PQsetNoticeReceiver: The receiver function is called with the
        // > PGresult of the notice [...] and the arg pointer passed at setup.
        PQsetNoticeReceiver(conn, { arg, result in
            guard let arg, let result else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue()
            sink.receive(PostgresError(result: result, statement: nil))
        }, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Ends the connection. Safe to call twice.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// The live handle, or an error after `close()`.
    func live() throws -> OpaquePointer {
        guard let handle else { throw ClientError("the connection to \(host):\(port) is closed") }
        return handle
    }

    // MARK: - Server facts

    /// `PQserverVersion`: e.g. 150018 for 15.18.
    public var serverVersionNumber: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// The server's `server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    public var serverVersion: String { parameterStatus("server_version") ?? "" }

    /// A run-time parameter the server reports (`server_encoding`, `is_superuser`, ...).
    public func parameterStatus(_ name: String) -> String? {
        guard let handle, let value = PQparameterStatus(handle, name) else { return nil }
        return String(cString: value)
    }

    public var isSuperuser: Bool { parameterStatus("is_superuser") == "on" }

    /// True when the connection is encrypted with TLS.
    public var usesTLS: Bool {
        guard let handle else { return false }
        return PQsslInUse(handle) != 0
    }

    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// True when a transaction block is open (or failed and awaiting rollback).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// "user@host:port/database", for logs and messages.
    public var endpointDescription: String { "\(user)@\(host):\(port)/\(database)" }

    // MARK: - Queries

    /// Runs SQL and returns its (last) result.
    ///
    /// Without parameters the text may hold several statements (`PQexec`).
    /// With parameters it is one statement whose `$1, $2, ...` are bound as
    /// text (`PQexecParams`); `nil` binds NULL. Bound values never appear in
    /// errors or logs.
    ///
    /// - Parameter redacted: keep the statement text out of any error, for
    ///   utility statements that must inline a secret (a SCRAM verifier).
    /// - Throws: `PostgresError` with the server's diagnostics.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = [], redacted: Bool = false) throws -> QueryResult {
        let conn = try live()
        let raw: OpaquePointer?
        if parameters.isEmpty {
            raw = PQexec(conn, sql)
        } else {
            raw = withOptionalCStringArray(parameters) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        let result = try checked(raw, sql: sql, redacted: redacted)
        return result
    }

    /// Runs a query and returns its rows (`execute` for statements that return rows).
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        try execute(sql, parameters)
    }

    /// Runs `body` inside BEGIN ... COMMIT, rolling back when it throws.
    public func transaction<T>(_ begin: String = "BEGIN", _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if handle != nil { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    func checked(_ raw: OpaquePointer?, sql: String, redacted: Bool) throws -> QueryResult {
        guard let raw else {
            throw ClientError("\(endpointDescription): \(lastErrorMessage)")
        }
        let result = QueryResult(taking: raw)
        switch PQresultStatus(raw) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return result
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // Leave the connection usable: end the COPY the caller did not expect.
            try? abandonCopy(PQresultStatus(raw))
            throw ClientError("a COPY statement must go through copyOut/copyIn, not execute: \(redacted ? "<redacted>" : sql)")
        default:
            throw PostgresError(result: raw, statement: redacted ? nil : sql)
        }
    }

    var lastErrorMessage: String {
        guard let handle else { return "connection closed" }
        return Self.trimmedMessage(PQerrorMessage(handle))
    }

    // MARK: - Escaping

    /// Quotes an identifier the way this server expects (`PQescapeIdentifier`).
    public func escapeIdentifier(_ identifier: String) throws -> String {
        let conn = try live()
        return try escape(identifier, with: conn, PQescapeIdentifier)
    }

    /// Quotes a string literal the way this server expects (`PQescapeLiteral`).
    public func escapeLiteral(_ literal: String) throws -> String {
        let conn = try live()
        return try escape(literal, with: conn, PQescapeLiteral)
    }

    // MARK: - Passwords

    /// Computes a password verifier on the client, so the plaintext never
    /// crosses the wire or reaches the server's statement log.
    ///
    /// - Parameter algorithm: named explicitly; left NULL, libpq would follow
    ///   the server's `password_encryption`, which may still be md5.
    public func encryptPassword(_ password: String, user: String, algorithm: String = "scram-sha-256") throws -> String {
        let conn = try live()
        // > PQencryptPasswordConn: The return value is a string allocated by
        // > malloc, or NULL if out of memory or an error occurs.
        guard let encrypted = PQencryptPasswordConn(conn, password, user, algorithm) else {
            throw ClientError("cannot compute a \(algorithm) verifier for \(user): \(lastErrorMessage)")
        }
        defer { PQfreemem(encrypted) }
        return String(cString: encrypted)
    }

    // MARK: - Helpers

    static func trimmedMessage(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        // libpq prefixes multi-host attempts with "connection to server at ...";
        // keep the reason, which follows the last "failed: ".
        return text.isEmpty ? "unknown error" : text
    }
}

/// Receives notices on libpq's thread (the connection's) and logs them.
final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ notice: PostgresError) {
        var metadata: Logger.Metadata = ["sqlstate": "\(notice.code.rawValue)"]
        if let detail = notice.detail { metadata["detail"] = "\(detail)" }
        if let hint = notice.hint { metadata["hint"] = "\(hint)" }
        let level: Logger.Level
        switch notice.severity {
        case "WARNING": level = .warning
        case "NOTICE": level = .notice
        default: level = .debug
        }
        logger.log(level: level, "server: \(notice.message)", metadata: metadata)
    }
}

extension PostgresError {
    /// Reads every diagnostic field of an error or notice result.
    init(result: OpaquePointer, statement: String?) {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let message = field(cpq_diag_message())
            ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(
            code: Code(field(cpq_diag_sqlstate()) ?? "XX000"),
            severity: field(cpq_diag_severity()) ?? field(cpq_diag_severity_localized()) ?? "ERROR",
            message: message,
            detail: field(cpq_diag_detail()),
            hint: field(cpq_diag_hint()),
            position: field(cpq_diag_position()).flatMap { Int($0) },
            context: field(cpq_diag_context()),
            schemaName: field(cpq_diag_schema()),
            tableName: field(cpq_diag_table()),
            columnName: field(cpq_diag_column()),
            dataTypeName: field(cpq_diag_datatype()),
            constraintName: field(cpq_diag_constraint()),
            statement: statement
        )
    }
}

// MARK: - C strings

func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { duplicated.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = duplicated.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func escape(_ text: String, with conn: OpaquePointer,
            _ function: (OpaquePointer?, UnsafePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?) throws -> String {
    if text.utf8.contains(0) {
        throw ClientError("a name or value contains a NUL byte, which PostgreSQL cannot store")
    }
    let utf8 = Array(text.utf8) + [0]
    let escaped: UnsafeMutablePointer<CChar>? = utf8.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            function(conn, chars.baseAddress, chars.count - 1)
        }
    }
    guard let escaped else {
        throw ClientError("cannot quote \(text.debugDescription): \(Connection.trimmedMessage(PQerrorMessage(conn)))")
    }
    defer { PQfreemem(escaped) }
    return String(cString: escaped)
}
