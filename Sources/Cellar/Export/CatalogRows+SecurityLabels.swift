import Foundation

struct SecurityLabelRow: Decodable {
    var catalog: String
    var oid: UInt32
    var sub: Int
    /// The provider's raw name, and quoted (`quote_ident`).
    var provider: String
    var qprovider: String
    var label: String
    /// How the server describes the object (`pg_describe_object`), for errors.
    var object: String?
}
