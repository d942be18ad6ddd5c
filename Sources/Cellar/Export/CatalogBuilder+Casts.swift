// Casts, transforms, procedural languages and access methods: the objects
// outside schemas that pg_dump writes for a whole database.

extension CatalogBuilder {
    /// Reads and adds them all, for an export of the whole database.
    mutating func buildCasts() throws {
        guard wholeDatabase && selection.schemas.isEmpty else { return }
        for row: AccessMethodRow in try decodeRows(connection, CatalogQueries.accessMethods) where !excluded("pg_am", row.oid) {
            addAccessMethod(row)
        }
        for row: LanguageRow in try decodeRows(connection, CatalogQueries.languages) where !excluded("pg_language", row.oid) {
            try addLanguage(row)
        }
        for row: CastRow in try decodeRows(connection, CatalogQueries.casts) where !excluded("pg_cast", row.oid) {
            addCast(row)
        }
        for row: TransformRow in try decodeRows(connection, CatalogQueries.transforms) where !excluded("pg_transform", row.oid) {
            addTransform(row)
        }
    }

    mutating func addCast(_ cast: CastRow) {
        let key = ObjectKey(catalog: "pg_cast", oid: cast.oid)
        represented[key] = key
        let name = "(\(cast.source) AS \(cast.target))"
        var sql = "CREATE CAST \(name) "
        switch cast.method {
        case "i": sql += "WITH INOUT"
        case "b": sql += "WITHOUT FUNCTION"
        default: sql += "WITH FUNCTION \(cast.function ?? "")"
        }
        switch cast.context {
        case "a": sql += " AS ASSIGNMENT"
        case "i": sql += " AS IMPLICIT"
        default: break
        }
        add(DumpObject(key: key, kind: .cast, schema: nil, name: name, owner: nil, section: .preData, sql: sql + ";\n\n"))
        commentable("pg_cast", cast.oid, CommentTarget(target: "CAST \(name)", key: key, section: .preData, schema: nil, name: "CAST \(name)"))
    }

    mutating func addTransform(_ transform: TransformRow) {
        let key = ObjectKey(catalog: "pg_transform", oid: transform.oid)
        represented[key] = key
        var functions: [String] = []
        if let from = transform.fromSQL { functions.append("FROM SQL WITH FUNCTION \(from)") }
        if let to = transform.toSQL { functions.append("TO SQL WITH FUNCTION \(to)") }
        let target = "TRANSFORM FOR \(transform.type) LANGUAGE \(transform.qlanguage)"
        add(DumpObject(key: key, kind: .transform, schema: nil, name: "\(transform.type) \(transform.language)", owner: nil,
                       section: .preData, sql: "CREATE \(target) (\(functions.joined(separator: ", ")));\n\n"))
        commentable("pg_transform", transform.oid, CommentTarget(target: target, key: key, section: .preData, schema: nil,
                                                                 name: "TRANSFORM \(transform.type) LANGUAGE \(transform.language)"))
    }

    mutating func addLanguage(_ language: LanguageRow) throws {
        let key = ObjectKey(catalog: "pg_language", oid: language.oid)
        represented[key] = key
        var sql: String
        if language.userFunctions == true, let handler = language.handler {
            // As pg_dump: the full definition when the support functions are exported too.
            sql = "CREATE \(language.trusted ? "TRUSTED " : "")PROCEDURAL LANGUAGE \(language.qname) HANDLER \(handler)"
            if let inline = language.inline { sql += " INLINE \(inline)" }
            if let validator = language.validator { sql += " VALIDATOR \(validator)" }
        } else {
            sql = "CREATE OR REPLACE PROCEDURAL LANGUAGE \(language.qname)"
        }
        add(DumpObject(key: key, kind: .proceduralLanguage, schema: nil, name: language.name, owner: language.owner,
                       section: .preData, sql: sql + ";\n\n"))
        let target = "LANGUAGE \(language.qname)"
        try addOwner(of: key, kind: .proceduralLanguage, target: target, schema: nil, name: language.name, owner: language.owner, section: .preData)
        // As pg_dump: privileges only for a trusted language (others have USAGE for superusers only).
        if language.trusted {
            try addACL(of: key, target: target, schema: nil, name: "LANGUAGE \(language.name)", owner: language.owner, privileges: language.acl)
        }
        commentable("pg_language", language.oid, CommentTarget(target: target, key: key, section: .preData, schema: nil,
                                                               name: "LANGUAGE \(language.name)", owner: language.owner))
    }

    mutating func addAccessMethod(_ method: AccessMethodRow) {
        let key = ObjectKey(catalog: "pg_am", oid: method.oid)
        represented[key] = key
        let type = method.type == "t" ? "TABLE" : "INDEX"
        add(DumpObject(key: key, kind: .accessMethod, schema: nil, name: method.name, owner: nil, section: .preData,
                       sql: "CREATE ACCESS METHOD \(method.qname) TYPE \(type) HANDLER \(method.handler);\n\n"))
        commentable("pg_am", method.oid, CommentTarget(target: "ACCESS METHOD \(method.qname)", key: key, section: .preData,
                                                       schema: nil, name: "ACCESS METHOD \(method.name)"))
    }
}
