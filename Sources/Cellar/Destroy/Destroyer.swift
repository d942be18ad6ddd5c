import CellarSupport
import Foundation
import Logging
import PostgresClient

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

    public struct KeptRole: Codable, Sendable, Equatable {
        public var name: String
        /// What still depends on the role outside the database ("owner of table public.t in database crm").
        public var reasons: [String]
    }

    /// The plan as a person reads it.
    public func render(exportPath: String) -> String {
        var lines = ["pgcellar destroy, on \(endpoint):"]
        lines.append("  1. stop new connections to database \(database) and terminate its \(sessions) session\(sessions == 1 ? "" : "s")")
        lines.append("  2. export \(database) to \(exportPath) and verify the export")
        if let drillServer {
            lines.append("  3. drill: restore the export into a scratch database on \(drillServer), compare its rows and schema, drop it")
        } else {
            lines.append("  3. no drill (--no-drill): the export is not proven to restore")
        }
        lines.append("  4. drop database \(database)")
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
        lines.append("If the export, its verification or the drill fails, connections are allowed again and nothing is dropped.")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What a destroy run did.
public struct DestroyReport: Codable, Sendable {
    public var plan: DestroyPlan
    public var exportPath: String
    public var exportedTables: Int
    public var exportedRows: Int
    public var archiveBytes: UInt64
    public var databaseDropped: Bool
    public var rolesDropped: [String]
    public var rolesKept: [DestroyPlan.KeptRole]
    /// The source's `pg_database_size` before anything changed: the room the drill needed.
    public var sourceBytes: Int64?
    /// nil with `--no-drill`.
    public var drill: DrillReport?
}

/// Why a destroy stopped before dropping anything.
public struct DestroyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The drill ran and did not pass (for the audit line).
    public var drillFailed = false
    public init(_ message: String, drillFailed: Bool = false) {
        self.message = message
        self.drillFailed = drillFailed
    }
    public var description: String { message }
}

/// Drops a configured database and its managed roles — only after a
/// verified export, in an order that loses no write: stop new connections,
/// terminate sessions, export, verify, drop.
public struct Destroyer: Sendable {
    public var config: PgcellarConfig
    public var connector: AdminConnector
    public var logger: Logger
    /// Export settings.
    public var jobs = 2
    public var level = 3
    /// Skip the drill (`--no-drill`).
    public var skipDrill = false
    /// The server the drill restores on (`--drill-dsn`); nil for the admin
    /// connection's server.
    public var drillTarget: ConnectionTarget?

    public init(config: PgcellarConfig, adminDSN: String?, logger: Logger) {
        self.config = config
        self.connector = AdminConnector(config: config, dsn: adminDSN)
        self.logger = logger
    }

    var database: String { config.database.name }

    /// The drill's maintenance connection: `--drill-dsn`, else the admin
    /// connection's server, database `postgres`.
    var drillServer: ConnectionTarget { drillTarget ?? connector.target.with(database: "postgres") }

    /// The admin connection, never to the database being destroyed.
    func connectAdmin() throws -> Connection {
        let connection = try connector.connect(logger: logger)
        if connection.database == database {
            connection.close()
            return try connector.connect(database: "postgres", logger: logger)
        }
        return connection
    }

    // MARK: - Plan

    /// Reads what a destroy would do; changes nothing.
    public func plan() throws -> DestroyPlan {
        let admin = try connectAdmin()
        defer { admin.close() }
        return try plan(admin)
    }

    func plan(_ admin: Connection) throws -> DestroyPlan {
        guard let oid = try admin.query("SELECT oid::text AS oid FROM pg_catalog.pg_database WHERE datname = $1", [database]).first?["oid"] else {
            throw DestroyError("database \(database) does not exist on \(admin.endpointDescription): there is nothing to export, and pgcellar destroy drops nothing without a verified export")
        }
        let sessions = try admin.query("SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()", [database])
            .first?.int("n") ?? 0
        let managed = config.roles.map(\.name)
        let existing = Set(try admin.query("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])", [textArrayParameter(managed)])
            .rows.compactMap { $0["rolname"] })
        let dependencies = try foreignDependencies(admin, roles: managed.filter(existing.contains), databaseOID: oid)
        var drop: [String] = []
        var kept: [DestroyPlan.KeptRole] = []
        for role in managed where existing.contains(role) {
            var reasons = dependencies[role] ?? []
            if role == admin.user { reasons.insert("it is the role of the admin connection", at: 0) }
            if reasons.isEmpty { drop.append(role) } else { kept.append(.init(name: role, reasons: reasons)) }
        }
        let drillServer = skipDrill ? nil : drillTarget.map { target in
            let info = try? target.parsed()
            return [info?.options["user"].map { $0 + "@" }, info?.options["host"], info?.options["port"].map { ":" + $0 }]
                .compactMap { $0 }.joined().nonEmpty ?? "the --drill-dsn server"
        } ?? "the same server"
        return DestroyPlan(database: database, endpoint: "\(admin.user)@\(admin.host):\(admin.port)", sessions: sessions,
                           rolesToDrop: drop, rolesKept: kept, rolesMissing: managed.filter { !existing.contains($0) },
                           drillServer: drillServer)
    }

    /// What each role owns or holds privileges on outside the database
    /// being destroyed (`pg_shdepend`), described by name where possible.
    func foreignDependencies(_ admin: Connection, roles: [String], databaseOID: String) throws -> [String: [String]] {
        guard !roles.isEmpty else { return [:] }
        let rows = try admin.query("""
            SELECT r.rolname, d.deptype::text AS deptype, d.dbid::text AS dbid, coalesce(db.datname, '') AS datname,
                   d.classid::text AS classid, d.objid::text AS objid, d.objsubid::text AS objsubid,
                   CASE WHEN d.dbid = 0 THEN (SELECT o.type || ' ' || o.identity FROM pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) o) END AS shared
              FROM pg_catalog.pg_shdepend d
              JOIN pg_catalog.pg_roles r ON d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = r.oid
              LEFT JOIN pg_catalog.pg_database db ON db.oid = d.dbid
             WHERE r.rolname = ANY($1::text[]) AND d.deptype <> 'p'
               AND d.dbid <> $2::oid
               AND NOT (d.classid = 'pg_catalog.pg_database'::regclass AND d.objid = $2::oid)
             ORDER BY r.rolname, db.datname, d.classid, d.objid
            """, [textArrayParameter(roles), databaseOID]).rows
        var byRole: [String: [String]] = [:]
        var describedIn: [String: Connection] = [:]
        defer { for connection in describedIn.values { connection.close() } }
        for row in rows {
            guard let role = row["rolname"], let deptype = row["deptype"] else { continue }
            let relation: String
            switch deptype {
            case "o": relation = "owner of"
            case "a": relation = "privileges on"
            case "r": relation = "named in policy"
            case "i": relation = "initial privileges on"
            default: relation = "depended on by"
            }
            var what: String
            let datname = row["datname"] ?? ""
            if let shared = row["shared"] {
                what = shared
            } else {
                what = "object \(row["classid"] ?? "?"):\(row["objid"] ?? "?")"
                do {
                    let connection: Connection
                    if let open = describedIn[datname] {
                        connection = open
                    } else {
                        connection = try connector.connect(database: datname, logger: logger)
                        describedIn[datname] = connection
                    }
                    if let described = try connection.query(
                        "SELECT o.type || ' ' || o.identity AS d FROM pg_catalog.pg_identify_object($1::oid, $2::oid, $3::int) o",
                        [row["classid"], row["objid"], row["objsubid"]]).first?["d"] {
                        what = described
                    }
                } catch {
                    logger.debug("cannot describe \(what) in database \(datname): \(error)")
                }
                what += " in database \(datname)"
            }
            byRole[role, default: []].append("\(relation) \(what)")
        }
        return byRole
    }

    // MARK: - Run

    /// Destroys the database and the managed roles that nothing else needs.
    ///
    /// - Parameter exportPath: Where the export goes (written atomically, 0600).
    /// - Throws: ``DestroyError`` or the underlying error; when the export or
    ///   its verification fails, connections are allowed again and nothing
    ///   is dropped.
    public func run(exportTo exportPath: String) throws -> DestroyReport {
        let admin = try connectAdmin()
        defer { admin.close() }
        let lockScope = "destroy:\(database)"
        try AdvisoryLock.acquire(admin, scope: lockScope, logger: logger)
        defer { AdvisoryLock.release(admin, scope: lockScope) }

        let plan = try plan(admin)
        let quoted = try admin.escapeIdentifier(database)

        // 0. Before anything changes: can the drill run, and how much room will it need?
        let sourceBytes = (try admin.query("SELECT pg_catalog.pg_database_size($1)::int8 AS size", [database]).first?.int("size")).map(Int64.init)
        if !skipDrill {
            let probe = try Driller.probe(server: drillServer, logger: logger)
            logger.info("the drill can run on \(probe.server); it needs room for about \(sourceBytes.map { "\($0) bytes" } ?? "the size of") \(database) (pg_database_size; PostgreSQL cannot report free disk)")
        } else {
            logger.warning("--no-drill: \(database) will be dropped without proving that its export restores")
        }

        // 1. No new connections, then no sessions.
        let gate = try ConnectionGate.close(database: database, quoted: quoted, admin: admin, logger: logger)
        let summary: ExportSummary
        let verification: ArchiveVerification
        var drill: DrillReport?
        do {
            try terminateSessions(admin)
            // 2. Export and verify.
            logger.info("exporting \(database) to \(exportPath)")
            summary = try export(to: exportPath)
            logger.info("verifying \(exportPath)")
            verification = try ArchiveVerifier.verify(path: exportPath)
            guard verification.rows == summary.rows, verification.header.database.name == database else {
                throw DestroyError("the export at \(exportPath) does not match what was exported (\(verification.rows) rows verified, \(summary.rows) exported)")
            }
            // 3. Drill, roles required: ownership and privileges must restore too.
            if !skipDrill {
                var options = DrillOptions(server: drillServer)
                options.requireRoles = true
                options.jobs = jobs
                logger.info("drilling \(exportPath)")
                let report: DrillReport
                do {
                    report = try Driller(options: options, logger: logger).run(archivePath: exportPath)
                } catch {
                    throw DestroyError("the drill of \(exportPath) could not run: \(error)", drillFailed: true)
                }
                guard report.passed else {
                    var lines = report.mismatches.map { "  mismatch: \($0)" }
                    if let failure = report.failure { lines.append("  failed: \(failure)") }
                    throw DestroyError("the drill of \(exportPath) did not match (\(report.mismatches.count) mismatches):\n" + lines.joined(separator: "\n"),
                                       drillFailed: true)
                }
                drill = report
            }
        } catch {
            gate.reopen()
            throw DestroyError("nothing was dropped, and \(database) accepts connections again: \(error)",
                               drillFailed: (error as? DestroyError)?.drillFailed ?? false)
        }

        // 3. Drop the database, then 4. the roles.
        logger.info("dropping database \(database)")
        do {
            try admin.execute("DROP DATABASE \(quoted) WITH (FORCE)")
        } catch {
            gate.reopen()
            throw DestroyError("the export \(exportPath) is verified, but dropping database \(database) failed (it accepts connections again): \(error)")
        }
        var dropped: [String] = []
        var kept = plan.rolesKept
        for role in plan.rolesToDrop {
            do {
                try admin.execute("DROP ROLE \(try admin.escapeIdentifier(role))")
                dropped.append(role)
            } catch {
                kept.append(.init(name: role, reasons: ["DROP ROLE failed: \(error)"]))
            }
        }
        return DestroyReport(plan: plan, exportPath: exportPath, exportedTables: summary.tables, exportedRows: verification.rows,
                             archiveBytes: verification.archiveBytes, databaseDropped: true, rolesDropped: dropped, rolesKept: kept,
                             sourceBytes: sourceBytes, drill: drill)
    }

    private func terminateSessions(_ admin: Connection) throws {
        let deadline = Date().addingTimeInterval(15)
        while true {
            let sessions = try admin.query("""
                SELECT pid::text AS pid, coalesce(usename::text, '?') AS role,
                       pg_catalog.pg_terminate_backend(pid)::text AS terminated
                  FROM pg_catalog.pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()
                """, [database]).rows
            if sessions.isEmpty { return }
            // A session that is just ending cannot be signalled either: only
            // give up when sessions outlast the deadline.
            let refused = sessions.filter { $0["terminated"] != "true" }
            let timeout: TimeInterval = refused.isEmpty ? 15 : 2
            guard Date() < deadline.addingTimeInterval(timeout - 15) else {
                let described = sessions.map { "pid \($0["pid"] ?? "?") as \($0["role"] ?? "?")" }.joined(separator: ", ")
                throw DestroyError(refused.isEmpty
                    ? "sessions on \(database) did not end after pg_terminate_backend (\(described))"
                    : "cannot terminate the sessions on \(database) (\(described)): the admin role needs membership in pg_signal_backend or in those roles")
            }
            logger.info("terminated \(sessions.count) session(s) on \(database)")
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    private func export(to path: String) throws -> ExportSummary {
        // The admin target, to the database being destroyed: the export
        // connects as the admin, the only role CONNECT is left to.
        let options = ExportOptions(target: connector.target.with(database: database), jobs: jobs, level: level)
        let file = try AtomicFileWriter(path: path, mode: 0o600)
        do {
            let summary = try Exporter(options: options, logger: logger).run(to: file)
            try file.commit()
            return summary
        } catch {
            file.abort()
            throw error
        }
    }
}

/// Keeps everyone but the admin role out of a database by revoking CONNECT
/// (ALLOW_CONNECTIONS false would lock out the export too, superusers
/// included; a connection limit does not bind superusers), and puts the
/// privileges back if the destroy stops.
struct ConnectionGate {
    let database: String
    let quoted: String
    let admin: Connection
    let logger: Logger
    /// The CONNECT grants revoked: grantee (nil for PUBLIC) and grant option.
    let revoked: [(grantee: String?, grantable: Bool)]
    /// Whether CONNECT was granted to the admin role for the export.
    let grantedToAdmin: Bool

    static func close(database: String, quoted: String, admin: Connection, logger: Logger) throws -> ConnectionGate {
        let rows = try admin.query("""
            SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
                   a.is_grantable::text AS grantable
              FROM pg_catalog.pg_database d,
                   LATERAL pg_catalog.aclexplode(coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))) a
             WHERE d.datname = $1 AND a.privilege_type = 'CONNECT'
            """, [database]).rows
        let revoked = rows.map { (grantee: $0["grantee"], grantable: $0["grantable"] == "true") }
        let grantToAdmin = !admin.isSuperuser
        logger.info("revoking CONNECT on \(database) from everyone but \(admin.user)")
        try admin.transaction {
            if grantToAdmin {
                try admin.execute("GRANT CONNECT ON DATABASE \(quoted) TO \(try admin.escapeIdentifier(admin.user))")
            }
            for grant in revoked where grant.grantee != admin.user || !grantToAdmin {
                let grantee = try grant.grantee.map { try admin.escapeIdentifier($0) } ?? "PUBLIC"
                try admin.execute("REVOKE CONNECT ON DATABASE \(quoted) FROM \(grantee) CASCADE")
            }
        }
        return ConnectionGate(database: database, quoted: quoted, admin: admin, logger: logger,
                              revoked: revoked, grantedToAdmin: grantToAdmin)
    }

    /// Grants back what ``close(database:quoted:admin:logger:)`` revoked.
    func reopen() {
        do {
            try admin.transaction {
                if grantedToAdmin, !revoked.contains(where: { $0.grantee == admin.user }) {
                    try admin.execute("REVOKE CONNECT ON DATABASE \(quoted) FROM \(try admin.escapeIdentifier(admin.user))")
                }
                for grant in revoked {
                    let grantee = try grant.grantee.map { try admin.escapeIdentifier($0) } ?? "PUBLIC"
                    try admin.execute("GRANT CONNECT ON DATABASE \(quoted) TO \(grantee)\(grant.grantable ? " WITH GRANT OPTION" : "")")
                }
            }
            logger.info("connections to \(database) are allowed again")
        } catch {
            logger.error("could not give CONNECT on \(database) back; grant it by hand: \(error)")
        }
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
