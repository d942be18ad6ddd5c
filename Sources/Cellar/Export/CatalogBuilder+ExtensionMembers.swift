// Extension member objects, as pg_dump 15 writes them: the extension creates
// its objects; the export adds the rows of its configuration tables that the
// extension marked for dumping (pg_extension_config_dump), restored after
// CREATE EXTENSION.

extension CatalogBuilder {
    mutating func buildExtensionMembers() throws {
        if wholeDatabase && selection.schemas.isEmpty {
            let changes: [InitialPrivilegeChangeRow] = try decodeRows(connection, CatalogQueries.initialPrivilegeChanges)
            for change in changes { try addInitialPrivilegeChange(change) }
        }
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

    /// REVOKE what the object was set up with and no longer has, GRANT what
    /// it has since gained: on a built-in object, or on an extension member
    /// after CREATE EXTENSION.
    private mutating func addInitialPrivilegeChange(_ change: InitialPrivilegeChangeRow) throws {
        let extensionKey = ObjectKey(catalog: "pg_extension", oid: change.extensionOid)
        guard change.extensionOid == 0 || added(extensionKey) else { return }
        var sql = ""
        for privilege in change.revoked ?? [] {
            let privilegeName = privilege.privilege + (change.column.map { "(\($0))" } ?? "")
            sql += "REVOKE \(privilegeName) ON \(change.target) FROM \(try roleQuoting.grantee(privilege.grantee));\n"
        }
        sql += try grantStatements(change.granted ?? [], on: change.target, owner: change.owner, column: change.column)
        guard !sql.isEmpty else { return }
        for privilege in (change.revoked ?? []) + (change.granted ?? []) {
            noteRole(privilege.grantee, as: "grantee")
            noteRole(privilege.grantor, as: "grantor")
        }
        let kind = change.target.prefix { $0 != " " }
        add(DumpObject(key: ObjectKey(catalog: change.catalog, oid: change.oid, part: change.sub == 0 ? "acl" : "acl:\(change.sub)"), kind: .acl, schema: change.schema,
                       name: "\(change.target.hasPrefix("FOREIGN DATA WRAPPER") ? "FOREIGN DATA WRAPPER" : String(kind)) \(change.name)",
                       owner: change.owner, section: .postData, sql: sql + "\n",
                       dependencies: change.extensionOid == 0 ? [] : [extensionKey]))
    }

    /// As pg_dump: with the extension in a whole-database export, or when
    /// --table names the table; never when --exclude-table does.
    private func configurationDataIncluded(_ table: ExtensionConfigurationRow) -> Bool {
        guard !selection.schemaOnly, !excludedPatterns.contains(where: { $0.matches(schema: table.schema, name: table.name) }) else {
            return false
        }
        if added(ObjectKey(catalog: "pg_extension", oid: table.extensionOid)) { return true }
        return tablePatterns.contains { $0.matches(schema: table.schema, name: table.name) }
    }
}
