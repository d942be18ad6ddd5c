import Foundation
internal import CLibPQ

/// Identifier and literal quoting through libpq when no connection is at
/// hand (plans printed before connecting, unit tests).
///
/// libpq's escaping functions need a `PGconn` only for its client encoding
/// and `standard_conforming_strings`; an unconnected handle has SQL_ASCII
/// (bytes pass through, so UTF-8 stays intact) and non-standard strings, so
/// a literal holding a backslash comes out in the `E'...'` form, which every
/// server accepts. Prefer `Connection.escapeIdentifier` when connected.
public enum SQLQuoting {
    /// Serializes use of the shared offline handle: the escaping functions
    /// reset its error buffer, so they are not safe to call concurrently.
    ///
    /// `@unchecked Sendable`: it wraps a libpq handle (`PGconn`), used only
    /// with `lock` held.
    private final class OfflineHandle: @unchecked Sendable {
        let lock = NSLock()
        let conn: OpaquePointer?

        init() {
            // A socket directory that cannot exist: PQconnectStartParams fails at
            // once without touching the network, leaving a handle to escape with.
            conn = withCStringArray(["host", "port", "dbname", "user", "sslmode", "gssencmode", "password"]) { keys in
                withCStringArray(["/nonexistent/libpq-offline-quoting", "1", "offline", "offline", "disable", "disable", "offline"]) { values in
                    PQconnectStartParams(keys, values, 0)
                }
            }
        }
    }

    private static let offline = OfflineHandle()

    /// `PQescapeIdentifier`: double-quoted, inner quotes doubled.
    public static func identifier(_ name: String) throws -> String {
        try withOffline { try escape(name, with: $0, PQescapeIdentifier) }
    }

    /// `PQescapeLiteral`: single-quoted, `E'...'` when it holds a backslash.
    public static func literal(_ value: String) throws -> String {
        try withOffline { try escape(value, with: $0, PQescapeLiteral) }
    }

    /// `schema.name`, each part quoted.
    public static func qualified(_ schema: String, _ name: String) throws -> String {
        "\(try identifier(schema)).\(try identifier(name))"
    }

    private static func withOffline<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        offline.lock.lock()
        defer { offline.lock.unlock() }
        guard let conn = offline.conn else { throw ClientError("libpq could not allocate a handle for quoting") }
        return try body(conn)
    }
}
