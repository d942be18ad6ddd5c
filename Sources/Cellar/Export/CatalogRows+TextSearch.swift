// Function and dictionary names here are server output (regproc,
// regdictionary, quote_ident): quoted and qualified as SQL needs them.

struct TextSearchParserRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var start: String
    var gettoken: String
    var end: String
    var lextypes: String
    var headline: String?
}

struct TextSearchTemplateRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var `init`: String?
    var lexize: String
}

struct TextSearchDictionaryRow: Decodable {
    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    var template: String
    var options: String?
}

struct TextSearchConfigurationRow: Decodable {
    struct Mapping: Decodable {
        var token: String
        var dictionary: String
    }

    var oid: UInt32
    var schema: String
    var name: String
    var qname: String
    var owner: String
    var parser: String
    var mappings: [Mapping]?
}
