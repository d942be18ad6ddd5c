// Rows about extension member objects.

struct ExtensionConfigurationRow: Decodable {
    var extensionOid: UInt32
    var extensionName: String
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    /// "" (every row) or the extension's "WHERE ..." clause.
    var condition: String
    var estimatedBytes: Int64
    /// Stored columns, quoted.
    var columns: [String]?
}

/// An object whose privileges differ from those it was set up with.
struct InitialPrivilegeChangeRow: Decodable {
    var catalog: String
    var oid: UInt32
    /// The column number for a column's privileges, else 0.
    var sub: Int
    /// The column's name, quoted.
    var column: String?
    /// 0 for a built-in object.
    var extensionOid: UInt32
    /// How GRANT names it: `FUNCTION pg_catalog.f(integer)`, quoted.
    var target: String
    var name: String
    var schema: String?
    var owner: String
    var revoked: [PrivilegeRow]?
    var granted: [PrivilegeRow]?
}
