// Rows of column and storage details.

struct ColumnCompressionRow: Decodable {
    var relationOid: UInt32
    /// The column's name, quoted.
    var qname: String
    /// `pglz` or `lz4`.
    var method: String
}

struct ToastOptionsRow: Decodable {
    var relationOid: UInt32
    /// `name=value` as in pg_class.reloptions.
    var options: [String]
}

struct OidRow: Decodable {
    var oid: UInt32
}

struct UnloggedSequenceRow: Decodable {
    var oid: UInt32
    var qname: String
}

struct IndexStatisticsRow: Decodable {
    var indexOid: UInt32
    var qname: String
    var num: Int
    var target: Int
}

struct PartitionTriggerStateRow: Decodable {
    var oid: UInt32
    var parentOid: UInt32
    var qname: String
    var name: String
    var tableOid: UInt32
    var table: String
    var schema: String
    var tableName: String
    var tableKind: String
    /// pg_trigger.tgenabled: O, D, R or A.
    var enabled: String
}
