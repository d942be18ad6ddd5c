import CellarSupport
import Foundation
import Logging
import PostgresClient

/// The database a drill created, known by its OID: cleanup drops only that
/// database, never another one that happens to carry its name.
///
/// Shared between the drill and a signal handler, which may drop it from
/// another thread.
public final class ScratchDatabase: Sendable {
    private struct State {
        var name: String?
        var oid: UInt32?
        var dropped = false
        /// The restore that creates it has started.
        var creating = false
        /// A signal arrived: drop it the moment it is known.
        var interrupted = false
    }

    private let state = Locked(State())
    private let server: ConnectionTarget
    private let logger: Logger

    public init(server: ConnectionTarget, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    /// The name and OID of the database, once ``created(_:)`` has found it.
    public var created: (name: String, oid: UInt32)? {
        state.withLock { state in
            guard let name = state.name, let oid = state.oid else { return nil }
            return (name, oid)
        }
    }

    /// Whether the database the drill made is gone (dropped here, or by someone else).
    public var isDropped: Bool {
        state.withLock { $0.dropped }
    }

    /// Says the restore that creates the database is starting.
    func restoreStarting() {
        state.withLock { $0.creating = true }
    }

    /// Drops the database on a signal. `CREATE DATABASE` may be running or
    /// may just have returned with the OID not yet read: then it waits (up
    /// to `seconds`) for ``created(_:)``, which drops it at once.
    public func interrupt(waitingUpTo seconds: Double = 10) {
        let wait = state.withLock { state in
            state.interrupted = true
            return state.creating && state.oid == nil && state.name == nil
        }
        if wait {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if state.withLock({ $0.name != nil }) { break }
                usleep(20_000)
            }
        }
        do {
            try drop()
        } catch {
            logger.error("could not drop the scratch database after the interruption: \(error)")
        }
    }

    /// Records the database `restore --create` just made, reading its OID
    /// on the server before anyone else could drop and recreate the name.
    public func created(_ name: String) {
        let oid: UInt32?
        do {
            let connection = try server.connect(logger: logger)
            defer { connection.close() }
            oid = try connection.query("SELECT oid::int8 AS oid FROM pg_catalog.pg_database WHERE datname = $1", [name])
                .first.map { UInt32(try $0.int("oid")) }
        } catch {
            logger.error("cannot read the OID of scratch database \(name): \(error)")
            oid = nil
        }
        let interrupted = state.withLock { state in
            state.name = name
            state.oid = oid
            return state.interrupted
        }
        if interrupted { _ = try? drop() }
    }

    /// Drops the database if it still has the OID the drill created it
    /// with; does nothing when it was never created or is already dropped.
    ///
    /// - Returns: whether a database was dropped.
    @discardableResult
    public func drop() throws -> Bool {
        // The lock is held throughout: the drill and a signal handler never
        // drop at the same time.
        try state.withLock { state in
            guard let oid = state.oid, !state.dropped else { return false }
            let connection = try server.connect(logger: logger)
            defer { connection.close() }
            guard let current = try connection.query("SELECT datname FROM pg_catalog.pg_database WHERE oid = $1::oid", [String(oid)]).first?["datname"] else {
                state.dropped = true
                return false
            }
            try connection.execute("DROP DATABASE IF EXISTS \(try connection.escapeIdentifier(current)) WITH (FORCE)")
            state.dropped = true
            logger.info("dropped scratch database \(current) (OID \(oid))")
            return true
        }
    }
}
