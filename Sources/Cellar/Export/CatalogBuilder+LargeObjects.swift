// Large objects: one BLOB entry each (lo_create and owner), their ACLs and
// comments. Their bytes are written by `LargeObjectData` in the data phase.

extension CatalogBuilder {
    /// As pg_dump 15: large objects belong to whole-database exports only
    /// (not with --schema or --table), and are data (--data-only keeps them,
    /// --schema-only drops them).
    var exportsLargeObjects: Bool { wholeDatabase && selection.schemas.isEmpty && !selection.schemaOnly }

    mutating func buildLargeObjects() throws {
        guard exportsLargeObjects else { return }
        let rows: [LargeObjectRow] = try decodeRows(connection, CatalogQueries.largeObjects)
        for row in rows where !excluded("pg_largeobject", row.oid) { try addLargeObject(row) }
    }

    static func largeObjectName(_ oid: UInt32) -> String { "LARGE OBJECT \(oid)" }

    mutating func addLargeObject(_ row: LargeObjectRow) throws {
        let key = ObjectKey(catalog: "pg_largeobject", oid: row.oid)
        let name = Self.largeObjectName(row.oid)
        noteRole(row.owner, as: "owner")
        // The owner goes in its own OWNER entry (pg_dump puts it in the BLOB
        // entry), so that restore's --no-owner and --owner apply to it too.
        add(DumpObject(key: key, kind: .largeObject, schema: nil, name: name, owner: row.owner, section: .preData,
                       sql: "SELECT pg_catalog.lo_create('\(row.oid)');\n\n"))
        try addOwner(of: key, kind: .largeObject, target: name, schema: nil, name: name, owner: row.owner, section: .preData)
        try addACL(of: key, target: name, schema: nil, name: name, owner: row.owner, privileges: row.acl)
        largeObjects.append(row.oid)
        commentable("pg_largeobject", row.oid, CommentTarget(target: name, key: key, section: .preData, schema: nil,
                                                             name: name, owner: row.owner))
    }

    /// Whether the object is a large object's BLOB entry or one attached to
    /// it (owner, ACL, comment, label): those are data, as in pg_dump.
    static func isLargeObjectPart(_ object: DumpObject) -> Bool {
        object.key.catalog == "pg_largeobject"
    }
}
