struct RuleRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var tableOid: UInt32
    /// The table or view, quoted and qualified.
    var table: String
    var schema: String
    var tableName: String
    /// `pg_get_ruledef`: `CREATE RULE ... ;`
    var definition: String
    /// pg_rewrite.ev_enabled: O (origin, the default), D, R or A.
    var enabled: String
}
