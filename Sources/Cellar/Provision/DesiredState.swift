import Foundation

/// What the configuration asks the cluster to look like, in catalog terms.
///
/// Privilege names are the ones `aclexplode` reports (`SELECT`, `CONNECT`, ...),
/// so desired and actual state compare without translation.
public struct DesiredState: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        public var name: String
        public var profile: RoleProfile
        public var login: Bool
        public var connectionLimit: Int
        /// Where its Secret manifest lives, for login roles.
        public var secretPath: String?
    }

    /// The schema whose tables, sequences and default privileges are managed.
    public static let managedSchema = "public"

    public var database: DatabaseConfig
    public var roles: [Role]

    public init(config: PgcellarConfig) {
        database = config.database
        roles = config.roles.map { role in
            Role(name: role.name, profile: role.profile, login: role.login,
                 connectionLimit: role.connectionLimit ?? -1,
                 secretPath: config.resolvedSecretPath(for: role))
        }
    }

    /// Privileges PUBLIC must not have on the database: the seed's
    /// "limited to beersystem_stage only" means no one else connects.
    public static let privilegesRevokedFromPublic: Set<String> = ["CONNECT", "TEMPORARY"]
}

/// The privileges each profile gets, on each kind of object.
public enum ProfilePrivileges {
    public static let allTable: Set<String> = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    public static let allSequence: Set<String> = ["USAGE", "SELECT", "UPDATE"]

    public static func database(_ profile: RoleProfile) -> Set<String> {
        switch profile {
        case .owner: ["CONNECT", "CREATE", "TEMPORARY"]
        case .readwrite, .readonly: ["CONNECT"]
        }
    }

    public static func schema(_ profile: RoleProfile) -> Set<String> {
        switch profile {
        case .owner: ["USAGE", "CREATE"]
        case .readwrite, .readonly: ["USAGE"]
        }
    }

    public static func tables(_ profile: RoleProfile) -> Set<String> {
        switch profile {
        case .owner: allTable
        case .readwrite: ["SELECT", "INSERT", "UPDATE", "DELETE"]
        case .readonly: ["SELECT"]
        }
    }

    public static func sequences(_ profile: RoleProfile) -> Set<String> {
        switch profile {
        case .owner: allSequence
        case .readwrite: ["USAGE", "SELECT"]
        case .readonly: ["SELECT"]
        }
    }
}

/// Privilege lists in the order PostgreSQL's documentation gives them, so
/// plans read the same on every run.
enum PrivilegeOrder {
    static let order = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER",
                        "USAGE", "CREATE", "CONNECT", "TEMPORARY", "EXECUTE"]

    static func sorted(_ privileges: Set<String>) -> [String] {
        privileges.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
    }

    static func list(_ privileges: Set<String>) -> String {
        sorted(privileges).joined(separator: ", ")
    }
}
