import Foundation

/// What the cluster's catalogs say, read fresh on every run: there is no
/// state file to drift from reality.
public struct ClusterState: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        public var name: String
        public var canLogin: Bool
        public var superuser: Bool
        public var createDatabase: Bool
        public var createRole: Bool
        public var replication: Bool
        public var bypassRLS: Bool
        public var connectionLimit: Int

        public init(name: String, canLogin: Bool, superuser: Bool = false, createDatabase: Bool = false,
                    createRole: Bool = false, replication: Bool = false, bypassRLS: Bool = false, connectionLimit: Int = -1) {
            self.name = name
            self.canLogin = canLogin
            self.superuser = superuser
            self.createDatabase = createDatabase
            self.createRole = createRole
            self.replication = replication
            self.bypassRLS = bypassRLS
            self.connectionLimit = connectionLimit
        }
    }

    /// One entry of an exploded ACL; `grantee` is "" for PUBLIC.
    public struct Grant: Sendable, Hashable, Codable {
        public var grantee: String
        public var privilege: String

        public init(grantee: String, privilege: String) {
            self.grantee = grantee
            self.privilege = privilege
        }
    }

    public struct Database: Sendable, Equatable {
        public var owner: String
        public var encoding: String
        public var collate: String
        public var ctype: String
        public var localeProvider: String
        public var connectionLimit: Int
        public var grants: Set<Grant>

        public init(owner: String, encoding: String, collate: String, ctype: String, localeProvider: String = "c",
                    connectionLimit: Int = -1, grants: Set<Grant>) {
            self.owner = owner
            self.encoding = encoding
            self.collate = collate
            self.ctype = ctype
            self.localeProvider = localeProvider
            self.connectionLimit = connectionLimit
            self.grants = grants
        }
    }

    /// A table-like relation or a sequence in the managed schema.
    public struct Relation: Sendable, Equatable {
        public enum Kind: String, Sendable { case table, sequence }
        public var name: String
        public var kind: Kind
        public var owner: String
        public var grants: Set<Grant>

        public init(name: String, kind: Kind, owner: String, grants: Set<Grant>) {
            self.name = name
            self.kind = kind
            self.owner = owner
            self.grants = grants
        }
    }

    /// `pg_default_acl` entries for one creating role in the managed schema.
    public struct DefaultPrivileges: Sendable, Equatable {
        public var tables: Set<Grant> = []
        public var sequences: Set<Grant> = []
        public init(tables: Set<Grant> = [], sequences: Set<Grant> = []) {
            self.tables = tables
            self.sequences = sequences
        }
    }

    /// State inside the database, read over a connection to it.
    public struct Contents: Sendable, Equatable {
        public var schemaExists: Bool
        public var schemaGrants: Set<Grant>
        public var relations: [Relation]
        /// Keyed by the role whose future objects they cover.
        public var defaultPrivileges: [String: DefaultPrivileges]
        public var installedExtensions: Set<String>
        public var availableExtensions: [String: Bool]

        public init(schemaExists: Bool = true, schemaGrants: Set<Grant> = [], relations: [Relation] = [],
                    defaultPrivileges: [String: DefaultPrivileges] = [:], installedExtensions: Set<String> = [],
                    availableExtensions: [String: Bool] = [:]) {
            self.schemaExists = schemaExists
            self.schemaGrants = schemaGrants
            self.relations = relations
            self.defaultPrivileges = defaultPrivileges
            self.installedExtensions = installedExtensions
            self.availableExtensions = availableExtensions
        }
    }

    /// The admin connection's own standing.
    public struct Admin: Sendable, Equatable {
        public var name: String
        public var superuser: Bool
        public var createDatabase: Bool
        public var createRole: Bool
        /// Roles the admin is a member of (directly or not).
        public var memberOf: Set<String>

        public init(name: String, superuser: Bool, createDatabase: Bool, createRole: Bool, memberOf: Set<String> = []) {
            self.name = name
            self.superuser = superuser
            self.createDatabase = createDatabase
            self.createRole = createRole
            self.memberOf = memberOf
        }
    }

    public var admin: Admin
    public var serverVersionNumber: Int
    /// Managed roles that exist, by name.
    public var roles: [String: Role]
    /// nil when the database does not exist yet.
    public var database: Database?
    /// nil when the database does not exist yet.
    public var contents: Contents?
    /// What `pg_available_extension_versions` offers (name → trusted), read
    /// on the maintenance connection so a new database can be planned too.
    public var availableExtensionsForNewDatabase: [String: Bool] = [:]

    public init(admin: Admin, serverVersionNumber: Int = 150000, roles: [String: Role], database: Database?, contents: Contents?) {
        self.admin = admin
        self.serverVersionNumber = serverVersionNumber
        self.roles = roles
        self.database = database
        self.contents = contents
    }
}

extension Set where Element == ClusterState.Grant {
    /// The privileges one grantee holds ("" for PUBLIC).
    func privileges(of grantee: String) -> Set<String> {
        Set<String>(filter { $0.grantee == grantee }.map(\.privilege))
    }
}
