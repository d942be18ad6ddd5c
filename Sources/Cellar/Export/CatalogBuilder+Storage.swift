// Column and storage details, written as pg_dump 15 writes them: appended to
// the statement of the relation, index or sequence they belong to, or (for a
// cloned trigger whose enable state differs from its parent's) as an entry of
// its own.

extension CatalogBuilder {
    /// Reads and adds the details of the objects already added.
    mutating func buildStorage() throws {
        func append(_ statements: String, to key: ObjectKey) {
            guard let index = positions[key], !statements.isEmpty else { return }
            var sql = objects[index].sql
            if sql.hasSuffix("\n\n") { sql.removeLast() }
            objects[index].sql = sql + statements + "\n"
        }
        func relationKey(_ oid: UInt32) -> ObjectKey { ObjectKey(catalog: "pg_class", oid: oid) }

        // Matviews: statistics targets, storage and options of their columns
        // (tables write theirs in CREATE TABLE's entry).
        for oid in includedRelations {
            guard let relation = relationsByOid[oid], relation.kind == "m" else { continue }
            var sql = ""
            for column in relation.columns ?? [] {
                let alter = "ALTER MATERIALIZED VIEW \(relation.qname) ALTER COLUMN \(column.qname)"
                if let target = column.stattarget, target >= 0 { sql += "\(alter) SET STATISTICS \(target);\n" }
                if let storage = column.storage, let typstorage = column.typstorage, storage != typstorage,
                   let name = ["p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"][storage] {
                    sql += "\(alter) SET STORAGE \(name);\n"
                }
                if let options = column.options, !options.isEmpty { sql += "\(alter) SET (\(options.joined(separator: ", ")));\n" }
            }
            append(sql, to: relationKey(oid))
        }

        var compression: [UInt32: String] = [:]
        try CatalogCursor.forEachRow(connection, CatalogQueries.columnCompression, as: ColumnCompressionRow.self) { row in
            guard let relation = relationsByOid[row.relationOid], includedRelations.contains(row.relationOid) else { return }
            compression[row.relationOid, default: ""] +=
                "ALTER \(Self.alterWord(relation.kind)) \(relation.qname) ALTER COLUMN \(row.qname) SET COMPRESSION \(row.method);\n"
        }
        for (oid, sql) in compression { append(sql, to: relationKey(oid)) }

        let toast: [ToastOptionsRow] = try decodeRows(connection, CatalogQueries.toastOptions)
        for row in toast where includedRelations.contains(row.relationOid) {
            guard let relation = relationsByOid[row.relationOid] else { continue }
            let options = row.options.map { "toast.\($0)" }.joined(separator: ", ")
            append("ALTER \(Self.alterWord(relation.kind)) \(relation.qname) SET (\(options));\n", to: relationKey(row.relationOid))
        }

        let unlogged: [UnloggedSequenceRow] = try decodeRows(connection, CatalogQueries.unloggedSequences)
        for row in unlogged {
            guard let index = positions[relationKey(row.oid)] else { continue }
            let sql = objects[index].sql
            if sql.hasPrefix("CREATE SEQUENCE ") {
                objects[index].sql = "CREATE UNLOGGED SEQUENCE " + sql.dropFirst("CREATE SEQUENCE ".count)
            } else {
                append("ALTER SEQUENCE \(row.qname) SET UNLOGGED;\n", to: relationKey(row.oid))
            }
        }

        let indexStatistics: [IndexStatisticsRow] = try decodeRows(connection, CatalogQueries.indexStatistics)
        for (indexOid, rows) in Dictionary(grouping: indexStatistics, by: \.indexOid) {
            guard positions[relationKey(indexOid)] != nil else { continue }
            let sql = rows.sorted { $0.num < $1.num }
                .map { "ALTER INDEX \($0.qname) ALTER COLUMN \($0.num) SET STATISTICS \($0.target);\n" }.joined()
            append(sql, to: relationKey(indexOid))
        }

        let triggers: [PartitionTriggerStateRow] = try decodeRows(connection, CatalogQueries.partitionTriggerStates)
        for trigger in triggers where includedRelations.contains(trigger.tableOid) && !excluded("pg_trigger", trigger.oid) {
            addPartitionTriggerState(trigger)
        }
    }

    /// The word ALTER takes for a relation kind.
    static func alterWord(_ kind: String) -> String {
        switch kind {
        case "m": return "MATERIALIZED VIEW"
        case "f": return "FOREIGN TABLE"
        default: return "TABLE ONLY"
        }
    }

    /// A trigger cloned onto a partition exists once its parent trigger does;
    /// only its enable state, when it differs from the parent's, is written.
    mutating func addPartitionTriggerState(_ trigger: PartitionTriggerStateRow) {
        let key = ObjectKey(catalog: "pg_trigger", oid: trigger.oid)
        represented[key] = key
        let action = Self.enableAction(trigger.enabled) ?? "ENABLE"
        let foreign = trigger.tableKind == "f" ? "FOREIGN " : ""
        let owner = relationsByOid[trigger.tableOid]?.owner
        add(DumpObject(key: key, kind: .trigger, schema: trigger.schema, name: "\(trigger.tableName) \(trigger.name)", owner: owner,
                       section: .postData, sql: "ALTER \(foreign)TABLE \(trigger.table) \(action) TRIGGER \(trigger.qname);\n\n",
                       dependencies: [ObjectKey(catalog: "pg_class", oid: trigger.tableOid),
                                      ObjectKey(catalog: "pg_trigger", oid: trigger.parentOid),
                                      ObjectKey(catalog: "pg_class", oid: trigger.tableOid, part: "attach")]))
    }
}
