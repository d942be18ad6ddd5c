struct PublicationRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var owner: String
    var allTables: Bool
    var insert: Bool
    var update: Bool
    var delete: Bool
    var truncate: Bool
    var viaRoot: Bool
}

struct PublicationTableRow: Decodable {
    var oid: UInt32
    var publicationOid: UInt32
    var tableOid: UInt32
    var table: String
    var schema: String
    var tableName: String
    /// pg_get_expr of the WHERE clause.
    var rowFilter: String?
    /// Quoted column names, when the publication lists columns.
    var columns: [String]?
}

struct PublicationSchemaRow: Decodable {
    var oid: UInt32
    var publicationOid: UInt32
    var schemaOid: UInt32
    var schema: String
    var qschema: String
}

struct SubscriptionRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var owner: String
    var conninfo: String
    var slotName: String?
    /// Publication names, quoted.
    var publications: [String]
    var synchronousCommit: String
    var synchronousCommitQ: String
    /// JSON text of the release's columns: "true"/"false" or a one-letter state.
    var binary: String?
    var stream: String?
    var twoPhase: String?
    var disableOnError: String?
}
