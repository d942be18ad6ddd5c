import Foundation

/// What `pgcellar destroy` would do, read from the catalogs before anything changes.
public struct DestroyPlan: Codable, Sendable, Equatable {
    public var database: String
    /// Where the admin connection goes ("user@host:port").
    public var endpoint: String
    /// Sessions connected to the database now (to be terminated).
    public var sessions: Int
    /// Managed roles that will be dropped after the database.
    public var rolesToDrop: [String]
    /// Managed roles that stay, and why.
    public var rolesKept: [KeptRole]
    /// Managed roles that do not exist (nothing to drop).
    public var rolesMissing: [String]
    /// Where the drill runs ("user@host:port"); nil with `--no-drill`.
    public var drillServer: String?
    /// Login roles that a revoke of CONNECT does not keep out: superusers,
    /// and members of the owner (who may grant CONNECT back to themselves).
    /// `ALLOW_CONNECTIONS false` keeps them out once the export's
    /// connections are open.
    public var rolesBypassingRevoke: [String] = []
    /// The size of the database (`pg_database_size`), for the room checks.
    public var databaseBytes: Int64 = 0

    public struct KeptRole: Codable, Sendable, Equatable {
        public var name: String
        /// What still depends on the role outside the database ("owner of table public.t in database crm").
        public var reasons: [String]
    }

    /// The plan as a person reads it.
    public func render(exportPath: String) -> String {
        var lines = ["pgcellar destroy, on \(endpoint):"]
        lines.append("  0. check that \(exportPath) can be written and its filesystem has room, and journal the ACL of \(database) beside it")
        lines.append("  1. revoke CONNECT on database \(database) and terminate its \(sessions) session\(sessions == 1 ? "" : "s")")
        if !rolesBypassingRevoke.isEmpty {
            lines.append("     (\(rolesBypassingRevoke.joined(separator: ", ")) can still connect despite the revoke: superuser or member of the owner)")
        }
        lines.append("  2. export \(database) to \(exportPath), setting ALLOW_CONNECTIONS false once its connections are open, and verify the export")
        if let drillServer {
            lines.append("  3. drill: restore the export into a scratch database on \(drillServer), compare its rows and schema, drop it")
        } else {
            lines.append("  3. no drill (--no-drill): the export is not proven to restore")
        }
        lines.append("  4. confirm that no session is left, then drop database \(database)")
        if rolesToDrop.isEmpty {
            lines.append("  5. drop no roles")
        } else {
            lines.append("  5. drop role\(rolesToDrop.count == 1 ? "" : "s") \(rolesToDrop.joined(separator: ", "))")
        }
        for role in rolesKept {
            lines.append("  keep role \(role.name): \(role.reasons.joined(separator: "; "))")
        }
        if !rolesMissing.isEmpty {
            lines.append("  (not found, nothing to drop: \(rolesMissing.joined(separator: ", ")))")
        }
        lines.append("If the export, its verification or the drill fails, or a signal comes, the journaled ACL and connections are restored and nothing is dropped.")
        return lines.joined(separator: "\n") + "\n"
    }
}

