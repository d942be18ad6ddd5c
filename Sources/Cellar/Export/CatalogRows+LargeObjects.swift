import Foundation

struct LargeObjectRow: Decodable {
    var oid: UInt32
    var owner: String
    var acl: [PrivilegeRow]?
}
