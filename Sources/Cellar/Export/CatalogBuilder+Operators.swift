// Operators, operator families and operator classes, as pg_dump writes them.

extension CatalogBuilder {
    mutating func buildOperators() throws {
        guard wholeDatabase else { return }
        for row: OperatorRow in try decodeRows(connection, CatalogQueries.operators)
        where schemaIncluded(row.schema) && !excluded("pg_operator", row.oid) {
            try addOperator(row)
        }
        for row: OperatorFamilyRow in try decodeRows(connection, CatalogQueries.operatorFamilies)
        where schemaIncluded(row.schema) && !excluded("pg_opfamily", row.oid) {
            try addOperatorFamily(row)
        }
        for row: OperatorClassRow in try decodeRows(connection, CatalogQueries.operatorClasses)
        where schemaIncluded(row.schema) && !excluded("pg_opclass", row.oid) {
            try addOperatorClass(row)
        }
    }

    mutating func addOperator(_ row: OperatorRow) throws {
        let key = ObjectKey(catalog: "pg_operator", oid: row.oid)
        represented[key] = key
        var details = ["    FUNCTION = \(row.function ?? "")"]
        if let left = row.left { details.append("    LEFTARG = \(left)") }
        if let right = row.right { details.append("    RIGHTARG = \(right)") }
        if let commutator = row.commutator { details.append("    COMMUTATOR = \(commutator)") }
        if let negator = row.negator { details.append("    NEGATOR = \(negator)") }
        if row.merges { details.append("    MERGES") }
        if row.hashes { details.append("    HASHES") }
        if let restrict = row.restrict { details.append("    RESTRICT = \(restrict)") }
        if let join = row.join { details.append("    JOIN = \(join)") }
        let arguments = "(\(row.left ?? "NONE"), \(row.right ?? "NONE"))"
        let qualified = "\(row.qschema).\(row.name)"
        let name = "\(row.name) \(arguments)"
        add(DumpObject(key: key, kind: .operator, schema: row.schema, name: name, owner: row.owner, section: .preData,
                       sql: "CREATE OPERATOR \(qualified) (\n\(details.joined(separator: ",\n"))\n);\n\n"))
        let target = "OPERATOR \(qualified) \(arguments)"
        try addOwner(of: key, kind: .operator, target: target, schema: row.schema, name: name, owner: row.owner, section: .preData)
        commentable("pg_operator", row.oid, CommentTarget(target: target, key: key, section: .preData, schema: row.schema,
                                                          name: "OPERATOR \(name)", owner: row.owner))
    }

    mutating func addOperatorFamily(_ row: OperatorFamilyRow) throws {
        let key = ObjectKey(catalog: "pg_opfamily", oid: row.oid)
        represented[key] = key
        let target = "OPERATOR FAMILY \(row.qname) USING \(row.method)"
        var sql = "CREATE \(target);\n"
        let members = row.members ?? []
        if !members.isEmpty {
            // Loose members: pg_dump adds them in the family's own entry.
            sql += "ALTER \(target) ADD\n    \(members.map(\.text).joined(separator: ",\n    "));\n"
            for member in members {
                represented[ObjectKey(catalog: member.catalog, oid: member.oid)] = key
            }
        }
        let name = "\(row.name) USING \(row.method)"
        add(DumpObject(key: key, kind: .operatorFamily, schema: row.schema, name: name, owner: row.owner, section: .preData, sql: sql + "\n"))
        try addOwner(of: key, kind: .operatorFamily, target: target, schema: row.schema, name: name, owner: row.owner, section: .preData)
        commentable("pg_opfamily", row.oid, CommentTarget(target: target, key: key, section: .preData, schema: row.schema,
                                                          name: "OPERATOR FAMILY \(name)", owner: row.owner))
    }

    mutating func addOperatorClass(_ row: OperatorClassRow) throws {
        let key = ObjectKey(catalog: "pg_opclass", oid: row.oid)
        represented[key] = key
        var sql = "CREATE OPERATOR CLASS \(row.qname)\n    \(row.isDefault ? "DEFAULT " : "")FOR TYPE \(row.type) USING \(row.method)"
        if let family = row.family { sql += " FAMILY \(family)" }
        var items: [String] = []
        if let storage = row.storage { items.append("STORAGE \(storage)") }
        for member in row.members ?? [] {
            items.append(member.text)
            represented[ObjectKey(catalog: member.catalog, oid: member.oid)] = key
        }
        // A class needs one item at least; pg_dump names the type's own storage.
        if items.isEmpty { items.append("STORAGE \(row.type)") }
        sql += " AS\n    \(items.joined(separator: ",\n    "));\n"
        let name = "\(row.name) USING \(row.method)"
        add(DumpObject(key: key, kind: .operatorClass, schema: row.schema, name: name, owner: row.owner, section: .preData, sql: sql + "\n"))
        let target = "OPERATOR CLASS \(row.qname) USING \(row.method)"
        try addOwner(of: key, kind: .operatorClass, target: target, schema: row.schema, name: name, owner: row.owner, section: .preData)
        commentable("pg_opclass", row.oid, CommentTarget(target: target, key: key, section: .preData, schema: row.schema,
                                                         name: "OPERATOR CLASS \(name)", owner: row.owner))
    }
}
