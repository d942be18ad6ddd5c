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
