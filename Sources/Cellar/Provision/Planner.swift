import Foundation
import PostgresClient

/// Computes the minimal SQL that turns the cluster's state into the desired
/// one. Pure: no connection, so every decision is unit-tested.
///
/// Only what differs is written: a grant that exists is never re-issued,
/// nothing is revoked to be granted again, and a converged cluster yields an
/// empty plan.
public struct Planner {
    public var desired: DesiredState
    public var actual: ClusterState
    /// Secret files that exist, by path (the planner does not touch the disk).
    public var existingSecretFiles: Set<String>

    public init(desired: DesiredState, actual: ClusterState, existingSecretFiles: Set<String> = []) {
        self.desired = desired
        self.actual = actual
        self.existingSecretFiles = existingSecretFiles
    }

    public func plan() throws -> Plan {
        var plan = Plan()
        try planRoles(&plan)
        try planDatabase(&plan)
        try planContents(&plan)
        checkAdminRights(&plan)
        return plan
    }

    private var database: DatabaseConfig { desired.database }
    private var schema: String { DesiredState.managedSchema }

    // MARK: - Roles

    private func planRoles(_ plan: inout Plan) throws {
        for role in desired.roles {
            let name = try ident(role.name)
            guard let existing = actual.roles[role.name] else {
                var sql = "CREATE ROLE \(name) \(role.login ? "LOGIN" : "NOLOGIN") NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT \(role.connectionLimit)"
                var password: PlanStep.NewRolePassword?
                var summary = "create role \(role.name) (\(role.profile))"
                if role.login, let secretPath = role.secretPath {
                    sql += " PASSWORD"
                    password = .init(role: role.name, secretPath: secretPath)
                    summary += "; its generated password is written to \(secretPath) first"
                }
                plan.steps.append(PlanStep(phase: .roles, action: .create, summary: summary, sql: sql, newRolePassword: password))
                continue
            }
            var changes: [String] = []
            if existing.canLogin != role.login { changes.append(role.login ? "LOGIN" : "NOLOGIN") }
            if existing.superuser { changes.append("NOSUPERUSER") }
            if existing.createDatabase { changes.append("NOCREATEDB") }
            if existing.createRole { changes.append("NOCREATEROLE") }
            if existing.replication { changes.append("NOREPLICATION") }
            if existing.bypassRLS { changes.append("NOBYPASSRLS") }
            if existing.connectionLimit != role.connectionLimit { changes.append("CONNECTION LIMIT \(role.connectionLimit)") }
            if !changes.isEmpty {
                plan.steps.append(PlanStep(phase: .roles, action: .alter,
                                           summary: "alter role \(role.name): \(changes.joined(separator: ", "))",
                                           sql: "ALTER ROLE \(name) \(changes.joined(separator: " "))"))
            }
            if role.login, let secretPath = role.secretPath, !existingSecretFiles.contains(secretPath) {
                plan.warnings.append("role \(role.name) exists but its Secret \(secretPath) does not; provision leaves existing passwords alone — run `pgcellar rotate --role \(role.name)` to issue one")
            }
        }
        // PostgreSQL 15 lets a non-superuser create a database owned by a role,
        // and manage that role's default privileges, only as a member of it.
        let admin = actual.admin
        if !admin.superuser, !admin.memberOf.contains(database.owner) {
            plan.steps.append(PlanStep(
                phase: .roles, action: .grant,
                summary: "grant membership in \(database.owner) to the admin \(admin.name): PostgreSQL requires it to create a database owned by \(database.owner) and to set its default privileges",
                sql: "GRANT \(try ident(database.owner)) TO \(try ident(admin.name))"))
        }
    }

    // MARK: - Database

    /// The database's ACL as it will be when the database phase starts.
    private func effectiveDatabaseGrants() -> Set<ClusterState.Grant> {
        guard let existing = actual.database else {
            // acldefault('d', owner): PUBLIC may connect and create temp tables.
            return [.init(grantee: "", privilege: "CONNECT"), .init(grantee: "", privilege: "TEMPORARY"),
                    .init(grantee: database.owner, privilege: "CONNECT"), .init(grantee: database.owner, privilege: "CREATE"),
                    .init(grantee: database.owner, privilege: "TEMPORARY")]
        }
        guard existing.owner != database.owner else { return existing.grants }
        // ALTER DATABASE ... OWNER TO moves the old owner's entries to the new owner.
        return Set(existing.grants.map { grant in
            grant.grantee == existing.owner ? .init(grantee: database.owner, privilege: grant.privilege) : grant
        })
    }

    private func planDatabase(_ plan: inout Plan) throws {
        let name = try ident(database.name)
        if let existing = actual.database {
            if normalizedEncoding(existing.encoding) != normalizedEncoding(database.encoding) {
                plan.problems.append("database \(database.name) has encoding \(existing.encoding) but the configuration asks for \(database.encoding); an encoding cannot be changed in place and pgcellar never drops a database to recreate it — export it, then recreate it deliberately, or change the configuration")
            }
            if let locale = database.locale,
               !LocaleName.sameLocale(existing.collate, locale) || !LocaleName.sameLocale(existing.ctype, locale) {
                plan.problems.append("database \(database.name) has lc_collate \(existing.collate) and lc_ctype \(existing.ctype) but the configuration asks for \(locale); a locale cannot be changed in place and pgcellar never drops a database to recreate it — export it, then recreate it deliberately, or change the configuration")
            }
            if existing.owner != database.owner {
                plan.steps.append(PlanStep(phase: .database, action: .alter,
                                           summary: "change the owner of database \(database.name) from \(existing.owner) to \(database.owner)",
                                           sql: "ALTER DATABASE \(name) OWNER TO \(try ident(database.owner))"))
            }
            if existing.connectionLimit != database.connectionLimit {
                plan.steps.append(PlanStep(phase: .database, action: .alter,
                                           summary: "set the connection limit of database \(database.name) to \(database.connectionLimit)",
                                           sql: "ALTER DATABASE \(name) CONNECTION LIMIT \(database.connectionLimit)"))
            }
        } else {
            var sql = "CREATE DATABASE \(name) OWNER \(try ident(database.owner)) ENCODING \(try SQLQuoting.literal(database.encoding))"
            if let locale = database.locale {
                let literal = try SQLQuoting.literal(locale)
                sql += " LC_COLLATE \(literal) LC_CTYPE \(literal)"
            }
            sql += " TEMPLATE \(try ident(database.template)) CONNECTION LIMIT \(database.connectionLimit)"
            plan.steps.append(PlanStep(phase: .createDatabase, action: .create,
                                       summary: "create database \(database.name) owned by \(database.owner)", sql: sql))
        }

        let grants = effectiveDatabaseGrants()
        let publicExtra = grants.privileges(of: "").intersection(DesiredState.privilegesRevokedFromPublic)
        if !publicExtra.isEmpty {
            let list = PrivilegeOrder.list(publicExtra)
            plan.steps.append(PlanStep(phase: .database, action: .revoke,
                                       summary: "revoke \(list) on database \(database.name) from PUBLIC, so only its own roles connect",
                                       sql: "REVOKE \(list) ON DATABASE \(name) FROM PUBLIC"))
        }
        for role in desired.roles {
            let wanted = ProfilePrivileges.database(role.profile)
            let held = grants.privileges(of: role.name)
            try appendGrantAndRevoke(&plan, phase: .database, role: role.name, wanted: wanted, held: held,
                                     revokeExtra: role.name != database.owner,
                                     on: "DATABASE \(name)", what: "database \(database.name)")
        }
    }

    // MARK: - Inside the database

    /// The contents of a database that does not exist yet: template0's.
    private var freshContents: ClusterState.Contents {
        ClusterState.Contents(
            schemaExists: true,
            schemaGrants: [.init(grantee: "pg_database_owner", privilege: "USAGE"),
                           .init(grantee: "pg_database_owner", privilege: "CREATE"),
                           .init(grantee: "", privilege: "USAGE")],
            availableExtensions: actual.availableExtensionsForNewDatabase)
    }

    private func planContents(_ plan: inout Plan) throws {
        let contents = actual.contents ?? freshContents
        let schemaName = try ident(schema)

        for extensionName in database.extensions where !contents.installedExtensions.contains(extensionName) {
            if contents.availableExtensions[extensionName] == nil {
                plan.problems.append("extension \(extensionName) is not available on the server (see pg_available_extensions); install the package that provides it on the database server (for uuid-ossp and pgcrypto: postgresql-contrib) or remove it from database.extensions")
                continue
            }
            if !actual.admin.superuser, contents.availableExtensions[extensionName] == false {
                plan.problems.append("extension \(extensionName) is not trusted, so only a superuser can create it; ask a superuser to run CREATE EXTENSION \(extensionName) in \(database.name), or remove it from database.extensions")
                continue
            }
            plan.steps.append(PlanStep(phase: .contents, action: .create,
                                       summary: "create extension \(extensionName)",
                                       sql: "CREATE EXTENSION IF NOT EXISTS \(try ident(extensionName))"))
        }

        var schemaGrants = contents.schemaGrants
        if !contents.schemaExists {
            plan.steps.append(PlanStep(phase: .contents, action: .create,
                                       summary: "create schema \(schema) owned by \(database.owner)",
                                       sql: "CREATE SCHEMA \(schemaName) AUTHORIZATION \(try ident(database.owner))"))
            schemaGrants = [.init(grantee: database.owner, privilege: "USAGE"), .init(grantee: database.owner, privilege: "CREATE")]
        }
        for role in desired.roles {
            try appendGrantAndRevoke(&plan, phase: .contents, role: role.name,
                                     wanted: ProfilePrivileges.schema(role.profile),
                                     held: schemaGrants.privileges(of: role.name),
                                     revokeExtra: role.name != database.owner,
                                     on: "SCHEMA \(schemaName)", what: "schema \(schema)")
        }

        try planRelationGrants(&plan, contents: contents)
        try planDefaultPrivileges(&plan, contents: contents)
    }

    private func planRelationGrants(_ plan: inout Plan, contents: ClusterState.Contents) throws {
        struct Key: Hashable {
            var role: String
            var kind: ClusterState.Relation.Kind
            var privileges: [String]
            var action: PlanStep.Action
        }
        var groups: [Key: [String]] = [:]
        var order: [Key] = []
        for role in desired.roles {
            for relation in contents.relations where relation.owner != role.name {
                let wanted = relation.kind == .table ? ProfilePrivileges.tables(role.profile) : ProfilePrivileges.sequences(role.profile)
                let held = relation.grants.privileges(of: role.name)
                for (action, privileges) in [(PlanStep.Action.grant, wanted.subtracting(held)), (.revoke, held.subtracting(wanted))]
                where !privileges.isEmpty {
                    let key = Key(role: role.name, kind: relation.kind, privileges: PrivilegeOrder.sorted(privileges), action: action)
                    if groups[key] == nil { order.append(key) }
                    groups[key, default: []].append(relation.name)
                }
            }
        }
        for key in order {
            let names = groups[key]!.sorted()
            let objects = try names.map { try SQLQuoting.qualified(schema, $0) }.joined(separator: ", ")
            let noun = key.kind == .table ? "TABLE" : "SEQUENCE"
            let list = key.privileges.joined(separator: ", ")
            let shown = names.count <= 3 ? names.joined(separator: ", ") : "\(names.count) \(key.kind.rawValue)s"
            if key.action == .grant {
                plan.steps.append(PlanStep(phase: .contents, action: .grant,
                                           summary: "grant \(list) on \(key.kind.rawValue) \(shown) to \(key.role)",
                                           sql: "GRANT \(list) ON \(noun) \(objects) TO \(try ident(key.role))"))
            } else {
                plan.steps.append(PlanStep(phase: .contents, action: .revoke,
                                           summary: "revoke \(list) on \(key.kind.rawValue) \(shown) from \(key.role)",
                                           sql: "REVOKE \(list) ON \(noun) \(objects) FROM \(try ident(key.role))"))
            }
        }
    }

    private func planDefaultPrivileges(_ plan: inout Plan, contents: ClusterState.Contents) throws {
        let creator = database.owner
        let defaults = contents.defaultPrivileges[creator] ?? .init()
        let prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE \(try ident(creator)) IN SCHEMA \(try ident(schema))"
        for role in desired.roles {
            for (noun, wanted, held) in [
                ("TABLES", ProfilePrivileges.tables(role.profile), defaults.tables.privileges(of: role.name)),
                ("SEQUENCES", ProfilePrivileges.sequences(role.profile), defaults.sequences.privileges(of: role.name)),
            ] {
                let missing = wanted.subtracting(held)
                let extra = held.subtracting(wanted)
                if !missing.isEmpty {
                    let list = PrivilegeOrder.list(missing)
                    plan.steps.append(PlanStep(phase: .contents, action: .grant,
                                               summary: "grant \(list) on future \(noun.lowercased()) that \(creator) creates in \(schema) to \(role.name)",
                                               sql: "\(prefix) GRANT \(list) ON \(noun) TO \(try ident(role.name))"))
                }
                if !extra.isEmpty {
                    let list = PrivilegeOrder.list(extra)
                    plan.steps.append(PlanStep(phase: .contents, action: .revoke,
                                               summary: "revoke \(list) on future \(noun.lowercased()) that \(creator) creates in \(schema) from \(role.name)",
                                               sql: "\(prefix) REVOKE \(list) ON \(noun) FROM \(try ident(role.name))"))
                }
            }
        }
    }

    // MARK: - Rights

    private func checkAdminRights(_ plan: inout Plan) {
        let admin = actual.admin
        guard !admin.superuser else { return }
        let needsCreateRole = plan.steps.contains { $0.phase == .roles && ($0.action == .create || $0.action == .alter) }
        let needsCreateDatabase = plan.steps.contains { $0.phase == .createDatabase }
        if needsCreateRole && !admin.createRole {
            plan.problems.append("the admin role \(admin.name) lacks CREATEROLE, which creating and altering roles needs; as a superuser run ALTER ROLE \(admin.name) CREATEROLE, or connect with --admin-dsn as a role that has it")
        }
        if needsCreateDatabase && !admin.createDatabase {
            plan.problems.append("the admin role \(admin.name) lacks CREATEDB, which creating \(database.name) needs; as a superuser run ALTER ROLE \(admin.name) CREATEDB, or connect with --admin-dsn as a role that has it")
        }
        if let owner = actual.roles[database.owner], owner.superuser {
            plan.problems.append("the owner role \(database.owner) is a superuser; only a superuser can change that (ALTER ROLE \(database.owner) NOSUPERUSER)")
        }
    }

    // MARK: - Helpers

    private func appendGrantAndRevoke(_ plan: inout Plan, phase: PlanStep.Phase, role: String, wanted: Set<String>,
                                      held: Set<String>, revokeExtra: Bool, on object: String, what: String) throws {
        let missing = wanted.subtracting(held)
        if !missing.isEmpty {
            let list = PrivilegeOrder.list(missing)
            plan.steps.append(PlanStep(phase: phase, action: .grant, summary: "grant \(list) on \(what) to \(role)",
                                       sql: "GRANT \(list) ON \(object) TO \(try ident(role))"))
        }
        let extra = held.subtracting(wanted)
        if revokeExtra, !extra.isEmpty {
            let list = PrivilegeOrder.list(extra)
            plan.steps.append(PlanStep(phase: phase, action: .revoke, summary: "revoke \(list) on \(what) from \(role)",
                                       sql: "REVOKE \(list) ON \(object) FROM \(try ident(role))"))
        }
    }

    private func ident(_ name: String) throws -> String { try SQLQuoting.identifier(name) }

    private func normalizedEncoding(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
    }
}

/// Locale names as the C library spells them: `en_US.UTF-8`, `en_US.utf8`
/// and `en_US.UTF8` all name the same locale.
public enum LocaleName {
    /// Lowercases the codeset and drops its punctuation: "en_US.UTF-8" → "en_US.utf8".
    public static func normalized(_ name: String) -> String {
        guard let dot = name.firstIndex(of: ".") else { return name }
        let language = name[..<dot]
        var codeset = name[name.index(after: dot)...]
        var modifier = ""
        if let at = codeset.firstIndex(of: "@") {
            modifier = String(codeset[at...])
            codeset = codeset[..<at]
        }
        let cleaned = codeset.lowercased().filter { $0.isLetter || $0.isNumber }
        return "\(language).\(cleaned)\(modifier)"
    }

    public static func sameLocale(_ a: String, _ b: String) -> Bool {
        normalized(a) == normalized(b)
    }

    /// Spellings to try, most likely first, for a server that knows one of them.
    public static func variants(_ name: String) -> [String] {
        var result = [name, normalized(name)]
        if let dot = name.firstIndex(of: "."), name[name.index(after: dot)...].lowercased().hasPrefix("utf") {
            let language = name[..<dot]
            result += ["\(language).UTF-8", "\(language).utf8", "\(language).UTF8"]
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }
}
