import Foundation
import Logging
import PostgresClient

extension Destroyer {
    // MARK: - Plan

    /// Reads what a destroy would do; changes nothing.
    public func plan() throws -> DestroyPlan {
        let admin = try connectAdmin()
        defer { admin.close() }
        return try plan(admin)
    }

    /// - Parameter databaseMustExist: false when a resumed destroy may
    ///   already have dropped the database: the plan then only drops roles.
    func plan(_ admin: Connection, databaseMustExist: Bool = true) throws -> DestroyPlan {
        let found = try admin.query("""
            SELECT d.oid::text AS oid, pg_catalog.pg_database_size(d.oid)::int8 AS size
              FROM pg_catalog.pg_database d WHERE d.datname = $1
            """, [database]).first
        // Superusers pass any privilege check; a member of the owner may
        // grant CONNECT back to itself.
        let bypassing = try admin.query("""
            SELECT r.rolname FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
             WHERE d.datname = $1 AND r.rolcanlogin AND r.rolname <> current_user
               AND (r.rolsuper OR pg_catalog.pg_has_role(r.oid, d.datdba, 'MEMBER'))
             ORDER BY r.rolname
            """, [database]).rows.compactMap { $0["rolname"] }
        guard found != nil || !databaseMustExist else {
            throw DestroyError("database \(database) does not exist on \(admin.endpointDescription): there is nothing to export, and pgcellar destroy drops nothing without a verified export")
        }
        let oid = found?["oid"] ?? "0"
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
                           drillServer: drillServer,
                           rolesBypassingRevoke: bypassing,
                           databaseBytes: Int64(try found?.int("size") ?? 0))
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

}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
