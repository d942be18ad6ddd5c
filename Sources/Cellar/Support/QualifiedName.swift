import PostgresClient

/// A schema-qualified object name, kept as its two parts.
///
/// Either part may hold any character, a dot included: `"a"."b.c"` and
/// `"a.b"."c"` are different tables, which a `"schema.name"` string would
/// conflate. Use this wherever a table is a key, and ``sql`` wherever it
/// enters a statement.
struct QualifiedName: Hashable, Sendable, Comparable, CustomStringConvertible {
    var schema: String
    var name: String

    init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// The table a chunk of rows belongs to.
    init(_ data: ArchiveEntry.DataInfo) {
        self.init(schema: data.tableSchema, name: data.tableName)
    }

    /// `"schema"."name"`, each part quoted through PostgresClient.
    ///
    /// - Throws: `ClientError` for a name libpq cannot quote (a NUL byte).
    var sql: String {
        get throws { try SQLQuoting.qualified(schema, name) }
    }

    /// For messages: `schema.name`, quoting a part only where a dot or a
    /// quote in it would make the text ambiguous.
    var description: String {
        func part(_ text: String) -> String {
            text.contains(".") || text.contains("\"") || text.isEmpty
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return part(schema) + "." + part(name)
    }

    static func < (lhs: QualifiedName, rhs: QualifiedName) -> Bool {
        (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
    }
}
