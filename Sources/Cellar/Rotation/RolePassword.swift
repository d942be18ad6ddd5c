import Foundation
import PostgresClient

/// Sets a role's password the only way pgcellar does: as a SCRAM-SHA-256
/// verifier computed on the client, so the plaintext never crosses the wire
/// or reaches the server's statement log.
///
/// Shared by rotation (`ALTER ROLE`) and provisioning, which creates roles
/// with ``verifier(for:role:on:)`` under ``keepOutOfStatementLog(on:)``.
public enum RolePassword {
    /// The algorithm, named explicitly: left NULL, `PQencryptPasswordConn`
    /// follows the server's `password_encryption`, which may still be md5.
    public static let algorithm = "scram-sha-256"

    /// The SCRAM-SHA-256 verifier of `password` for `role`, computed by libpq
    /// on the client (a random salt each time).
    public static func verifier(for password: String, role: String, on connection: Connection) throws -> String {
        try connection.encryptPassword(password, user: role, algorithm: algorithm)
    }

    /// `ALTER ROLE role PASSWORD 'verifier' VALID UNTIL ...` in a transaction
    /// of its own.
    ///
    /// Utility statements take no bound parameters, so the verifier is
    /// inlined with `PQescapeLiteral`; the statement is kept out of any error.
    /// Where the admin may (a superuser), `SET LOCAL log_statement = 'none'`
    /// keeps even the verifier out of the server's statement log.
    ///
    /// - Parameters:
    ///   - verifier: A SCRAM verifier from ``verifier(for:role:on:)``; the
    ///     same verifier may be set again (a journaled rotation re-issued).
    ///   - validUntil: `VALID UNTIL`: a time, or ``RoleExpiry/never`` so a
    ///     role whose `rotation.validFor` was removed stops expiring.
    ///   - beforeCommit: Runs after the ALTER, before COMMIT (rotation's
    ///     test checkpoints).
    /// - Throws: `PostgresError` whose statement shows `<verifier>` in place
    ///   of the verifier.
    public static func set(role: String, verifier: String, validUntil: RoleExpiry, on connection: Connection,
                           beforeCommit: () -> Void = {}) throws {
        guard verifier.hasPrefix("SCRAM-SHA-256$") else {
            // Never send something that might be a plaintext password.
            throw ClientError("refusing to set a password for \(role) that is not a SCRAM-SHA-256 verifier")
        }
        let identifier = try connection.escapeIdentifier(role)
        let expiry = try connection.escapeLiteral(validUntil.literal)
        let shown = "ALTER ROLE \(identifier) PASSWORD '<SCRAM-SHA-256 verifier>' VALID UNTIL \(expiry)"
        try connection.transaction {
            try keepOutOfStatementLog(on: connection)
            do {
                try connection.execute(
                    "ALTER ROLE \(identifier) PASSWORD \(try connection.escapeLiteral(verifier)) VALID UNTIL \(expiry)",
                    redacted: true)
            } catch var error as PostgresError {
                error.statement = shown
                throw error
            }
            beforeCommit()
        }
    }

    /// Inside a transaction: keeps the rest of it out of everything that
    /// records statement texts, so even a verifier is recorded nowhere:
    /// - the statement log (`log_statement`), and a failed statement's
    ///   STATEMENT line (`log_min_error_statement`);
    /// - the duration log, which prints the text of slow or sampled
    ///   statements (`log_min_duration_statement`, `log_min_duration_sample`,
    ///   `log_transaction_sample_rate`);
    /// - pg_stat_statements, which keeps utility statements such as
    ///   `ALTER ROLE` verbatim, constants and all (`track_utility`). Setting it
    ///   where the module is not loaded only makes a placeholder.
    ///
    /// LOCAL ends with the transaction. Only a superuser may change these
    /// settings, so for other admins this does nothing: those logs may then
    /// hold the verifier (never the password). docs/rotation.md ("Keeping the
    /// verifier out of the server's logs") says what an operator does about
    /// that: set them for the admin role once, as a superuser (`ALTER ROLE
    /// admin SET log_min_duration_statement = -1`, ...), or cluster-wide.
    public static func keepOutOfStatementLog(on connection: Connection) throws {
        guard connection.isSuperuser else { return }
        var settings = [
            "log_statement = 'none'", "log_min_error_statement = 'panic'", "log_min_duration_statement = -1",
            "log_transaction_sample_rate = 0", "pg_stat_statements.track_utility = off",
        ]
        if connection.serverVersionNumber >= 130000 { settings.append("log_min_duration_sample = -1") }
        try connection.execute(settings.map { "SET LOCAL \($0)" }.joined(separator: "; "))
    }
}

/// A role's `VALID UNTIL`: what `ALTER ROLE` is given, and what
/// `pg_roles.rolvaliduntil` holds, to the microsecond.
public struct RoleExpiry: Sendable, Equatable, CustomStringConvertible {
    /// The literal `ALTER ROLE ... VALID UNTIL` takes: `infinity`,
    /// `-infinity`, or an RFC 3339 time in UTC.
    public let literal: String

    /// Never expires.
    ///
    /// A role created without `VALID UNTIL` has NULL, which `ALTER ROLE`
    /// cannot set again; `'infinity'` means the same: the password never expires.
    public static let never = RoleExpiry(literal: "infinity")

    public init(literal: String) {
        self.literal = literal
    }

    /// That time, in whole seconds as the Secret's annotation keeps it; nil for ``never``.
    public init(_ date: Date?) {
        self.literal = date.map(SecretManifest.timestamp) ?? "infinity"
    }

    public var description: String { literal }

    /// The role's expiry as the server holds it now, read so that it can be
    /// set back exactly; nil when there is no such role.
    public static func current(of role: String, on connection: Connection) throws -> RoleExpiry? {
        // In UTC with microseconds, whatever the session's DateStyle and TimeZone.
        let row = try connection.query("""
            SELECT CASE WHEN rolvaliduntil IS NULL OR rolvaliduntil = 'infinity' THEN 'infinity'
                        WHEN rolvaliduntil = '-infinity' THEN '-infinity'
                        ELSE pg_catalog.to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                   END AS valid_until
              FROM pg_catalog.pg_roles WHERE rolname = $1
            """, [role]).first
        return try row.map { RoleExpiry(literal: try $0.string("valid_until")) }
    }
}
