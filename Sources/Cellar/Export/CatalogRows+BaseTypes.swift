// Rows for base types and shell types.

struct BaseTypeRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    /// "b" (base) or "p" (a shell type never defined).
    var kind: String
    var defined: Bool
    var owner: String
    var acl: [PrivilegeRow]?
    /// -1 for variable length.
    var length: Int
    var input: String
    var output: String
    var receive: String?
    var send: String?
    var typmodin: String?
    var typmodout: String?
    var analyze: String?
    var subscriptHandler: String?
    var collatable: Bool
    var defaultValue: String?
    var element: String?
    var category: String
    var preferred: Bool
    var delimiter: String
    var alignment: String
    var storage: String
    var byvalue: Bool
}
