import Foundation
import PostgresClient

/// What `pgcellar restore` was asked to do.
public struct RestoreOptions: Sendable, Equatable {
    /// The database to restore into; every restore connection is made from
    /// it (the maintenance database `postgres` too, for `--create`).
    public var target: ConnectionTarget
    /// The target's connection string (`dbname='NAME'` for a bare name),
    /// where the database to create is read from.
    public var dsn: String { target.conninfo }
    /// Create the target through the maintenance database `postgres` first.
    public var create = false
    /// Connections loading data and building indexes at once.
    public var jobs = 1
    /// The role that owns every restored object (`SET ROLE`, OWNER entries skipped).
    public var owner: String?
    /// Skip OWNER entries: objects belong to whoever restores them.
    public var noOwner = false
    /// Skip ACL and DEFAULT ACL entries (and the database's own grants).
    public var noPrivileges = false
    /// Ignore the archive's tablespaces (`--no-tablespaces`): everything
    /// goes to the target database's default, and `--create` names none.
    public var noTablespaces = false
    public var schemaOnly = false
    public var dataOnly = false
    /// Restore only these tables (`name` or `schema.name`, `*` and `?`
    /// wildcards): their definitions, rows, indexes, constraints other than
    /// foreign keys, triggers, comments, owners and privileges.
    public var tables: [String] = []
    /// Restore only objects in these schemas.
    public var schemas: [String] = []
    /// Everything in one transaction on one connection (all or nothing).
    public var singleTransaction = false
    /// Leave a database that `--create` made in place when the restore fails.
    public var keepOnError = false
    /// Load data with `session_replication_role = replica` (superuser only),
    /// so triggers and foreign keys of an existing schema do not fire.
    public var disableTriggers = false
    /// `--create` overrides of the archive's encoding and locale.
    public var encoding: String?
    public var locale: String?
    /// `maintenance_work_mem` for index builds in the restore sessions.
    public var maintenanceWorkMem = "256MB"

    public init(target: ConnectionTarget) {
        self.target = target
    }

    /// - Parameter dsn: a conninfo string, URI or database name.
    public init(dsn: String) {
        self.init(target: ConnectionTarget(dsn))
    }

    /// Combinations that cannot work, as messages for argument validation.
    public var problems: [String] {
        var problems: [String] = []
        if jobs < 1 { problems.append("--jobs must be at least 1") }
        if schemaOnly && dataOnly { problems.append("--schema-only and --data-only cannot be combined") }
        if singleTransaction && jobs > 1 {
            problems.append("--single-transaction needs one connection: it cannot be combined with --jobs above 1")
        }
        if singleTransaction && create {
            problems.append("--single-transaction cannot be combined with --create (CREATE DATABASE cannot run inside a transaction)")
        }
        if owner != nil && noOwner { problems.append("--owner and --no-owner cannot be combined") }
        if create && dataOnly { problems.append("--create makes an empty database: --data-only has no schema to load into") }
        if !create && (encoding != nil || locale != nil) { problems.append("--encoding and --locale apply only with --create") }
        if disableTriggers && !dataOnly { problems.append("--disable-triggers applies only with --data-only") }
        return problems
    }
}

/// A restore that failed: which object, which statement, and why.
public struct RestoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The archive entry being restored ("INDEX public film_pkey"), when any.
    public var object: String?
    /// The statement the server rejected, shortened.
    public var statement: String?
    /// The server's error, when the server reported one.
    public var serverError: PostgresError?

    public init(_ message: String, object: String? = nil, statement: String? = nil, serverError: PostgresError? = nil) {
        self.message = message
        self.object = object
        self.statement = statement.map(RestoreError.shorten)
        self.serverError = serverError
    }

    public var description: String {
        var text = ""
        if let object { text += "restoring \(object) failed: " }
        if let serverError {
            text += "\(serverError.severity.lowercased()) \(serverError.code): \(serverError.message)"
            if let detail = serverError.detail { text += "\n  detail: \(detail)" }
            if let hint = serverError.hint { text += "\n  hint: \(hint)" }
        } else {
            text += message
        }
        if let statement { text += "\n  statement: \(statement)" }
        return text
    }

    static func shorten(_ statement: String) -> String {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > 600 ? String(trimmed.prefix(600)) + "…" : trimmed
    }

    /// Wraps whatever a step threw, naming the entry it was restoring.
    static func wrapping(_ error: any Error, object: String?, statement: String?) -> any Error {
        if error is RestoreError { return error }
        if let server = error as? PostgresError {
            return RestoreError(server.message, object: object, statement: server.statement ?? statement, serverError: server)
        }
        if error is ArchiveError { return error }
        return RestoreError("\(error)", object: object, statement: nil)
    }
}

/// What a finished restore did, for the summary and `--json`.
public struct RestoreSummary: Codable, Sendable, Equatable {
    public var database: String
    public var created: Bool
    public var jobs: Int
    public var entries: Int
    public var tables: Int
    public var dataChunks: Int
    public var rows: Int
    /// Uncompressed COPY bytes sent to the server.
    public var dataBytes: UInt64
    public var sequencesSet: Int
    public var materializedViewsRefreshed: Int
    public var seconds: Double
    /// Seconds per phase: "pre-data", "data", "post-data", "analyze".
    public var phases: [String: Double]
}
