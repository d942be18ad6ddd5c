import Foundation
import Logging
import PostgresClient

/// Closes a database to everyone but the destroy, and opens it again
/// exactly as it was, from the ``DestroyJournal``.
///
/// Closing is two steps. First CONNECT is revoked from every role that holds
/// it (the admin role keeps or gets it), so that no new application session
/// starts while the sessions are terminated and the export connects. Then,
/// once the export's own connections are open, `ALLOW_CONNECTIONS false`
/// keeps out the roles a revoke cannot: superusers, and members of the owner
/// (who may grant CONNECT back to themselves).
///
/// Reopening rewrites the whole ACL in one transaction, as pg_dump restores
/// one: every grantee's privileges are revoked, then the journaled items are
/// granted again in their order, each by its grantor. The database ends with
/// the same `datacl`, item for item; a database that had the default ACL
/// (`datacl` NULL) gets the same privileges written out.
enum DatabaseGate {
    // MARK: - Reading

    /// The database's identity, owner, ACL and `datallowconn`, for a journal.
    static func read(database: String, on connection: Connection) throws -> DestroyJournal? {
        guard let row = try connection.query("""
            SELECT d.oid::int8 AS oid, pg_catalog.pg_get_userbyid(d.datdba) AS owner, d.datallowconn::text AS allow,
                   d.datacl::text AS acltext, \(CatalogQueries.acl("d.datacl")) AS acl,
                   \(CatalogQueries.acl("coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))")) AS effective
              FROM pg_catalog.pg_database d WHERE d.datname = $1
            """, [database]).first else { return nil }
        return DestroyJournal(
            database: database, databaseOID: UInt32(try row.int("oid")), owner: try row.string("owner"),
            privileges: try row.optionalString("acl").map(decodePrivileges),
            effectivePrivileges: try decodePrivileges(try row.string("effective")),
            aclText: try row.optionalString("acltext"), allowConnections: try row.string("allow") == "true",
            exportPath: "", startedAt: Date())
    }

    /// The ACL in effect on the database with OID `oid`, exploded in order,
    /// its current name and `datallowconn`; nil when it is gone.
    static func current(oid: UInt32, on connection: Connection) throws
        -> (name: String, owner: String, privileges: [ArchiveHeader.Privilege], allowConnections: Bool, aclText: String?)? {
        guard let row = try connection.query("""
            SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba) AS owner, d.datallowconn::text AS allow, d.datacl::text AS acltext,
                   \(CatalogQueries.acl("coalesce(d.datacl, pg_catalog.acldefault('d', d.datdba))")) AS effective
              FROM pg_catalog.pg_database d WHERE d.oid = $1::oid
            """, [String(oid)]).first else { return nil }
        return (try row.string("datname"), try row.string("owner"), try decodePrivileges(try row.string("effective")),
                try row.string("allow") == "true", try row.optionalString("acltext"))
    }

    private static func decodePrivileges(_ json: String) throws -> [ArchiveHeader.Privilege] {
        try JSONDecoder().decode([ArchiveHeader.Privilege].self, from: Data(json.utf8))
    }

    // MARK: - Closing

    /// Revokes CONNECT from every role holding it but the admin role, which
    /// gets it when it is no superuser; then checks that nobody else holds it.
    ///
    /// - Throws: ``DestroyError`` when a grant survives the revoke (one made
    ///   by a grantor the admin role cannot act for); the caller reopens.
    static func revokeConnect(_ journal: DestroyJournal, on admin: Connection, logger: Logger) throws {
        guard let now = try current(oid: journal.databaseOID, on: admin) else {
            throw DestroyError("database \(journal.database) (OID \(journal.databaseOID)) disappeared before CONNECT was revoked")
        }
        let quoted = try admin.escapeIdentifier(now.name)
        let keepAdmin = !admin.isSuperuser
        logger.info("revoking CONNECT on \(now.name) from everyone but \(admin.user)")
        try admin.transaction {
            if keepAdmin {
                try admin.execute("GRANT CONNECT ON DATABASE \(quoted) TO \(try admin.escapeIdentifier(admin.user))")
            }
            var grantees: [String?] = []
            for item in now.privileges where item.privilege == "CONNECT" && !grantees.contains(item.grantee) {
                grantees.append(item.grantee)
            }
            for grantee in grantees where !(keepAdmin && grantee == admin.user) {
                // CASCADE: also the grants that grantee made with its grant option.
                try admin.execute("REVOKE CONNECT ON DATABASE \(quoted) FROM \(try grantee.map { try admin.escapeIdentifier($0) } ?? "PUBLIC") CASCADE")
            }
        }
        let left = try current(oid: journal.databaseOID, on: admin)?.privileges
            .filter { $0.privilege == "CONNECT" && !(keepAdmin && $0.grantee == admin.user) } ?? []
        guard left.isEmpty else {
            let named = left.map { "\($0.grantee ?? "PUBLIC") (granted by \($0.grantor))" }.joined(separator: ", ")
            throw DestroyError("CONNECT on \(now.name) could not be revoked from \(named): the admin role \(admin.user) cannot revoke grants made by those grantors")
        }
    }

    /// `ALTER DATABASE ... ALLOW_CONNECTIONS false`: from now on nobody,
    /// superusers included, opens a new session on the database.
    static func disallowConnections(_ journal: DestroyJournal, on admin: Connection, logger: Logger) throws {
        logger.info("setting ALLOW_CONNECTIONS false on \(journal.database): the export's connections are open")
        try admin.execute("ALTER DATABASE \(try admin.escapeIdentifier(journal.database)) ALLOW_CONNECTIONS false")
    }

    // MARK: - Reopening

    /// What a reopen found and did.
    enum Reopened {
        /// The ACL and `datallowconn` are as the journal says.
        case restored(name: String)
        /// The database is gone: the destroy dropped it.
        case dropped
    }

    /// Gives the database the ACL and `datallowconn` the journal recorded,
    /// in one transaction, and checks the result.
    ///
    /// - Throws: ``DestroyError`` when the statements fail or the result
    ///   differs; the journal must then stay for `--abort`.
    static func reopen(_ journal: DestroyJournal, on connection: Connection, logger: Logger) throws -> Reopened {
        guard let now = try current(oid: journal.databaseOID, on: connection) else { return .dropped }
        let statements = try reopenStatements(journal, current: now.privileges, name: now.name, allowConnections: now.allowConnections)
        do {
            try connection.transaction {
                for statement in statements { try connection.execute(statement) }
            }
        } catch {
            throw DestroyError("could not give \(now.name) its privileges back (\(error)); the statements were:\n  "
                               + statements.joined(separator: ";\n  ") + ";")
        }
        guard let after = try current(oid: journal.databaseOID, on: connection) else { return .dropped }
        guard after.privileges == journal.effectivePrivileges, after.allowConnections == journal.allowConnections else {
            throw DestroyError("after reopening, \(now.name) has ACL \(after.aclText ?? "default") and ALLOW_CONNECTIONS \(after.allowConnections), "
                               + "not the journaled \(journal.aclText ?? "default") and \(journal.allowConnections)")
        }
        logger.info("\(now.name) has its privileges back (\(after.aclText ?? "default")) and accepts connections as before")
        return .restored(name: now.name)
    }

    /// The statements that turn the `current` ACL into the journaled one.
    static func reopenStatements(_ journal: DestroyJournal, current: [ArchiveHeader.Privilege], name: String,
                                 allowConnections: Bool) throws -> [String] {
        let target = "DATABASE \(try SQLQuoting.identifier(name))"
        var grantees: [String?] = []
        for item in current where !grantees.contains(item.grantee) { grantees.append(item.grantee) }
        var statements = try grantees.map { grantee in
            "REVOKE ALL ON \(target) FROM \(try grantee.map(SQLQuoting.identifier) ?? "PUBLIC") CASCADE"
        }
        statements += try DatabaseGrants.statements(privileges: journal.effectivePrivileges, database: name,
                                                    sourceOwner: journal.owner, owner: .role(journal.owner))
        if allowConnections != journal.allowConnections {
            statements.append("ALTER \(target) ALLOW_CONNECTIONS \(journal.allowConnections)")
        }
        return statements
    }
}
