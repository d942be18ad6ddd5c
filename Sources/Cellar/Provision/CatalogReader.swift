import Foundation
import PostgresClient

/// Reads `ClusterState` from the catalogs. Read-only: nothing here writes,
/// so `plan` leaves no trace but SELECTs in the server's statement log.
public struct CatalogReader {
    public let desired: DesiredState

    public init(desired: DesiredState) {
        self.desired = desired
    }

    /// Reads the cluster-wide state on the maintenance connection, and the
    /// database's contents through `openDatabase` when the database exists.
    public func read(maintenance: Connection, openDatabase: () throws -> Connection) throws -> ClusterState {
        let admin = try readAdmin(maintenance)
        let roles = try readRoles(maintenance)
        let database = try readDatabase(maintenance)
        let available = try readAvailableExtensions(maintenance)
        var contents: ClusterState.Contents?
        if database != nil {
            let connection = try openDatabase()
            defer { connection.close() }
            contents = try readContents(connection)
            contents?.availableExtensions = available
        }
        var state = ClusterState(admin: admin, serverVersionNumber: maintenance.serverVersionNumber,
                                 roles: roles, database: database, contents: contents)
        state.availableExtensionsForNewDatabase = available
        return state
    }

    func readAdmin(_ connection: Connection) throws -> ClusterState.Admin {
        // PostgreSQL 16 separates membership from the right to SET ROLE; 15 has
        // only MEMBER. Creating a database owned by a role needs the latter.
        let option = connection.serverVersionNumber >= 160000 ? "SET" : "MEMBER"
        let names = desired.roles.map(\.name)
        let row = try connection.query("""
            SELECT r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole,
                   coalesce((SELECT json_agg(m.name) FROM unnest($1::text[]) AS m(name)
                             WHERE EXISTS (SELECT 1 FROM pg_roles x WHERE x.rolname = m.name)
                               AND pg_has_role(r.oid, (SELECT oid FROM pg_roles x WHERE x.rolname = m.name), $2)), '[]') AS member_of
            FROM pg_roles r WHERE r.rolname = current_user
            """, [textArrayParameter(names), option]).first
        guard let row else { throw ClientError("cannot read the admin role's attributes from pg_roles") }
        return ClusterState.Admin(name: try row.string("rolname"), superuser: try row.bool("rolsuper"),
                                  createDatabase: try row.bool("rolcreatedb"), createRole: try row.bool("rolcreaterole"),
                                  memberOf: Set(try row.json("member_of", as: [String].self)))
    }

    func readRoles(_ connection: Connection) throws -> [String: ClusterState.Role] {
        let result = try connection.query("""
            SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit
            FROM pg_roles WHERE rolname = ANY($1::text[])
            """, [textArrayParameter(desired.roles.map(\.name))])
        var roles: [String: ClusterState.Role] = [:]
        for row in result.rows {
            let name = try row.string("rolname")
            roles[name] = ClusterState.Role(
                name: name, canLogin: try row.bool("rolcanlogin"), superuser: try row.bool("rolsuper"),
                createDatabase: try row.bool("rolcreatedb"), createRole: try row.bool("rolcreaterole"),
                replication: try row.bool("rolreplication"), bypassRLS: try row.bool("rolbypassrls"),
                connectionLimit: try row.int("rolconnlimit"))
        }
        return roles
    }

    func readDatabase(_ connection: Connection) throws -> ClusterState.Database? {
        let provider = connection.serverVersionNumber >= 150000 ? "d.datlocprovider::text" : "'c'"
        let row = try connection.query("""
            SELECT pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding,
                   d.datcollate, d.datctype, \(provider) AS provider, d.datconnlimit,
                   \(Self.exploded("coalesce(d.datacl, acldefault('d', d.datdba))")) AS grants
            FROM pg_database d WHERE d.datname = $1
            """, [desired.database.name]).first
        guard let row else { return nil }
        return ClusterState.Database(
            owner: try row.string("owner"), encoding: try row.string("encoding"),
            collate: try row.string("datcollate"), ctype: try row.string("datctype"),
            localeProvider: try row.string("provider"), connectionLimit: try row.int("datconnlimit"),
            grants: Set(try row.json("grants", as: [ClusterState.Grant].self)))
    }

    func readAvailableExtensions(_ connection: Connection) throws -> [String: Bool] {
        guard !desired.database.extensions.isEmpty else { return [:] }
        let result = try connection.query("""
            SELECT name, bool_or(trusted OR superuser = false) AS trusted
            FROM pg_available_extension_versions WHERE name = ANY($1::text[]) GROUP BY name
            """, [textArrayParameter(desired.database.extensions)])
        var available: [String: Bool] = [:]
        for row in result.rows { available[try row.string("name")] = try row.bool("trusted") }
        return available
    }

    func readContents(_ connection: Connection) throws -> ClusterState.Contents {
        let schema = DesiredState.managedSchema
        var contents = ClusterState.Contents()
        let schemaRow = try connection.query("""
            SELECT \(Self.exploded("coalesce(n.nspacl, acldefault('n', n.nspowner))")) AS grants
            FROM pg_namespace n WHERE n.nspname = $1
            """, [schema]).first
        contents.schemaExists = schemaRow != nil
        contents.schemaGrants = Set(try schemaRow?.json("grants", as: [ClusterState.Grant].self) ?? [])

        let relations = try connection.query("""
            SELECT c.relname, c.relkind = 'S' AS is_sequence, pg_get_userbyid(c.relowner) AS owner,
                   \(Self.exploded("coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))")) AS grants
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            ORDER BY c.relname
            """, [schema])
        contents.relations = try relations.rows.map { row in
            ClusterState.Relation(name: try row.string("relname"), kind: try row.bool("is_sequence") ? .sequence : .table,
                                  owner: try row.string("owner"),
                                  grants: Set(try row.json("grants", as: [ClusterState.Grant].self)))
        }

        let defaults = try connection.query("""
            SELECT pg_get_userbyid(d.defaclrole) AS creator, d.defaclobjtype::text AS objtype,
                   \(Self.exploded("d.defaclacl")) AS grants
            FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
            WHERE n.nspname = $1 AND d.defaclobjtype IN ('r', 'S')
            """, [schema])
        for row in defaults.rows {
            let creator = try row.string("creator")
            let grants = Set(try row.json("grants", as: [ClusterState.Grant].self))
            var entry = contents.defaultPrivileges[creator] ?? .init()
            if try row.string("objtype") == "r" { entry.tables = grants } else { entry.sequences = grants }
            contents.defaultPrivileges[creator] = entry
        }

        let extensions = try connection.query("SELECT extname FROM pg_extension")
        contents.installedExtensions = Set(try extensions.rows.map { try $0.string("extname") })
        return contents
    }

    /// An ACL expression exploded to `[{"grantee": ..., "privilege": ...}]`,
    /// PUBLIC as "".
    static func exploded(_ acl: String) -> String {
        """
        coalesce((SELECT json_agg(json_build_object(
                     'grantee', CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END,
                     'privilege', a.privilege_type))
                  FROM aclexplode(\(acl)) AS a), '[]')
        """
    }
}
