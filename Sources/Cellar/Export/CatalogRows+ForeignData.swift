// Rows of foreign-data wrappers, servers, user mappings and foreign tables.

struct ForeignDataWrapperRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var owner: String
    /// Qualified by the server (regproc) when outside pg_catalog.
    var handler: String?
    var validator: String?
    /// `name 'value'` pairs, server-quoted, one a line; "" for none.
    var options: String
    var acl: [PrivilegeRow]?
}

struct ForeignServerRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var owner: String
    var type: String?
    var version: String?
    /// The wrapper's name, quoted.
    var wrapper: String
    var options: String
    var acl: [PrivilegeRow]?
}

struct UserMappingRow: Decodable {
    var oid: UInt32
    var serverOid: UInt32
    /// nil for PUBLIC.
    var user: String?
    var options: String
    var hasPassword: Bool
}

/// A foreign table: the relation's row as for tables, plus its server and
/// generic options.
struct ForeignTableRow: Decodable {
    struct ColumnOptions: Decodable {
        var num: Int
        var options: String
    }

    var relation: RelationRow
    /// The server's name, quoted.
    var server: String
    var options: String
    var columnOptions: [ColumnOptions]?

    private enum CodingKeys: String, CodingKey {
        case server, options, columnOptions
    }

    init(from decoder: Decoder) throws {
        relation = try RelationRow(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        server = try container.decode(String.self, forKey: .server)
        options = try container.decode(String.self, forKey: .options)
        columnOptions = try container.decodeIfPresent([ColumnOptions].self, forKey: .columnOptions)
    }
}
