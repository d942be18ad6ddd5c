struct CollationRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    /// pg_collation.collprovider: c (libc), i (ICU), d (the database's default).
    var provider: String
    var deterministic: Bool
    var collate: String?
    var ctype: String?
    var iculocale: String?
}
