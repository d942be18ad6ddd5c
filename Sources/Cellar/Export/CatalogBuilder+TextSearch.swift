// Text search parsers, templates, dictionaries and configurations, written
// as pg_dump 15's dumpTSParser, dumpTSTemplate, dumpTSDictionary and
// dumpTSConfig write them. Parsers and templates have no owner.

extension CatalogBuilder {
    mutating func buildTextSearch() throws {
        guard wholeDatabase else { return }
        let parsers: [TextSearchParserRow] = try decodeRows(connection, CatalogQueries.textSearchParsers)
        for parser in parsers where schemaIncluded(parser.schema) && !excluded("pg_ts_parser", parser.oid) {
            var sql = "CREATE TEXT SEARCH PARSER \(parser.qname) (\n    START = \(parser.start),\n"
            sql += "    GETTOKEN = \(parser.gettoken),\n    END = \(parser.end),\n"
            if let headline = parser.headline { sql += "    HEADLINE = \(headline),\n" }
            sql += "    LEXTYPES = \(parser.lextypes) );\n"
            addTextSearchObject("pg_ts_parser", parser.oid, kind: .textSearchParser, schema: parser.schema, name: parser.name, qname: parser.qname, sql: sql)
        }
        let templates: [TextSearchTemplateRow] = try decodeRows(connection, CatalogQueries.textSearchTemplates)
        for template in templates where schemaIncluded(template.schema) && !excluded("pg_ts_template", template.oid) {
            var sql = "CREATE TEXT SEARCH TEMPLATE \(template.qname) (\n"
            if let initFunction = template.`init` { sql += "    INIT = \(initFunction),\n" }
            sql += "    LEXIZE = \(template.lexize) );\n"
            addTextSearchObject("pg_ts_template", template.oid, kind: .textSearchTemplate, schema: template.schema, name: template.name, qname: template.qname, sql: sql)
        }
        let dictionaries: [TextSearchDictionaryRow] = try decodeRows(connection, CatalogQueries.textSearchDictionaries)
        for dictionary in dictionaries where schemaIncluded(dictionary.schema) && !excluded("pg_ts_dict", dictionary.oid) {
            var sql = "CREATE TEXT SEARCH DICTIONARY \(dictionary.qname) (\n    TEMPLATE = \(dictionary.template)"
            if let options = dictionary.options { sql += ",\n    \(options)" }
            sql += " );\n"
            addTextSearchObject("pg_ts_dict", dictionary.oid, kind: .textSearchDictionary, schema: dictionary.schema, name: dictionary.name, qname: dictionary.qname, sql: sql)
            try addOwner(of: ObjectKey(catalog: "pg_ts_dict", oid: dictionary.oid), kind: .textSearchDictionary,
                         target: "TEXT SEARCH DICTIONARY \(dictionary.qname)", schema: dictionary.schema, name: dictionary.name,
                         owner: dictionary.owner, section: .preData)
        }
        let configurations: [TextSearchConfigurationRow] = try decodeRows(connection, CatalogQueries.textSearchConfigurations)
        for configuration in configurations where schemaIncluded(configuration.schema) && !excluded("pg_ts_config", configuration.oid) {
            let sql = "CREATE TEXT SEARCH CONFIGURATION \(configuration.qname) (\n    PARSER = \(configuration.parser) );\n"
                + Self.mappingStatements(configuration)
            addTextSearchObject("pg_ts_config", configuration.oid, kind: .textSearchConfiguration, schema: configuration.schema, name: configuration.name, qname: configuration.qname, sql: sql)
            try addOwner(of: ObjectKey(catalog: "pg_ts_config", oid: configuration.oid), kind: .textSearchConfiguration,
                         target: "TEXT SEARCH CONFIGURATION \(configuration.qname)", schema: configuration.schema, name: configuration.name,
                         owner: configuration.owner, section: .preData)
        }
    }

    private mutating func addTextSearchObject(_ catalog: String, _ oid: UInt32, kind: ArchiveEntry.Kind, schema: String, name: String, qname: String, sql: String) {
        let key = ObjectKey(catalog: catalog, oid: oid)
        represented[key] = key
        add(DumpObject(key: key, kind: kind, schema: schema, name: name, owner: nil, section: .preData, sql: sql + "\n"))
        commentable(catalog, oid, CommentTarget(target: "\(kind) \(qname)", key: key, section: .preData, schema: schema, name: "\(kind) \(name)"))
    }

    /// One `ALTER TEXT SEARCH CONFIGURATION ... ADD MAPPING FOR token WITH dict, ...;` per token type.
    static func mappingStatements(_ configuration: TextSearchConfigurationRow) -> String {
        var sql = ""
        var currentToken: String?
        for mapping in configuration.mappings ?? [] {
            if mapping.token == currentToken {
                sql += ", \(mapping.dictionary)"
            } else {
                if currentToken != nil { sql += ";\n" }
                sql += "\nALTER TEXT SEARCH CONFIGURATION \(configuration.qname)\n    ADD MAPPING FOR \(mapping.token) WITH \(mapping.dictionary)"
                currentToken = mapping.token
            }
        }
        if currentToken != nil { sql += ";\n" }
        return sql
    }
}
