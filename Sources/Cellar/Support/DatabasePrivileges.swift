import PostgresClient

/// A privilege on a database, as `aclexplode` names it. The header carries
/// the name as text; only these three enter a GRANT.
enum DatabasePrivilege: String, Sendable, CaseIterable {
    case create = "CREATE"
    case temporary = "TEMPORARY"
    case connect = "CONNECT"
}

/// Who a GRANT or REVOKE names.
enum RoleSpec: Sendable, Equatable {
    case role(String)
    /// The role running the statement: the database's owner under `--no-owner`.
    case currentUser
    case `public`

    /// The role as SQL: a quoted identifier, `CURRENT_USER` or `PUBLIC`.
    func sql() throws -> String {
        switch self {
        case .role(let name): try SQLQuoting.identifier(name)
        case .currentUser: "CURRENT_USER"
        case .public: "PUBLIC"
        }
    }
}

/// The statements that give a database the privileges of an archived ACL.
enum DatabaseGrants {
    /// pg_dump's recipe: revoke the defaults from PUBLIC and the owner, then
    /// grant each privilege in ACL order, as its grantor (`SET ROLE`) where
    /// that is not the owner, so the copy's ACL names the same grantors.
    ///
    /// - Parameters:
    ///   - privileges: The archived ACL (never nil: a nil ACL is the default
    ///     and needs no statement).
    ///   - database: The database the statements name.
    ///   - sourceOwner: The archived database's owner.
    ///   - owner: Who owns the copy: the source owner, the `--owner` role, or
    ///     `CURRENT_USER` under `--no-owner`. The source owner's own
    ///     privileges and grants pass to it.
    /// - Throws: ``UnknownPrivilege`` for a privilege a database cannot have;
    ///   `ClientError` for a name libpq cannot quote.
    static func statements(privileges: [ArchiveHeader.Privilege], database: String, sourceOwner: String,
                           owner: RoleSpec) throws -> [String] {
        let target = "DATABASE \(try SQLQuoting.identifier(database))"
        var statements = [
            "REVOKE ALL ON \(target) FROM PUBLIC",
            "REVOKE ALL ON \(target) FROM \(try owner.sql())",
        ]
        for item in privileges {
            guard let privilege = DatabasePrivilege(rawValue: item.privilege) else {
                throw UnknownPrivilege(privilege: item.privilege)
            }
            let grantee: RoleSpec = switch item.grantee {
            case nil: .public
            case sourceOwner?: owner
            case let name?: .role(name)
            }
            let grant = "GRANT \(privilege.rawValue) ON \(target) TO \(try grantee.sql())\(item.grantable ? " WITH GRANT OPTION" : "")"
            if item.grantor == sourceOwner {
                // A superuser's GRANT is recorded as the owner's.
                statements.append(grant)
            } else {
                statements += ["SET ROLE \(try SQLQuoting.identifier(item.grantor))", grant, "RESET ROLE"]
            }
        }
        return statements
    }

    /// The roles the statements name, other than the source owner (whose
    /// part `owner` takes) and PUBLIC.
    static func roles(in privileges: [ArchiveHeader.Privilege], sourceOwner: String) -> Set<String> {
        var roles = Set<String>()
        for item in privileges {
            if let grantee = item.grantee, grantee != sourceOwner { roles.insert(grantee) }
            if item.grantor != sourceOwner { roles.insert(item.grantor) }
        }
        return roles
    }

    struct UnknownPrivilege: Error, CustomStringConvertible {
        var privilege: String
        var description: String {
            "the archive's database ACL holds the privilege \(privilege), which a database cannot have (the header is damaged or was edited)"
        }
    }
}
