// Rows for operators, operator families and operator classes.

struct OperatorRow: Decodable {
    var oid: UInt32
    var schema: String
    var qschema: String
    /// An operator's name is symbols, never quoted.
    var name: String
    var owner: String
    var left: String?
    var right: String?
    var function: String?
    var commutator: String?
    var negator: String?
    var restrict: String?
    var join: String?
    var merges: Bool
    var hashes: Bool
}

/// One `OPERATOR n op(type, type)` or `FUNCTION n (type, type) f(args)` item.
struct OperatorMemberRow: Decodable {
    /// "pg_amop" or "pg_amproc".
    var catalog: String
    var oid: UInt32
    var text: String
}

struct OperatorFamilyRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    var method: String
    /// Loose members (not an operator class's).
    var members: [OperatorMemberRow]?
}

struct OperatorClassRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    var method: String
    var isDefault: Bool
    var type: String
    var storage: String?
    /// The family, when its name is not the class's.
    var family: String?
    var members: [OperatorMemberRow]?
}
