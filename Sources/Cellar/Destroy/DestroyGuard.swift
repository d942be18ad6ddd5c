#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// A destroy's state, shared by its thread, the export's copy workers and a
/// signal handler.
///
/// One lock is held through every statement that closes, opens or drops the
/// database, and through every use of the admin connection, so a signal
/// never races one of them: ``interrupt()`` waits for the statement in
/// flight, then puts the database back as the journal says (unless it is
/// already dropped), removes the export's temporary file and the drill's
/// scratch database. After an interruption nothing more is closed or
/// dropped.
public final class DestroyGuard: Sendable {
    private let connectMaintenance: @Sendable () throws -> Connection
    private let logger: Logger
    let journalPath: String
    /// Everything that changes, and the admin connection, used only with the lock held.
    private let state: Locked<State>

    private struct State {
        let admin: Connection
        var journal: DestroyJournal?
        var stage = Stage.open
        var interrupted = false
        var exportTemporaryPath: String?
        var scratch: ScratchDatabase?
    }

    enum Stage {
        /// Nothing changed yet.
        case open
        /// The journal is written; CONNECT may be revoked.
        case closed
        /// The database is dropped; the journal is gone.
        case dropped
        /// The journal's state is back; the journal is gone.
        case reopened
    }

    /// Thrown by a step that would close or drop after a signal.
    struct Interrupted: Error, CustomStringConvertible {
        var description: String { "interrupted by a signal" }
    }

    init(admin: Connection, journalPath: String, logger: Logger, connectMaintenance: @escaping @Sendable () throws -> Connection) {
        state = Locked(State(admin: admin))
        self.journalPath = journalPath
        self.logger = logger
        self.connectMaintenance = connectMaintenance
    }

    private func locked<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try state.withLock(body)
    }

    /// Runs `body` with the admin connection, unless a signal came.
    func withAdmin<T>(_ body: (Connection) throws -> T) throws -> T {
        try locked { state in
            if state.interrupted { throw Interrupted() }
            return try body(state.admin)
        }
    }

    // MARK: - Closing

    /// Journals the database's state (unless `resuming`, whose journal is
    /// already on disk), then revokes CONNECT. When resuming a run that had
    /// set `ALLOW_CONNECTIONS false`, connections are allowed again for the
    /// export (CONNECT stays revoked).
    func close(_ journal: DestroyJournal, resuming: Bool) throws {
        try locked { state in
            if state.interrupted { throw Interrupted() }
            if !resuming { try journal.write(to: journalPath) }
            state.journal = journal
            state.stage = .closed
            let admin = state.admin
            try DatabaseGate.revokeConnect(journal, on: admin, logger: logger)
            if resuming, journal.allowConnections, let now = try DatabaseGate.current(oid: journal.databaseOID, on: admin),
               !now.allowConnections {
                try admin.execute("ALTER DATABASE \(try admin.escapeIdentifier(now.name)) ALLOW_CONNECTIONS true")
            }
        }
    }

    /// Journals, then sets, `ALLOW_CONNECTIONS false`.
    func disallowConnections() throws {
        try locked { state in
            guard !state.interrupted, state.stage == .closed, var journal = state.journal else { throw Interrupted() }
            journal.connectionsDisallowedAt = Date()
            try journal.write(to: journalPath)
            state.journal = journal
            try DatabaseGate.disallowConnections(journal, on: state.admin, logger: logger)
        }
    }

    /// The export's temporary file while it is being written; nil once committed or removed.
    func exporting(to temporaryPath: String?) {
        locked { $0.exportTemporaryPath = temporaryPath }
    }

    func drilling(_ scratch: ScratchDatabase) {
        locked { $0.scratch = scratch }
    }

    // MARK: - Dropping

    /// Journals the drop, then runs `body` (which confirms that no session
    /// is left and drops the database); the journal goes when it succeeds.
    /// A signal meanwhile waits for it.
    func drop(_ body: (Connection) throws -> Void) throws {
        try locked { state in
            guard !state.interrupted, state.stage == .closed, var journal = state.journal else { throw Interrupted() }
            journal.stage = .dropping
            try journal.write(to: journalPath)
            state.journal = journal
            do {
                try body(state.admin)
            } catch {
                journal.stage = .closed
                try? journal.write(to: journalPath)
                state.journal = journal
                throw error
            }
            state.stage = .dropped
            do {
                try DestroyJournal.remove(path: journalPath)
            } catch {
                logger.warning("database \(journal.database) is dropped, but its destroy journal \(journalPath) could not be removed (remove it by hand): \(error)")
            }
        }
    }

    // MARK: - Reopening

    /// Puts the journaled state back after a failure; does nothing when the
    /// database was never closed or is already back.
    ///
    /// - Throws: ``DestroyError`` when it cannot; the journal then stays, for `--abort`.
    func reopen() throws {
        try locked { try reopenLocked(&$0) }
    }

    private func reopenLocked(_ state: inout State) throws {
        guard state.stage == .closed, let journal = state.journal else { return }
        let connection: Connection
        do {
            connection = try connectMaintenance()
        } catch {
            throw DestroyError("cannot connect to give \(journal.database) its privileges back (\(error)); run pgcellar destroy --abort with the same --export-to")
        }
        defer { connection.close() }
        switch try DatabaseGate.reopen(journal, on: connection, logger: logger) {
        case .restored: break
        case .dropped: logger.warning("database \(journal.database) is gone: there was nothing to reopen")
        }
        state.stage = .reopened
        try DestroyJournal.remove(path: journalPath)
    }

    /// For a signal handler: waits for the statement in flight, stops every
    /// further step, removes the export's temporary file and the drill's
    /// scratch database, and reopens the database unless it is dropped.
    ///
    /// - Returns: What happened, for one line on stderr.
    public func interrupt() -> String {
        locked { state in
            state.interrupted = true
            if let exportTemporaryPath = state.exportTemporaryPath {
                unlink(exportTemporaryPath)
                state.exportTemporaryPath = nil
            }
            state.scratch?.interrupt()
            let name = state.journal?.database ?? "the database"
            switch state.stage {
            case .open: return "destroy interrupted before anything changed"
            case .dropped: return "destroy interrupted after \(name) was dropped"
            case .reopened: return "destroy interrupted; \(name) already accepts connections again"
            case .closed:
                do {
                    try reopenLocked(&state)
                    return "destroy interrupted; nothing was dropped, and \(name) has its privileges and connections back"
                } catch {
                    return "destroy interrupted, and \(error)"
                }
            }
        }
    }
}
