import PostgresClient

/// Role names as SQL. Catalog rows, script metadata and the archive header's
/// role list carry raw role names (`Reporting`, `read only`); only the SQL
/// text quotes them, through here: with the server's `quote_ident`, read once
/// for every role, so quoting follows the server's keyword list.
struct RoleQuoting {
    private var quoted: [String: String]

    /// The server's quoting of every role.
    init(_ connection: Connection) throws {
        var quoted: [String: String] = [:]
        for row in try connection.query(CatalogQueries.roleNames).rows {
            quoted[try row.string("name")] = try row.string("qname")
        }
        self.quoted = quoted
    }

    /// Quoting known in advance (for tests).
    init(quoted: [String: String]) {
        self.quoted = quoted
    }

    /// A role as a statement names it.
    func sql(_ role: String) throws -> String {
        // A role the server did not list (dropped since the snapshot, or
        // shown as "unknown (OID=...)") is still quoted safely, by libpq.
        if let name = quoted[role] { return name }
        return try SQLQuoting.identifier(role)
    }

    /// A grantee or policy role: PUBLIC for nil.
    func grantee(_ role: String?) throws -> String {
        guard let role else { return "PUBLIC" }
        return try sql(role)
    }
}
