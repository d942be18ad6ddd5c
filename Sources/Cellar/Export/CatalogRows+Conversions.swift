struct ConversionRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    /// Encoding names, raw.
    var from: String
    var to: String
    /// regproc text: quoted and qualified by the server.
    var function: String
    var isDefault: Bool
}
