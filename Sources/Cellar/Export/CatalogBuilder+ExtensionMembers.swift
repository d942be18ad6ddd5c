// Extension member objects, as pg_dump 15 writes them: the extension creates
// its objects; the export adds the rows of its configuration tables that the
// extension marked for dumping (pg_extension_config_dump), restored after
// CREATE EXTENSION.

extension CatalogBuilder {
    mutating func buildExtensionMembers() throws {
        let configurations: [ExtensionConfigurationRow] = try decodeRows(connection, CatalogQueries.extensionConfigurationData)
        for table in configurations where configurationDataIncluded(table) {
            let columns = table.columns ?? []
            let target = columns.isEmpty ? table.qname : "\(table.qname) (\(columns.joined(separator: ", ")))"
            // The condition is SQL the extension's script wrote, as pg_dump pastes it.
            let select = "SELECT \(columns.isEmpty ? "*" : columns.joined(separator: ", ")) FROM ONLY \(table.qname)"
            let condition = table.condition.isEmpty ? "" : " \(table.condition)"
            dataTables.append(TableDataSource(
                oid: table.oid, schema: table.schema, name: table.name, owner: table.owner, qualifiedName: table.qname,
                copyTarget: target, estimatedBytes: table.estimatedBytes, copySource: "(\(select)\(condition))",
                dependsOn: ObjectKey(catalog: "pg_extension", oid: table.extensionOid)))
        }
    }

    /// As pg_dump: with the extension in a whole-database export, or when
    /// --table names the table; never when --exclude-table does.
    private func configurationDataIncluded(_ table: ExtensionConfigurationRow) -> Bool {
        guard !selection.schemaOnly, !excludedPatterns.contains(where: { $0.matches(schema: table.schema, name: table.name) }) else {
            return false
        }
        if addedKeys.contains(ObjectKey(catalog: "pg_extension", oid: table.extensionOid)) { return true }
        return tablePatterns.contains { $0.matches(schema: table.schema, name: table.name) }
    }
}
