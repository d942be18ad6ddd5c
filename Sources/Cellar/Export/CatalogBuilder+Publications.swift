import Logging
import PostgresClient

// Publications, their tables and schemas, and subscriptions, as pg_dump 15's
// dumpPublication, dumpPublicationTable, dumpPublicationNamespace and
// dumpSubscription write them. Like pg_dump, only a whole-database export
// has them (not --schema or --table).

extension CatalogBuilder {
    mutating func buildPublications() throws {
        guard wholeDatabase, selection.schemas.isEmpty else { return }
        let publications: [PublicationRow] = try decodeRows(connection, CatalogQueries.publications)
        var names: [UInt32: PublicationRow] = [:]
        for publication in publications where !excluded("pg_publication", publication.oid) {
            names[publication.oid] = publication
            try addPublication(publication)
        }
        let tables: [PublicationTableRow] = try decodeRows(connection, CatalogQueries.publicationTables)
        for table in tables where includedRelations.contains(table.tableOid) && !excluded("pg_publication_rel", table.oid) {
            guard let publication = names[table.publicationOid] else { continue }
            addPublicationTable(table, of: publication)
        }
        let schemas: [PublicationSchemaRow] = try decodeRows(connection, CatalogQueries.publicationSchemas)
        for schema in schemas where !excluded("pg_publication_namespace", schema.oid) {
            guard let publication = names[schema.publicationOid] else { continue }
            let key = ObjectKey(catalog: "pg_publication_namespace", oid: schema.oid)
            represented[key] = key
            add(DumpObject(key: key, kind: .publicationTablesInSchema, schema: schema.schema, name: "\(publication.name) \(schema.schema)",
                           owner: nil, section: .postData,
                           sql: "ALTER PUBLICATION \(publication.qname) ADD TABLES IN SCHEMA \(schema.qschema);\n\n",
                           dependencies: [ObjectKey(catalog: "pg_publication", oid: publication.oid),
                                          ObjectKey(catalog: "pg_namespace", oid: schema.schemaOid)]))
        }
        try buildSubscriptions()
    }

    mutating func addPublication(_ publication: PublicationRow) throws {
        let key = ObjectKey(catalog: "pg_publication", oid: publication.oid)
        represented[key] = key
        let actions = [("insert", publication.insert), ("update", publication.update), ("delete", publication.delete),
                       ("truncate", publication.truncate)].filter(\.1).map(\.0)
        var sql = "CREATE PUBLICATION \(publication.qname)"
        if publication.allTables { sql += " FOR ALL TABLES" }
        sql += " WITH (publish = \(try SQLQuoting.literal(actions.joined(separator: ", ")))"
        if publication.viaRoot { sql += ", publish_via_partition_root = true" }
        sql += ");\n\n"
        add(DumpObject(key: key, kind: .publication, schema: nil, name: publication.name, owner: publication.owner, section: .postData, sql: sql))
        try addOwner(of: key, kind: .publication, target: "PUBLICATION \(publication.qname)", schema: nil, name: publication.name,
                     owner: publication.owner, section: .postData)
        commentable("pg_publication", publication.oid, CommentTarget(target: "PUBLICATION \(publication.qname)", key: key, section: .postData,
                                                                     schema: nil, name: "PUBLICATION \(publication.name)", owner: publication.owner))
    }

    mutating func addPublicationTable(_ table: PublicationTableRow, of publication: PublicationRow) {
        let key = ObjectKey(catalog: "pg_publication_rel", oid: table.oid)
        represented[key] = key
        var sql = "ALTER PUBLICATION \(publication.qname) ADD TABLE ONLY \(table.table)"
        if let columns = table.columns { sql += " (\(columns.joined(separator: ", ")))" }
        // pg_get_expr leaves out the parentheses of a bare WHERE TRUE.
        if let filter = table.rowFilter { sql += " WHERE (\(filter))" }
        sql += ";\n\n"
        add(DumpObject(key: key, kind: .publicationTable, schema: table.schema, name: "\(publication.name) \(table.tableName)", owner: nil,
                       section: .postData, sql: sql,
                       dependencies: [ObjectKey(catalog: "pg_publication", oid: publication.oid), ObjectKey(catalog: "pg_class", oid: table.tableOid)]))
    }

    /// Subscriptions need a superuser to be read; otherwise they are left
    /// out with a warning, as pg_dump does.
    mutating func buildSubscriptions() throws {
        guard connection.isSuperuser else {
            let count = try connection.query("""
                SELECT count(*) AS n FROM pg_catalog.pg_subscription s JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
                WHERE d.datname = pg_catalog.current_database()
                """).first?.int("n") ?? 0
            if count > 0 {
                logger.warning("subscriptions not exported: \(count) subscription(s) of this database need a superuser to be read (export as a superuser to include them)")
            }
            return
        }
        let subscriptions: [SubscriptionRow] = try decodeRows(connection, CatalogQueries.subscriptions)
        for subscription in subscriptions where !excluded("pg_subscription", subscription.oid) {
            try addSubscription(subscription)
        }
    }

    mutating func addSubscription(_ subscription: SubscriptionRow) throws {
        let key = ObjectKey(catalog: "pg_subscription", oid: subscription.oid)
        represented[key] = key
        var sql = "CREATE SUBSCRIPTION \(subscription.qname) CONNECTION \(try SQLQuoting.literal(subscription.conninfo)) "
        sql += "PUBLICATION \(subscription.publications.joined(separator: ", ")) WITH (connect = false, slot_name = "
        sql += try subscription.slotName.map { try SQLQuoting.literal($0) } ?? "NONE"
        if subscription.binary == "true" { sql += ", binary = true" }
        switch subscription.stream {
        case "true", "t": sql += ", streaming = on"
        case "p": sql += ", streaming = parallel"
        default: break
        }
        if let twoPhase = subscription.twoPhase, twoPhase != "d" { sql += ", two_phase = on" }
        if subscription.disableOnError == "true" { sql += ", disable_on_error = true" }
        if subscription.synchronousCommit != "off" { sql += ", synchronous_commit = \(subscription.synchronousCommitQ)" }
        sql += ");\n\n"
        add(DumpObject(key: key, kind: .subscription, schema: nil, name: subscription.name, owner: subscription.owner, section: .postData, sql: sql))
        try addOwner(of: key, kind: .subscription, target: "SUBSCRIPTION \(subscription.qname)", schema: nil, name: subscription.name,
                     owner: subscription.owner, section: .postData)
    }
}
