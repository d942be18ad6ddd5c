import PostgresClient

// Schemas, extensions, types, functions and aggregates: the pre-data
// objects that are not relations.

extension CatalogBuilder {
    // MARK: - Schemas and extensions

    mutating func addSchema(_ schema: SchemaRow) throws {
        let key = ObjectKey(catalog: "pg_namespace", oid: schema.oid)
        represented[key] = key
        // A new database already has "public" (owned by pg_database_owner).
        let sql = schema.name == "public" ? "" : "CREATE SCHEMA \(schema.qname);\n\n"
        if !sql.isEmpty {
            add(DumpObject(key: key, kind: .schema, schema: nil, name: schema.name, owner: schema.owner, section: .preData, sql: sql))
        }
        if schema.name != "public" || schema.owner != "pg_database_owner" {
            try addOwner(of: key, kind: .schema, target: "SCHEMA \(schema.qname)", schema: nil, name: schema.name, owner: schema.owner, section: .preData)
        }
        try addACL(of: key, target: "SCHEMA \(schema.qname)", schema: nil, name: "SCHEMA \(schema.name)", owner: schema.owner, privileges: schema.acl)
        commentable("pg_namespace", schema.oid, CommentTarget(target: "SCHEMA \(schema.qname)", key: key, section: .preData, schema: nil, name: "SCHEMA \(schema.name)", owner: schema.owner))
    }

    mutating func addExtension(_ row: ExtensionRow) {
        let key = ObjectKey(catalog: "pg_extension", oid: row.oid)
        represented[key] = key
        add(DumpObject(key: key, kind: .extension, schema: nil, name: row.name, owner: nil, section: .preData,
                       sql: "CREATE EXTENSION IF NOT EXISTS \(row.qname) WITH SCHEMA \(row.qschema);\n\n"))
        commentable("pg_extension", row.oid, CommentTarget(target: "EXTENSION \(row.qname)", key: key, section: .preData, schema: nil, name: "EXTENSION \(row.name)"))
    }

    // MARK: - Types

    mutating func addType(_ type: TypeRow, domainConstraints: [ConstraintRow]) throws {
        let key = ObjectKey(catalog: "pg_type", oid: type.oid)
        var kind = ArchiveEntry.Kind.type
        var sql: String
        switch type.kind {
        case "e":
            let labels = try (type.labels ?? []).map { "    \(try SQLQuoting.literal($0))" }.joined(separator: ",\n")
            sql = "CREATE TYPE \(type.qname) AS ENUM (\n\(labels)\n);\n"
        case "d":
            kind = .domain
            sql = "CREATE DOMAIN \(type.qname) AS \(type.baseType ?? "text")"
            if let collation = type.collation { sql += " COLLATE \(collation)" }
            if let defaultExpr = type.defaultExpr { sql += " DEFAULT \(defaultExpr)" }
            if type.notnull { sql += " NOT NULL" }
            var later = ""
            for constraint in domainConstraints where constraint.type == "c" && !excluded("pg_constraint", constraint.oid) {
                if constraint.validated {
                    sql += "\n\tCONSTRAINT \(constraint.qname) \(constraint.definition)"
                } else {
                    later += "ALTER DOMAIN \(type.qname) ADD CONSTRAINT \(constraint.qname) \(constraint.definition);\n"
                }
                // A NOT VALID one exists only once its ALTER DOMAIN has run: what
                // depends on it or comments on it waits for that entry.
                let constraintKey = constraint.validated ? key : key.with(part: "notvalid")
                represented[ObjectKey(catalog: "pg_constraint", oid: constraint.oid)] = constraintKey
                commentable("pg_constraint", constraint.oid, CommentTarget(
                    target: "CONSTRAINT \(constraint.qname) ON DOMAIN \(type.qname)", key: constraintKey,
                    section: constraint.validated ? .preData : .postData,
                    schema: type.schema, name: "CONSTRAINT \(constraint.name) ON DOMAIN \(type.name)", owner: type.owner))
            }
            sql += ";\n"
            if !later.isEmpty {
                add(DumpObject(key: key.with(part: "notvalid"), kind: .checkConstraint, schema: type.schema, name: type.name,
                               owner: type.owner, section: .postData, sql: later + "\n", dependencies: [key]))
            }
        case "c":
            let attributes = (type.attributes ?? []).map { attribute in
                "    \(attribute.qname) \(attribute.type)" + (attribute.collation.map { " COLLATE \($0)" } ?? "")
            }.joined(separator: ",\n")
            sql = "CREATE TYPE \(type.qname) AS (\n\(attributes)\n);\n"
            if let relation = type.relationOid { represented[ObjectKey(catalog: "pg_class", oid: relation)] = key }
        case "r":
            var options = ["    subtype = \(type.rangeSubtype ?? "")"]
            if let opclass = type.rangeOpclass { options.append("    subtype_opclass = \(opclass)") }
            if let collation = type.rangeCollation { options.append("    collation = \(collation)") }
            if let canonical = type.rangeCanonical { options.append("    canonical = \(canonical)") }
            if let subdiff = type.rangeSubdiff { options.append("    subtype_diff = \(subdiff)") }
            if let multirange = type.multirange { options.append("    multirange_type_name = \(multirange)") }
            sql = "CREATE TYPE \(type.qname) AS RANGE (\n\(options.joined(separator: ",\n"))\n);\n"
        default:
            return  // base and pseudo-types: refused by the unsupported-object check
        }
        represented[key] = key
        add(DumpObject(key: key, kind: kind, schema: type.schema, name: type.name, owner: type.owner, section: .preData, sql: sql + "\n"))
        let target = "\(kind) \(type.qname)"
        try addOwner(of: key, kind: kind, target: target, schema: type.schema, name: type.name, owner: type.owner, section: .preData)
        try addACL(of: key, target: kind == .domain ? "DOMAIN \(type.qname)" : "TYPE \(type.qname)", schema: type.schema,
               name: "\(kind) \(type.name)", owner: type.owner, privileges: type.acl)
        var comment = CommentTarget(target: target, key: key, section: .preData, schema: type.schema, name: "\(kind) \(type.name)", owner: type.owner)
        if type.kind == "c" {
            for attribute in type.attributes ?? [] { comment.columns[attribute.num] = attribute.qname }
            comment.target = "TYPE \(type.qname)"
            comment.qualifiedName = type.qname
            if let relation = type.relationOid { commentable("pg_class", relation, comment) }
        }
        commentable("pg_type", type.oid, comment)
    }

    // MARK: - Functions

    mutating func addFunction(_ function: FunctionRow) throws {
        let key = ObjectKey(catalog: "pg_proc", oid: function.oid)
        represented[key] = key
        let kind: ArchiveEntry.Kind = function.kind == "p" ? .procedure : .function
        let definition = (function.definition ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let signature = "\(function.qname)(\(function.identityArguments))"
        let name = "\(function.name)(\(function.identityArguments))"
        add(DumpObject(key: key, kind: kind, schema: function.schema, name: name, owner: function.owner, section: .preData,
                       sql: definition + ";\n\n"))
        try addOwner(of: key, kind: kind, target: "\(kind) \(signature)", schema: function.schema, name: name, owner: function.owner, section: .preData)
        try addACL(of: key, target: "\(kind) \(signature)", schema: function.schema, name: "\(kind) \(name)", owner: function.owner, privileges: function.acl)
        commentable("pg_proc", function.oid, CommentTarget(target: "\(kind) \(signature)", key: key, section: .preData,
                                                           schema: function.schema, name: "\(kind) \(name)", owner: function.owner))
    }

    mutating func addAggregate(_ function: FunctionRow, _ aggregate: AggregateRow) throws {
        let key = ObjectKey(catalog: "pg_proc", oid: function.oid)
        represented[key] = key
        let arguments = function.arguments.isEmpty ? "*" : function.arguments
        var options = ["    SFUNC = \(aggregate.transfn)", "    STYPE = \(aggregate.transtype)"]
        // Ordered-set and hypothetical-set aggregates (their arguments carry
        // ORDER BY) default to READ_WRITE final functions, normal ones to READ_ONLY.
        let defaultModify = aggregate.aggkind == "n" ? "r" : "w"
        if aggregate.transspace != 0 { options.append("    SSPACE = \(aggregate.transspace)") }
        if let finalfn = aggregate.finalfn {
            options.append("    FINALFUNC = \(finalfn)")
            if aggregate.finalextra { options.append("    FINALFUNC_EXTRA") }
            if aggregate.finalmodify != defaultModify {
                options.append("    FINALFUNC_MODIFY = \(Self.modifyWord(aggregate.finalmodify))")
            }
        }
        if let combine = aggregate.combinefn { options.append("    COMBINEFUNC = \(combine)") }
        if let serial = aggregate.serialfn { options.append("    SERIALFUNC = \(serial)") }
        if let deserial = aggregate.deserialfn { options.append("    DESERIALFUNC = \(deserial)") }
        if let initval = aggregate.initval { options.append("    INITCOND = \(try SQLQuoting.literal(initval))") }
        if let msfunc = aggregate.mtransfn {
            options.append("    MSFUNC = \(msfunc)")
            if let minv = aggregate.minvtransfn { options.append("    MINVFUNC = \(minv)") }
            if let mstype = aggregate.mtranstype { options.append("    MSTYPE = \(mstype)") }
            if aggregate.mtransspace != 0 { options.append("    MSSPACE = \(aggregate.mtransspace)") }
            if let mfinal = aggregate.mfinalfn {
                options.append("    MFINALFUNC = \(mfinal)")
                if aggregate.mfinalextra { options.append("    MFINALFUNC_EXTRA") }
                if aggregate.mfinalmodify != defaultModify {
                    options.append("    MFINALFUNC_MODIFY = \(Self.modifyWord(aggregate.mfinalmodify))")
                }
            }
            if let minit = aggregate.minitval { options.append("    MINITCOND = \(try SQLQuoting.literal(minit))") }
        }
        if let sortop = aggregate.sortop { options.append("    SORTOP = \(sortop)") }
        if aggregate.aggkind == "h" { options.append("    HYPOTHETICAL") }
        switch aggregate.parallel {
        case "s": options.append("    PARALLEL = safe")
        case "r": options.append("    PARALLEL = restricted")
        default: break
        }
        let signature = "\(function.qname)(\(function.identityArguments.isEmpty ? "*" : function.identityArguments))"
        let name = "\(function.name)(\(function.identityArguments))"
        add(DumpObject(key: key, kind: .aggregate, schema: function.schema, name: name, owner: function.owner, section: .preData,
                       sql: "CREATE AGGREGATE \(function.qname)(\(arguments)) (\n\(options.joined(separator: ",\n"))\n);\n\n"))
        try addOwner(of: key, kind: .aggregate, target: "AGGREGATE \(signature)", schema: function.schema, name: name, owner: function.owner, section: .preData)
        try addACL(of: key, target: "FUNCTION \(function.qname)(\(function.identityArguments))", schema: function.schema,
               name: "AGGREGATE \(name)", owner: function.owner, privileges: function.acl)
        commentable("pg_proc", function.oid, CommentTarget(target: "AGGREGATE \(signature)", key: key, section: .preData,
                                                           schema: function.schema, name: "AGGREGATE \(name)", owner: function.owner))
    }

    /// CREATE AGGREGATE's word for an aggfinalmodify value.
    static func modifyWord(_ code: String) -> String {
        switch code {
        case "r": "READ_ONLY"
        case "s": "SHAREABLE"
        default: "READ_WRITE"
        }
    }
}
