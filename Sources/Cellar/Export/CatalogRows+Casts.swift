// Rows for casts, transforms, procedural languages and access methods.

struct CastRow: Decodable {
    var oid: UInt32
    /// format_type of the source and target, qualified where not in pg_catalog.
    var source: String
    var target: String
    /// "f" (function), "i" (inout), "b" (binary coercible).
    var method: String
    /// "e" (explicit), "a" (assignment), "i" (implicit).
    var context: String
    var function: String?
}

struct TransformRow: Decodable {
    var oid: UInt32
    var type: String
    var language: String
    var qlanguage: String
    var fromSQL: String?
    var toSQL: String?
}

struct LanguageRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    var trusted: Bool
    var owner: String
    var acl: [PrivilegeRow]?
    var handler: String?
    var inline: String?
    var validator: String?
    /// Whether every support function is outside pg_catalog (and so exported).
    var userFunctions: Bool?
}

struct AccessMethodRow: Decodable {
    var oid: UInt32
    var name: String
    var qname: String
    /// "i" (index) or "t" (table).
    var type: String
    var handler: String
}
