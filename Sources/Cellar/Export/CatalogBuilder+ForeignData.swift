import PostgresClient

// Foreign-data wrappers, servers, user mappings and foreign tables, written
// as pg_dump 15 writes them. A wrapper created by an extension (postgres_fdw,
// file_fdw) comes with CREATE EXTENSION; servers, mappings and tables on it
// are the database's own. Foreign tables have no rows in the archive.

extension CatalogBuilder {
    /// Reads and adds the family. Wrappers, servers and user mappings belong to
    /// no schema: only a whole-database export without --schema writes them,
    /// as pg_dump does. Foreign tables follow the table selection.
    /// - Parameter checks: CHECK constraints by relation oid.
    mutating func buildForeignData(checks: [UInt32: [ConstraintRow]]) throws {
        if wholeDatabase && selection.schemas.isEmpty {
            let wrappers: [ForeignDataWrapperRow] = try decodeRows(connection, CatalogQueries.foreignDataWrappers)
            for wrapper in wrappers where !excluded("pg_foreign_data_wrapper", wrapper.oid) { try addForeignDataWrapper(wrapper) }
            let servers: [ForeignServerRow] = try decodeRows(connection, CatalogQueries.foreignServers)
            var serverNames: [UInt32: ForeignServerRow] = [:]
            for server in servers where !excluded("pg_foreign_server", server.oid) {
                try addForeignServer(server)
                serverNames[server.oid] = server
            }
            let mappings: [UserMappingRow] = try decodeRows(connection, CatalogQueries.userMappings)
            var withPasswords: [String] = []
            for mapping in mappings {
                guard let server = serverNames[mapping.serverOid] else { continue }
                try addUserMapping(mapping, server: server)
                if mapping.hasPassword { withPasswords.append("\(mapping.user ?? "PUBLIC") on server \(server.name)") }
            }
            if !withPasswords.isEmpty {
                logger.warning("the archive holds the passwords of \(withPasswords.count) user mapping(s), as pg_dump does: \(withPasswords.joined(separator: ", ")); keep it as secret as those passwords")
            }
        }
        var tables: [ForeignTableRow] = []
        try CatalogCursor.forEachRow(connection, CatalogQueries.foreignTables, as: ForeignTableRow.self) { tables.append($0) }
        for table in tables {
            let relation = table.relation
            guard relationIncluded(schema: relation.schema, name: relation.name), !excluded("pg_class", relation.oid) else { continue }
            relationsByOid[relation.oid] = relation
            includedRelations.insert(relation.oid)
        }
        for table in tables where includedRelations.contains(table.relation.oid) {
            try addForeignTable(table, checks: checks[table.relation.oid] ?? [])
        }
    }

    mutating func addForeignDataWrapper(_ wrapper: ForeignDataWrapperRow) throws {
        let key = ObjectKey(catalog: "pg_foreign_data_wrapper", oid: wrapper.oid)
        represented[key] = key
        var sql = "CREATE FOREIGN DATA WRAPPER \(wrapper.qname)"
        if let handler = wrapper.handler { sql += " HANDLER \(handler)" }
        if let validator = wrapper.validator { sql += " VALIDATOR \(validator)" }
        if !wrapper.options.isEmpty { sql += " OPTIONS (\n    \(wrapper.options)\n)" }
        add(DumpObject(key: key, kind: .foreignDataWrapper, schema: nil, name: wrapper.name, owner: wrapper.owner,
                       section: .preData, sql: sql + ";\n\n"))
        let target = "FOREIGN DATA WRAPPER \(wrapper.qname)"
        try addOwner(of: key, kind: .foreignDataWrapper, target: target, schema: nil, name: wrapper.name,
                     owner: wrapper.owner, section: .preData)
        try addACL(of: key, target: target, schema: nil, name: "FOREIGN DATA WRAPPER \(wrapper.name)",
                   owner: wrapper.owner, privileges: wrapper.acl)
        commentable("pg_foreign_data_wrapper", wrapper.oid, CommentTarget(
            target: target, key: key, section: .preData, schema: nil, name: "FOREIGN DATA WRAPPER \(wrapper.name)", owner: wrapper.owner))
    }

    mutating func addForeignServer(_ server: ForeignServerRow) throws {
        let key = ObjectKey(catalog: "pg_foreign_server", oid: server.oid)
        represented[key] = key
        var sql = "CREATE SERVER \(server.qname)"
        if let type = server.type, !type.isEmpty { sql += " TYPE \(try SQLQuoting.literal(type))" }
        if let version = server.version, !version.isEmpty { sql += " VERSION \(try SQLQuoting.literal(version))" }
        sql += " FOREIGN DATA WRAPPER \(server.wrapper)"
        if !server.options.isEmpty { sql += " OPTIONS (\n    \(server.options)\n)" }
        add(DumpObject(key: key, kind: .server, schema: nil, name: server.name, owner: server.owner,
                       section: .preData, sql: sql + ";\n\n"))
        try addOwner(of: key, kind: .server, target: "SERVER \(server.qname)", schema: nil, name: server.name,
                     owner: server.owner, section: .preData)
        try addACL(of: key, target: "FOREIGN SERVER \(server.qname)", schema: nil, name: "FOREIGN SERVER \(server.name)",
                   owner: server.owner, privileges: server.acl)
        commentable("pg_foreign_server", server.oid, CommentTarget(
            target: "SERVER \(server.qname)", key: key, section: .preData, schema: nil, name: "SERVER \(server.name)", owner: server.owner))
    }

    /// A user mapping with its options, a password among them if it has one.
    mutating func addUserMapping(_ mapping: UserMappingRow, server: ForeignServerRow) throws {
        let key = ObjectKey(catalog: "pg_user_mapping", oid: mapping.oid)
        represented[key] = key
        noteRole(mapping.user, as: "user mapping")
        let user = try mapping.user.map { try roleQuoting.sql($0) } ?? "PUBLIC"
        var sql = "CREATE USER MAPPING FOR \(user) SERVER \(server.qname)"
        if !mapping.options.isEmpty { sql += " OPTIONS (\n    \(mapping.options)\n)" }
        add(DumpObject(key: key, kind: .userMapping, schema: nil, name: "USER MAPPING \(mapping.user ?? "public") SERVER \(server.name)",
                       owner: server.owner, section: .preData, sql: sql + ";\n\n",
                       dependencies: [ObjectKey(catalog: "pg_foreign_server", oid: server.oid)]))
    }

    /// CREATE FOREIGN TABLE with its columns, server and options, then what
    /// only ALTER sets (column options, statistics targets, storage), its
    /// partition attachment, column defaults, owner, privileges and comments.
    mutating func addForeignTable(_ table: ForeignTableRow, checks: [ConstraintRow]) throws {
        let relation = table.relation
        let key = ObjectKey(catalog: "pg_class", oid: relation.oid)
        represented[key] = key
        let columns = relation.columns ?? []
        let parents = relation.parents ?? []
        let partition = relation.ispartition
        var lines: [String] = []
        for column in columns where partition || column.islocal || parents.isEmpty {
            var line = "    \(column.qname) \(column.type)"
            if let expression = column.defaultExpr, let defaultOid = column.defaultOid {
                line += column.generated == "s" ? " GENERATED ALWAYS AS (\(expression)) STORED" : " DEFAULT \(expression)"
                represented[ObjectKey(catalog: "pg_attrdef", oid: defaultOid)] = key
            }
            if column.notnull { line += " NOT NULL" }
            if let collation = column.collation { line += " COLLATE \(collation)" }
            lines.append(line)
        }
        for check in checks where check.validated && (check.islocal || partition) && !excluded("pg_constraint", check.oid) {
            lines.append("    CONSTRAINT \(check.qname) \(check.definition)")
            represented[ObjectKey(catalog: "pg_constraint", oid: check.oid)] = key
        }
        var sql = "CREATE FOREIGN TABLE \(relation.qname) (\n\(lines.isEmpty ? "" : lines.joined(separator: ",\n") + "\n"))"
        if !partition, !parents.isEmpty { sql += "\nINHERITS (\(parents.joined(separator: ", ")))" }
        sql += "\nSERVER \(table.server)"
        if !table.options.isEmpty { sql += "\nOPTIONS (\n    \(table.options)\n)" }
        sql += ";\n"
        let optionsByColumn = Dictionary((table.columnOptions ?? []).map { ($0.num, $0.options) }, uniquingKeysWith: { first, _ in first })
        for column in columns {
            let alter = "ALTER FOREIGN TABLE ONLY \(relation.qname) ALTER COLUMN \(column.qname)"
            if !partition, !column.islocal, column.notnull, !parents.isEmpty { sql += "\(alter) SET NOT NULL;\n" }
            if let target = column.stattarget, target >= 0 { sql += "\(alter) SET STATISTICS \(target);\n" }
            if let storage = column.storage, let typstorage = column.typstorage, storage != typstorage,
               let name = ["p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"][storage] {
                sql += "\(alter) SET STORAGE \(name);\n"
            }
            if let options = column.options, !options.isEmpty { sql += "\(alter) SET (\(options.joined(separator: ", ")));\n" }
            if let options = optionsByColumn[column.num], !options.isEmpty {
                sql += "ALTER FOREIGN TABLE \(relation.qname) ALTER COLUMN \(column.qname) OPTIONS (\n    \(options)\n);\n"
            }
        }
        add(DumpObject(key: key, kind: .foreignTable, schema: relation.schema, name: relation.name, owner: relation.owner,
                       section: .preData, sql: sql + "\n"))
        if partition, let parent = parents.first, let parentOid = relation.parentOids?.first, let bound = relation.partbound {
            add(DumpObject(key: key.with(part: "attach"), kind: .tableAttach, schema: relation.schema, name: relation.name,
                           owner: relation.owner, section: .preData,
                           sql: "ALTER TABLE ONLY \(parent) ATTACH PARTITION \(relation.qname) \(bound);\n\n",
                           dependencies: [key, ObjectKey(catalog: "pg_class", oid: parentOid)]))
        }
        try addOwner(of: key, kind: .foreignTable, target: "FOREIGN TABLE \(relation.qname)", schema: relation.schema,
                     name: relation.name, owner: relation.owner, section: .preData)
        let columnPrivileges = columns.compactMap { column in column.acl.map { (column.qname, $0) } }
        try addACL(of: key, target: "TABLE \(relation.qname)", schema: relation.schema, name: "TABLE \(relation.name)",
                   owner: relation.owner, privileges: relation.acl, columnPrivileges: columnPrivileges)
        var comment = CommentTarget(target: "FOREIGN TABLE \(relation.qname)", key: key, section: .preData, schema: relation.schema,
                                    name: "FOREIGN TABLE \(relation.name)", owner: relation.owner)
        for column in columns { comment.columns[column.num] = column.qname }
        comment.qualifiedName = relation.qname
        commentable("pg_class", relation.oid, comment)
    }
}
