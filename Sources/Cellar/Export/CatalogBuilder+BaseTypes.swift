import PostgresClient

// Base types and shell types, as pg_dump writes them: a base type's I/O
// functions need the type and the type needs them, so a shell
// (`CREATE TYPE name;`) comes first, then the functions, then the full
// CREATE TYPE; a shell type that was never defined stays a shell.

extension CatalogBuilder {
    mutating func buildBaseTypes() throws {
        guard wholeDatabase else { return }
        for row: BaseTypeRow in try decodeRows(connection, CatalogQueries.baseTypes)
        where schemaIncluded(row.schema) && !excluded("pg_type", row.oid) {
            try addBaseType(row)
        }
    }

    mutating func addBaseType(_ type: BaseTypeRow) throws {
        let key = ObjectKey(catalog: "pg_type", oid: type.oid)
        represented[key] = key
        let sql: String
        if type.kind == "b" {
            add(DumpObject(key: key.with(part: "shell"), kind: .shellType, schema: type.schema, name: type.name, owner: type.owner,
                           section: .preData, sql: "CREATE TYPE \(type.qname);\n\n"))
            sql = "CREATE TYPE \(type.qname) (\n\(try Self.baseTypeOptions(type).joined(separator: ",\n"))\n);\n\n"
        } else {
            sql = "CREATE TYPE \(type.qname);\n\n"
        }
        add(DumpObject(key: key, kind: .type, schema: type.schema, name: type.name, owner: type.owner, section: .preData, sql: sql))
        let target = "TYPE \(type.qname)"
        try addOwner(of: key, kind: .type, target: target, schema: type.schema, name: type.name, owner: type.owner, section: .preData)
        try addACL(of: key, target: target, schema: type.schema, name: "TYPE \(type.name)", owner: type.owner, privileges: type.acl)
        commentable("pg_type", type.oid, CommentTarget(target: target, key: key, section: .preData, schema: type.schema,
                                                       name: "TYPE \(type.name)", owner: type.owner))
    }

    /// The options of CREATE TYPE, in pg_dump's order, defaults left out.
    static func baseTypeOptions(_ type: BaseTypeRow) throws -> [String] {
        var options = ["    INTERNALLENGTH = \(type.length == -1 ? "variable" : String(type.length))",
                       "    INPUT = \(type.input)", "    OUTPUT = \(type.output)"]
        let functions: [(String, String?)] = [("RECEIVE", type.receive), ("SEND", type.send), ("TYPMOD_IN", type.typmodin),
                                              ("TYPMOD_OUT", type.typmodout), ("ANALYZE", type.analyze), ("SUBSCRIPT", type.subscriptHandler)]
        for case let (option, function?) in functions { options.append("    \(option) = \(function)") }
        if type.collatable { options.append("    COLLATABLE = true") }
        if let value = type.defaultValue { options.append("    DEFAULT = \(try SQLQuoting.literal(value))") }
        if let element = type.element { options.append("    ELEMENT = \(element)") }
        if type.category != "U" { options.append("    CATEGORY = \(try SQLQuoting.literal(type.category))") }
        if type.preferred { options.append("    PREFERRED = true") }
        if type.delimiter != "," { options.append("    DELIMITER = \(try SQLQuoting.literal(type.delimiter))") }
        let alignment = ["c": "char", "s": "int2", "i": "int4", "d": "double"][type.alignment] ?? "int4"
        options.append("    ALIGNMENT = \(alignment)")
        let storage = ["p": "plain", "e": "external", "x": "extended", "m": "main"][type.storage] ?? "plain"
        options.append("    STORAGE = \(storage)")
        if type.byvalue { options.append("    PASSEDBYVALUE") }
        return options
    }

    /// Breaks each base type's cycle with its I/O functions as pg_dump does:
    /// a function the type needs that needs the type waits for its shell instead.
    mutating func dependOnShellTypes() {
        // The shells first: the loop below changes `objects`, which must not
        // be iterated meanwhile (that would copy the whole array).
        let shells = objects.lazy.filter { $0.kind == .shellType }.map(\.key)
        for shell in Array(shells) {
            let type = shell.with(part: "")
            guard let typePosition = positions[type] else { continue }
            for function in objects[typePosition].dependencies where function.catalog == "pg_proc" {
                guard let position = positions[function], objects[position].dependencies.remove(type) else { continue }
                objects[position].dependencies.insert(shell)
            }
        }
    }
}
