import PostgresClient

// Collations. Columns, domains and indexes that use one come after it
// through pg_depend; the collation version is not exported (pg_dump leaves
// it to the restoring server, outside binary upgrades).

extension CatalogBuilder {
    mutating func buildCollations() throws {
        guard wholeDatabase else { return }
        let collations: [CollationRow] = try decodeRows(connection, CatalogQueries.collations)
        for collation in collations where schemaIncluded(collation.schema) && !excluded("pg_collation", collation.oid) {
            try addCollation(collation)
        }
    }

    mutating func addCollation(_ collation: CollationRow) throws {
        let key = ObjectKey(catalog: "pg_collation", oid: collation.oid)
        represented[key] = key
        add(DumpObject(key: key, kind: .collation, schema: collation.schema, name: collation.name, owner: collation.owner,
                       section: .preData, sql: try Self.collationStatement(collation) + "\n\n"))
        try addOwner(of: key, kind: .collation, target: "COLLATION \(collation.qname)", schema: collation.schema,
                     name: collation.name, owner: collation.owner, section: .preData)
        commentable("pg_collation", collation.oid, CommentTarget(target: "COLLATION \(collation.qname)", key: key, section: .preData,
                                                                 schema: collation.schema, name: "COLLATION \(collation.name)", owner: collation.owner))
    }

    /// `CREATE COLLATION ... (provider = ..., locale = ...);` as pg_dump 15 writes it.
    static func collationStatement(_ collation: CollationRow) throws -> String {
        var options: [String]
        switch collation.provider {
        case "c": options = ["provider = libc"]
        case "i": options = ["provider = icu"]
        default: throw CollationProviderError(collation: collation.qname, provider: collation.provider)
        }
        if !collation.deterministic { options.append("deterministic = false") }
        if let locale = collation.iculocale {
            options.append("locale = \(try SQLQuoting.literal(locale))")
        } else if let collate = collation.collate, let ctype = collation.ctype, collate != ctype {
            options.append("lc_collate = \(try SQLQuoting.literal(collate))")
            options.append("lc_ctype = \(try SQLQuoting.literal(ctype))")
        } else {
            options.append("locale = \(try SQLQuoting.literal(collation.collate ?? collation.ctype ?? ""))")
        }
        return "CREATE COLLATION \(collation.qname) (\(options.joined(separator: ", ")));"
    }
}

struct CollationProviderError: Error, CustomStringConvertible {
    var collation: String
    var provider: String

    var description: String {
        "collation \(collation) has provider '\(provider)', which CREATE COLLATION does not accept: recreate it with provider = libc or provider = icu, then export again"
    }
}
