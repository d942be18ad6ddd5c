import PostgresClient

// Owners, privileges, default privileges and comments. Role names stay raw
// in `roles` and in each object's `owner`; SQL quotes them through
// `roleQuoting`.

extension CatalogBuilder {
    // MARK: - Owners and privileges

    mutating func addOwner(of key: ObjectKey, kind: ArchiveEntry.Kind, target: String, schema: String?, name: String,
                           owner: String, section: DumpSection) throws {
        noteRole(owner, as: "owner")
        add(DumpObject(key: key.with(part: "owner"), kind: .owner, schema: schema, name: "\(kind) \(name)", owner: owner,
                       section: section, sql: "ALTER \(target) OWNER TO \(try roleQuoting.sql(owner));\n\n", dependencies: [key]))
    }

    mutating func addACL(of key: ObjectKey, target: String, schema: String?, name: String, owner: String,
                         privileges: [PrivilegeRow]?, columnPrivileges: [(String, [PrivilegeRow])] = []) throws {
        var sql = ""
        if let privileges {
            sql += "REVOKE ALL ON \(target) FROM PUBLIC;\n"
            sql += "REVOKE ALL ON \(target) FROM \(try roleQuoting.sql(owner));\n"
            sql += try grantStatements(privileges, on: target, owner: owner)
        }
        for (column, privileges) in columnPrivileges {
            sql += try grantStatements(privileges, on: target, owner: owner, column: column)
        }
        guard !sql.isEmpty else { return }
        for privilege in (privileges ?? []) + columnPrivileges.flatMap(\.1) {
            noteRole(privilege.grantee, as: "grantee")
            noteRole(privilege.grantor, as: "grantor")
        }
        var dependencies: [ObjectKey] = [key]
        if added(key.with(part: "owner")) { dependencies.insert(key.with(part: "owner")) }
        add(DumpObject(key: key.with(part: "acl"), kind: .acl, schema: schema, name: name, owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: dependencies))
    }

    /// GRANT statements for consecutive privileges with the same grantee,
    /// grantor and grant option; a grantor other than the owner grants
    /// under SET SESSION AUTHORIZATION, as pg_dump does.
    func grantStatements(_ privileges: [PrivilegeRow], on target: String, owner: String, column: String? = nil) throws -> String {
        var sql = ""
        var index = 0
        while index < privileges.count {
            let first = privileges[index]
            var names: [String] = []
            while index < privileges.count, privileges[index].grantee == first.grantee,
                  privileges[index].grantor == first.grantor, privileges[index].grantable == first.grantable {
                names.append(privileges[index].privilege + (column.map { "(\($0))" } ?? ""))
                index += 1
            }
            let grant = "GRANT \(names.joined(separator: ",")) ON \(target) TO \(try roleQuoting.grantee(first.grantee))\(first.grantable ? " WITH GRANT OPTION" : "");\n"
            if first.grantor != owner {
                sql += "SET SESSION AUTHORIZATION \(try roleQuoting.sql(first.grantor));\n\(grant)RESET SESSION AUTHORIZATION;\n"
            } else {
                sql += grant
            }
        }
        return sql
    }

    mutating func addDefaultPrivileges(_ row: DefaultPrivilegeRow) throws {
        let objects: String
        switch row.objtype {
        case "r": objects = "TABLES"
        case "S": objects = "SEQUENCES"
        case "f": objects = "FUNCTIONS"
        case "T": objects = "TYPES"
        case "n": objects = "SCHEMAS"
        default: return
        }
        let role = try roleQuoting.sql(row.role)
        let prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE \(role)" + (row.qschema.map { " IN SCHEMA \($0)" } ?? "")
        var sql = ""
        if row.schema == nil {
            // A global entry replaces the built-in defaults: start from nothing.
            sql += "\(prefix) REVOKE ALL ON \(objects) FROM PUBLIC;\n\(prefix) REVOKE ALL ON \(objects) FROM \(role);\n"
        }
        for privilege in row.acl ?? [] { noteRole(privilege.grantee, as: "grantee") }
        noteRole(row.role, as: "owner")
        var index = 0
        let privileges = row.acl ?? []
        while index < privileges.count {
            let first = privileges[index]
            var names: [String] = []
            while index < privileges.count, privileges[index].grantee == first.grantee, privileges[index].grantable == first.grantable {
                names.append(privileges[index].privilege)
                index += 1
            }
            sql += "\(prefix) GRANT \(names.joined(separator: ",")) ON \(objects) TO \(try roleQuoting.grantee(first.grantee))\(first.grantable ? " WITH GRANT OPTION" : "");\n"
        }
        add(DumpObject(key: ObjectKey(catalog: "pg_default_acl", oid: row.oid), kind: .defaultACL, schema: row.schema,
                       name: "DEFAULT PRIVILEGES FOR \(objects)", owner: row.role, section: .postData, sql: sql + "\n"))
    }

    // MARK: - Comments

    mutating func addComments() throws {
        let descriptions: [DescriptionRow] = try decodeRows(connection, CatalogQueries.descriptions)
        var unattached: [String] = []
        for description in descriptions {
            switch attachment(description.catalog, description.oid, sub: description.sub) {
            case .notExported:
                continue
            case .unregistered:
                unattached.append("comment on \(description.object ?? "\(description.catalog) \(description.oid)")")
            case .target(let target, let what, let name):
                let part = description.sub == 0 ? "comment" : "comment:\(description.sub)"
                add(DumpObject(key: target.key.with(part: part), kind: .comment, schema: target.schema, name: name, owner: target.owner,
                               section: target.section, sql: "COMMENT ON \(what) IS \(try SQLQuoting.literal(description.description));\n\n",
                               dependencies: [target.key]))
            }
        }
        try refuseUnattached(unattached)
    }
}
