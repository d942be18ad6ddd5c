import Foundation
import Logging
import PostgresClient

/// Which objects an export covers (`--table`, `--exclude-table`, `--schema`).
public struct ExportSelection: Sendable {
    public var tables: [String]
    public var excludedTables: [String]
    public var schemas: [String]
    public var schemaOnly: Bool
    public var dataOnly: Bool
    public var excludeUnsupported: Bool

    public init(tables: [String] = [], excludedTables: [String] = [], schemas: [String] = [],
                schemaOnly: Bool = false, dataOnly: Bool = false, excludeUnsupported: Bool = false) {
        self.tables = tables
        self.excludedTables = excludedTables
        self.schemas = schemas
        self.schemaOnly = schemaOnly
        self.dataOnly = dataOnly
        self.excludeUnsupported = excludeUnsupported
    }
}

/// The export refuses a database holding objects it cannot write.
public struct UnsupportedObjectsError: Error, CustomStringConvertible, Sendable {
    public var objects: [String]

    public var description: String {
        let shown = objects.prefix(50).map { "  - \($0)" }.joined(separator: "\n")
        let more = objects.count > 50 ? "\n  ... and \(objects.count - 50) more" : ""
        return "the database holds \(objects.count) object(s) that pgcellar export does not support, so the export would be incomplete:\n\(shown)\(more)\n(drop them, or pass --exclude-unsupported to export without them)"
    }
}

/// Everything the export writes besides table rows, read from the catalogs
/// inside the export's snapshot, as script pieces with their dependencies.
struct SchemaCatalog {
    var objects: [DumpObject] = []
    /// Tables whose rows are exported, largest first.
    var tables: [TableDataSource] = []
    /// Roles named as owners or grantees.
    var roles: [String: Set<String>] = [:]
    /// Unsupported objects skipped under --exclude-unsupported.
    var skipped: [String] = []

    // MARK: - Reading

    static func read(_ connection: Connection, selection: ExportSelection, logger: Logger) throws -> SchemaCatalog {
        var unsupported: [String] = []
        for check in CatalogQueries.unsupported {
            for row in try connection.query(check.query).rows {
                unsupported.append(try row.string("name"))
            }
        }
        // Rows in an extension's configuration tables belong to the database, not the extension.
        for row in try connection.query(CatalogQueries.extensionConfigurationTables).rows {
            let table = try row.string("table")
            if try connection.query("SELECT EXISTS (SELECT 1 FROM ONLY \(table)) AS filled").first?.bool("filled") == true {
                unsupported.append("rows of \(table), a configuration table of extension \(try row.string("extension"))")
            }
        }
        for row in try connection.query(CatalogQueries.lostProperties).rows {
            let what = try row.string("what")
            logger.warning("the export does not carry over the \(what); a restore uses the defaults")
        }
        var catalog = SchemaCatalog()
        if !unsupported.isEmpty {
            guard selection.excludeUnsupported else { throw UnsupportedObjectsError(objects: unsupported) }
            for name in unsupported { logger.warning("skipping \(name): pgcellar export does not support it (--exclude-unsupported)") }
            catalog.skipped = unsupported
        }
        var builder = try CatalogBuilder(connection: connection, selection: selection)
        try builder.build()
        catalog.objects = builder.objects
        catalog.tables = builder.dataTables.sorted { $0.estimatedBytes > $1.estimatedBytes }
        catalog.roles = builder.roles
        return catalog
    }
}

func decodeRows<T: Decodable>(_ connection: Connection, _ sql: String, as type: T.Type = T.self) throws -> [T] {
    guard let row = try connection.query(sql).first else { return [] }
    return try row.json("rows", as: [T].self)
}

/// `'text'` with quotes doubled; the script runs with
/// `standard_conforming_strings = on`, so backslashes are literal.
func sqlLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

// MARK: - Builder

/// Turns catalog rows into script pieces. One builder per export.
struct CatalogBuilder {
    let connection: Connection
    let selection: ExportSelection
    private let tablePatterns: [NamePattern]
    private let excludedPatterns: [NamePattern]

    private(set) var objects: [DumpObject] = []
    private(set) var dataTables: [TableDataSource] = []
    private(set) var roles: [String: Set<String>] = [:]

    /// (catalog, oid) → the object standing for it in the script.
    private var represented: [ObjectKey: ObjectKey] = [:]
    /// Comment targets: (catalog, oid) → how COMMENT ON names it.
    private var commentTargets: [ObjectKey: CommentTarget] = [:]
    private var includedRelations = Set<UInt32>()
    private var relationsByOid: [UInt32: RelationRow] = [:]
    /// Indexes that are a table's replica identity or clustering index.
    private var indexOptions: [UInt32: IndexRow] = [:]

    struct CommentTarget {
        var target: String
        var key: ObjectKey
        var section: DumpSection
        var schema: String?
        var name: String
        var owner: String?
        var columns: [Int: String] = [:]
        /// The quoted, qualified name that COMMENT ON COLUMN prefixes.
        var qualifiedName: String? = nil
    }

    init(connection: Connection, selection: ExportSelection) throws {
        self.connection = connection
        self.selection = selection
        tablePatterns = selection.tables.map(NamePattern.init)
        excludedPatterns = selection.excludedTables.map(NamePattern.init)
    }

    /// Whether objects outside tables (schemas, types, functions) are exported.
    private var wholeDatabase: Bool { selection.tables.isEmpty }

    private func schemaIncluded(_ schema: String) -> Bool {
        selection.schemas.isEmpty || selection.schemas.contains(schema)
    }

    private func relationIncluded(schema: String, name: String) -> Bool {
        guard schemaIncluded(schema) else { return false }
        if excludedPatterns.contains(where: { $0.matches(schema: schema, name: name) }) { return false }
        return tablePatterns.isEmpty || tablePatterns.contains { $0.matches(schema: schema, name: name) }
    }

    private mutating func noteRole(_ role: String?, as use: String) {
        guard let role, !role.isEmpty else { return }
        roles[role, default: []].insert(use)
    }

    private mutating func add(_ object: DumpObject) {
        objects.append(object)
    }

    mutating func build() throws {
        let schemas: [SchemaRow] = try decodeRows(connection, CatalogQueries.schemas)
        let extensions: [ExtensionRow] = try decodeRows(connection, CatalogQueries.extensions)
        let types: [TypeRow] = try decodeRows(connection, CatalogQueries.types)
        let functions: [FunctionRow] = try decodeRows(connection, CatalogQueries.functions)
        let aggregates: [AggregateRow] = try decodeRows(connection, CatalogQueries.aggregates)
        let relations: [RelationRow] = try decodeRows(connection, CatalogQueries.relations)
        let sequences: [SequenceRow] = try decodeRows(connection, CatalogQueries.sequences)
        let constraints: [ConstraintRow] = try decodeRows(connection, CatalogQueries.constraints)
        let indexes: [IndexRow] = try decodeRows(connection, CatalogQueries.indexes)
        let triggers: [TriggerRow] = try decodeRows(connection, CatalogQueries.triggers)
        let policies: [PolicyRow] = try decodeRows(connection, CatalogQueries.policies)
        let statistics: [StatisticsRow] = try decodeRows(connection, CatalogQueries.statistics)
        let defaultPrivileges: [DefaultPrivilegeRow] = try decodeRows(connection, CatalogQueries.defaultPrivileges)

        for relation in relations {
            relationsByOid[relation.oid] = relation
            if relationIncluded(schema: relation.schema, name: relation.name) { includedRelations.insert(relation.oid) }
        }

        if wholeDatabase {
            for schema in schemas where schemaIncluded(schema.name) { addSchema(schema) }
            if selection.schemas.isEmpty { for extension_ in extensions { addExtension(extension_) } }
            for type in types where schemaIncluded(type.schema) {
                try addType(type, domainConstraints: constraints.filter { $0.typeOid == type.oid })
            }
            let aggregatesByOid = Dictionary(aggregates.map { ($0.oid, $0) }, uniquingKeysWith: { first, _ in first })
            for function in functions where schemaIncluded(function.schema) {
                if function.kind == "a" {
                    if let aggregate = aggregatesByOid[function.oid], aggregate.aggkind == "n" { addAggregate(function, aggregate) }
                } else {
                    addFunction(function)
                }
            }
            for row in defaultPrivileges where row.schema.map(schemaIncluded) ?? selection.schemas.isEmpty {
                addDefaultPrivileges(row)
            }
        }
        let sequenceValues = try readSequenceValues(sequences)
        for sequence in sequences {
            // An owned sequence goes with its table; a free-standing one by its own name.
            let included = sequence.ownerTableOid.map { includedRelations.contains($0) }
                ?? relationIncluded(schema: sequence.schema, name: sequence.name)
            if included { addSequence(sequence, value: sequenceValues[sequence.oid]) }
        }
        for relation in relations where includedRelations.contains(relation.oid) {
            addRelation(relation, checks: constraints.filter { $0.relationOid == relation.oid && $0.type == "c" })
        }
        for index in indexes where index.replicaIdentity || index.clustered { indexOptions[index.oid] = index }
        for constraint in constraints where constraint.relationOid != 0 && includedRelations.contains(constraint.relationOid) {
            addConstraint(constraint)
        }
        for index in indexes where includedRelations.contains(index.tableOid) { addIndex(index) }
        for index in indexes where includedRelations.contains(index.tableOid) { addIndexAttach(index) }
        for trigger in triggers where includedRelations.contains(trigger.tableOid) { addTrigger(trigger) }
        for policy in policies where includedRelations.contains(policy.tableOid) { addPolicy(policy) }
        for statistic in statistics where includedRelations.contains(statistic.tableOid) { addStatistics(statistic) }

        try addComments()
        try addDependencies()
        addMaterializedViewRefreshes()
        moveDependenciesOfPreData()
        if selection.dataOnly {
            objects.removeAll { $0.kind != "SEQUENCE SET" }
        } else if selection.schemaOnly {
            objects.removeAll { $0.kind == "SEQUENCE SET" || $0.kind == "MATERIALIZED VIEW DATA" }
            dataTables = []
        }
    }

    // MARK: - Owners, privileges, comments

    private mutating func addOwner(of key: ObjectKey, kind: String, target: String, schema: String?, name: String,
                                   owner: String, section: DumpSection) {
        noteRole(owner, as: "owner")
        add(DumpObject(key: key.with(part: "owner"), kind: "OWNER", schema: schema, name: "\(kind) \(name)", owner: owner,
                       section: section, sql: "ALTER \(target) OWNER TO \(quoteIdent(owner));\n\n", dependencies: [key]))
    }

    private mutating func addACL(of key: ObjectKey, target: String, schema: String?, name: String, owner: String,
                                 privileges: [PrivilegeRow]?, columnPrivileges: [(String, [PrivilegeRow])] = []) {
        var sql = ""
        if let privileges {
            sql += "REVOKE ALL ON \(target) FROM PUBLIC;\n"
            sql += "REVOKE ALL ON \(target) FROM \(quoteIdent(owner));\n"
            sql += grantStatements(privileges, on: target, owner: owner)
        }
        for (column, privileges) in columnPrivileges {
            sql += grantStatements(privileges, on: target, owner: owner, column: column)
        }
        guard !sql.isEmpty else { return }
        for privilege in (privileges ?? []) + columnPrivileges.flatMap(\.1) {
            noteRole(privilege.grantee, as: "grantee")
            noteRole(privilege.grantor, as: "grantor")
        }
        var dependencies: Set<ObjectKey> = [key]
        if objects.contains(where: { $0.key == key.with(part: "owner") }) { dependencies.insert(key.with(part: "owner")) }
        add(DumpObject(key: key.with(part: "acl"), kind: "ACL", schema: schema, name: name, owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: dependencies))
    }

    private func grantStatements(_ privileges: [PrivilegeRow], on target: String, owner: String, column: String? = nil) -> String {
        var sql = ""
        var index = 0
        while index < privileges.count {
            let first = privileges[index]
            var names: [String] = []
            while index < privileges.count, privileges[index].grantee == first.grantee,
                  privileges[index].grantor == first.grantor, privileges[index].grantable == first.grantable {
                names.append(privileges[index].privilege + (column.map { "(\($0))" } ?? ""))
                index += 1
            }
            let grantee = first.grantee.map(quoteIdent) ?? "PUBLIC"
            let grant = "GRANT \(names.joined(separator: ",")) ON \(target) TO \(grantee)\(first.grantable ? " WITH GRANT OPTION" : "");\n"
            if first.grantor != owner {
                sql += "SET SESSION AUTHORIZATION \(quoteIdent(first.grantor));\n\(grant)RESET SESSION AUTHORIZATION;\n"
            } else {
                sql += grant
            }
        }
        return sql
    }

    private mutating func addComments() throws {
        let descriptions: [DescriptionRow] = try decodeRows(connection, CatalogQueries.descriptions)
        for description in descriptions {
            guard let target = commentTargets[ObjectKey(catalog: description.catalog, oid: description.oid)] else { continue }
            var what = target.target
            var name = target.name
            var key = target.key.with(part: "comment")
            if description.sub != 0 {
                guard let column = target.columns[description.sub] else { continue }
                what = "COLUMN \(target.qualifiedName ?? target.target).\(column)"
                name = "COLUMN \(target.name).\(column)"
                key = target.key.with(part: "comment:\(description.sub)")
            }
            add(DumpObject(key: key, kind: "COMMENT", schema: target.schema, name: name, owner: target.owner,
                           section: target.section, sql: "COMMENT ON \(what) IS \(sqlLiteral(description.description));\n\n",
                           dependencies: [target.key]))
        }
    }

    private mutating func commentable(_ catalog: String, _ oid: UInt32, _ target: CommentTarget) {
        commentTargets[ObjectKey(catalog: catalog, oid: oid)] = target
    }

    // MARK: - Schemas and extensions

    private mutating func addSchema(_ schema: SchemaRow) {
        let key = ObjectKey(catalog: "pg_namespace", oid: schema.oid)
        represented[key] = key
        // A new database already has "public" (owned by pg_database_owner).
        let sql = schema.name == "public" ? "" : "CREATE SCHEMA \(schema.qname);\n\n"
        if !sql.isEmpty {
            add(DumpObject(key: key, kind: "SCHEMA", schema: nil, name: schema.name, owner: schema.owner, section: .preData, sql: sql))
        }
        if schema.name != "public" || schema.owner != "pg_database_owner" {
            addOwner(of: key, kind: "SCHEMA", target: "SCHEMA \(schema.qname)", schema: nil, name: schema.name, owner: schema.owner, section: .preData)
        }
        addACL(of: key, target: "SCHEMA \(schema.qname)", schema: nil, name: "SCHEMA \(schema.name)", owner: schema.owner, privileges: schema.acl)
        commentable("pg_namespace", schema.oid, CommentTarget(target: "SCHEMA \(schema.qname)", key: key, section: .preData, schema: nil, name: "SCHEMA \(schema.name)", owner: schema.owner))
    }

    private mutating func addExtension(_ row: ExtensionRow) {
        let key = ObjectKey(catalog: "pg_extension", oid: row.oid)
        represented[key] = key
        add(DumpObject(key: key, kind: "EXTENSION", schema: nil, name: row.name, owner: nil, section: .preData,
                       sql: "CREATE EXTENSION IF NOT EXISTS \(row.qname) WITH SCHEMA \(row.qschema);\n\n"))
        commentable("pg_extension", row.oid, CommentTarget(target: "EXTENSION \(row.qname)", key: key, section: .preData, schema: nil, name: "EXTENSION \(row.name)"))
    }

    // MARK: - Types

    private mutating func addType(_ type: TypeRow, domainConstraints: [ConstraintRow]) throws {
        let key = ObjectKey(catalog: "pg_type", oid: type.oid)
        var kind = "TYPE"
        var sql: String
        switch type.kind {
        case "e":
            let labels = (type.labels ?? []).map { "    \(sqlLiteral($0))" }.joined(separator: ",\n")
            sql = "CREATE TYPE \(type.qname) AS ENUM (\n\(labels)\n);\n"
        case "d":
            kind = "DOMAIN"
            sql = "CREATE DOMAIN \(type.qname) AS \(type.baseType ?? "text")"
            if let collation = type.collation { sql += " COLLATE \(collation)" }
            if let defaultExpr = type.defaultExpr { sql += " DEFAULT \(defaultExpr)" }
            if type.notnull { sql += " NOT NULL" }
            var later = ""
            for constraint in domainConstraints where constraint.type == "c" {
                if constraint.validated {
                    sql += "\n\tCONSTRAINT \(constraint.qname) \(constraint.definition)"
                } else {
                    later += "ALTER DOMAIN \(type.qname) ADD CONSTRAINT \(constraint.qname) \(constraint.definition);\n"
                }
                represented[ObjectKey(catalog: "pg_constraint", oid: constraint.oid)] = key
                commentable("pg_constraint", constraint.oid, CommentTarget(
                    target: "CONSTRAINT \(constraint.qname) ON DOMAIN \(type.qname)", key: key, section: .preData,
                    schema: type.schema, name: "CONSTRAINT \(constraint.name) ON DOMAIN \(type.name)", owner: type.owner))
            }
            sql += ";\n"
            if !later.isEmpty {
                add(DumpObject(key: key.with(part: "notvalid"), kind: "CHECK CONSTRAINT", schema: type.schema, name: type.name,
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
        addOwner(of: key, kind: kind, target: target, schema: type.schema, name: type.name, owner: type.owner, section: .preData)
        addACL(of: key, target: kind == "DOMAIN" ? "DOMAIN \(type.qname)" : "TYPE \(type.qname)", schema: type.schema,
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

    private mutating func addFunction(_ function: FunctionRow) {
        let key = ObjectKey(catalog: "pg_proc", oid: function.oid)
        represented[key] = key
        let kind = function.kind == "p" ? "PROCEDURE" : "FUNCTION"
        let definition = (function.definition ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let signature = "\(function.qname)(\(function.identityArguments))"
        let name = "\(function.name)(\(function.identityArguments))"
        add(DumpObject(key: key, kind: kind, schema: function.schema, name: name, owner: function.owner, section: .preData,
                       sql: definition + ";\n\n"))
        addOwner(of: key, kind: kind, target: "\(kind) \(signature)", schema: function.schema, name: name, owner: function.owner, section: .preData)
        addACL(of: key, target: "\(kind) \(signature)", schema: function.schema, name: "\(kind) \(name)", owner: function.owner, privileges: function.acl)
        commentable("pg_proc", function.oid, CommentTarget(target: "\(kind) \(signature)", key: key, section: .preData,
                                                           schema: function.schema, name: "\(kind) \(name)", owner: function.owner))
    }

    private mutating func addAggregate(_ function: FunctionRow, _ aggregate: AggregateRow) {
        let key = ObjectKey(catalog: "pg_proc", oid: function.oid)
        represented[key] = key
        let arguments = function.arguments.isEmpty ? "*" : function.arguments
        var options = ["    SFUNC = \(aggregate.transfn)", "    STYPE = \(aggregate.transtype)"]
        if aggregate.transspace != 0 { options.append("    SSPACE = \(aggregate.transspace)") }
        if let finalfn = aggregate.finalfn {
            options.append("    FINALFUNC = \(finalfn)")
            if aggregate.finalextra { options.append("    FINALFUNC_EXTRA") }
            if aggregate.finalmodify != "r" {
                options.append("    FINALFUNC_MODIFY = \(aggregate.finalmodify == "s" ? "SHAREABLE" : "READ_WRITE")")
            }
        }
        if let combine = aggregate.combinefn { options.append("    COMBINEFUNC = \(combine)") }
        if let serial = aggregate.serialfn { options.append("    SERIALFUNC = \(serial)") }
        if let deserial = aggregate.deserialfn { options.append("    DESERIALFUNC = \(deserial)") }
        if let initval = aggregate.initval { options.append("    INITCOND = \(sqlLiteral(initval))") }
        if let msfunc = aggregate.mtransfn {
            options.append("    MSFUNC = \(msfunc)")
            if let minv = aggregate.minvtransfn { options.append("    MINVFUNC = \(minv)") }
            if let mstype = aggregate.mtranstype { options.append("    MSTYPE = \(mstype)") }
            if aggregate.mtransspace != 0 { options.append("    MSSPACE = \(aggregate.mtransspace)") }
            if let mfinal = aggregate.mfinalfn {
                options.append("    MFINALFUNC = \(mfinal)")
                if aggregate.mfinalextra { options.append("    MFINALFUNC_EXTRA") }
                if aggregate.mfinalmodify != "r" {
                    options.append("    MFINALFUNC_MODIFY = \(aggregate.mfinalmodify == "s" ? "SHAREABLE" : "READ_WRITE")")
                }
            }
            if let minit = aggregate.minitval { options.append("    MINITCOND = \(sqlLiteral(minit))") }
        }
        if let sortop = aggregate.sortop { options.append("    SORTOP = \(sortop)") }
        switch aggregate.parallel {
        case "s": options.append("    PARALLEL = safe")
        case "r": options.append("    PARALLEL = restricted")
        default: break
        }
        let signature = "\(function.qname)(\(function.identityArguments.isEmpty ? "*" : function.identityArguments))"
        let name = "\(function.name)(\(function.identityArguments))"
        add(DumpObject(key: key, kind: "AGGREGATE", schema: function.schema, name: name, owner: function.owner, section: .preData,
                       sql: "CREATE AGGREGATE \(function.qname)(\(arguments)) (\n\(options.joined(separator: ",\n"))\n);\n\n"))
        addOwner(of: key, kind: "AGGREGATE", target: "AGGREGATE \(signature)", schema: function.schema, name: name, owner: function.owner, section: .preData)
        addACL(of: key, target: "FUNCTION \(function.qname)(\(function.identityArguments))", schema: function.schema,
               name: "AGGREGATE \(name)", owner: function.owner, privileges: function.acl)
        commentable("pg_proc", function.oid, CommentTarget(target: "AGGREGATE \(signature)", key: key, section: .preData,
                                                           schema: function.schema, name: "AGGREGATE \(name)", owner: function.owner))
    }

    private mutating func addDefaultPrivileges(_ row: DefaultPrivilegeRow) {
        let objects: String
        switch row.objtype {
        case "r": objects = "TABLES"
        case "S": objects = "SEQUENCES"
        case "f": objects = "FUNCTIONS"
        case "T": objects = "TYPES"
        case "n": objects = "SCHEMAS"
        default: return
        }
        let prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE \(quoteIdent(row.role))" + (row.qschema.map { " IN SCHEMA \($0)" } ?? "")
        var sql = ""
        if row.schema == nil {
            // A global entry replaces the built-in defaults: start from nothing.
            sql += "\(prefix) REVOKE ALL ON \(objects) FROM PUBLIC;\n\(prefix) REVOKE ALL ON \(objects) FROM \(quoteIdent(row.role));\n"
        }
        for privilege in row.acl ?? [] { noteRole(privilege.grantee, as: "grantee") }
        noteRole(row.role, as: "owner")
        var index = 0
        let privileges = row.acl ?? []
        while index < privileges.count {
            let first = privileges[index]
            var names: [String] = []
            while index < privileges.count, privileges[index].grantee == first.grantee, privileges[index].grantable == first.grantable {
                names.append(privileges[index].privilege)
                index += 1
            }
            sql += "\(prefix) GRANT \(names.joined(separator: ",")) ON \(objects) TO \(first.grantee.map(quoteIdent) ?? "PUBLIC")\(first.grantable ? " WITH GRANT OPTION" : "");\n"
        }
        add(DumpObject(key: ObjectKey(catalog: "pg_default_acl", oid: row.oid), kind: "DEFAULT ACL", schema: row.schema,
                       name: "DEFAULT PRIVILEGES FOR \(objects)", owner: row.role, section: .postData, sql: sql + "\n"))
    }

    // MARK: - Sequences

    private func readSequenceValues(_ sequences: [SequenceRow]) throws -> [UInt32: (String, Bool)] {
        var values: [UInt32: (String, Bool)] = [:]
        // One query for all sequences: a UNION of one-row selects.
        for batch in stride(from: 0, to: sequences.count, by: 200).map({ Array(sequences[$0..<min($0 + 200, sequences.count)]) }) {
            let sql = batch.map { "SELECT \($0.oid)::oid AS oid, last_value::text AS value, is_called FROM \($0.qname)" }.joined(separator: "\nUNION ALL\n")
            for row in try connection.query(sql).rows {
                values[UInt32(try row.int("oid"))] = (try row.string("value"), try row.bool("is_called"))
            }
        }
        return values
    }

    private mutating func addSequence(_ sequence: SequenceRow, value: (String, Bool)?) {
        let key = ObjectKey(catalog: "pg_class", oid: sequence.oid)
        represented[key] = key
        var options = "    START WITH \(sequence.start)\n    INCREMENT BY \(sequence.increment)\n"
        options += "    MINVALUE \(sequence.min)\n    MAXVALUE \(sequence.max)\n    CACHE \(sequence.cache)"
        if sequence.cycle { options += "\n    CYCLE" }
        if sequence.ownership == "i", let table = sequence.ownerTable, let column = sequence.ownerColumnQ, let tableOid = sequence.ownerTableOid {
            // The identity column's sequence comes with the column.
            let always = relationsByOid[tableOid]?.columns?.first(where: { $0.name == sequence.ownerColumn })?.identity == "a"
            add(DumpObject(key: key, kind: "SEQUENCE", schema: sequence.schema, name: sequence.name, owner: sequence.owner, section: .preData,
                           sql: "ALTER TABLE \(table) ALTER COLUMN \(column) ADD GENERATED \(always ? "ALWAYS" : "BY DEFAULT") AS IDENTITY (\n    SEQUENCE NAME \(sequence.qname)\n\(options)\n);\n\n",
                           dependencies: [ObjectKey(catalog: "pg_class", oid: tableOid)]))
        } else {
            let type = sequence.type == "bigint" ? "" : "    AS \(sequence.type)\n"
            add(DumpObject(key: key, kind: "SEQUENCE", schema: sequence.schema, name: sequence.name, owner: sequence.owner, section: .preData,
                           sql: "CREATE SEQUENCE \(sequence.qname)\n\(type)\(options);\n\n"))
            addOwner(of: key, kind: "SEQUENCE", target: "SEQUENCE \(sequence.qname)", schema: sequence.schema, name: sequence.name,
                     owner: sequence.owner, section: .preData)
            if sequence.ownership == "a", let table = sequence.ownerTable, let column = sequence.ownerColumnQ, let tableOid = sequence.ownerTableOid {
                add(DumpObject(key: key.with(part: "ownedby"), kind: "SEQUENCE OWNED BY", schema: sequence.schema, name: sequence.name,
                               owner: sequence.owner, section: .preData,
                               sql: "ALTER SEQUENCE \(sequence.qname) OWNED BY \(table).\(column);\n\n",
                               dependencies: [key, ObjectKey(catalog: "pg_class", oid: tableOid)]))
            }
        }
        addACL(of: key, target: "SEQUENCE \(sequence.qname)", schema: sequence.schema, name: "SEQUENCE \(sequence.name)",
               owner: sequence.owner, privileges: sequence.acl)
        if let (last, called) = value {
            add(DumpObject(key: key.with(part: "set"), kind: "SEQUENCE SET", schema: sequence.schema, name: sequence.name,
                           owner: sequence.owner, section: .data,
                           sql: "SELECT pg_catalog.setval(\(sqlLiteral(sequence.qname)), \(last), \(called));\n\n", dependencies: [key]))
        }
        commentable("pg_class", sequence.oid, CommentTarget(target: "SEQUENCE \(sequence.qname)", key: key, section: .preData,
                                                            schema: sequence.schema, name: "SEQUENCE \(sequence.name)", owner: sequence.owner))
    }

    // MARK: - Tables and views

    private mutating func addRelation(_ relation: RelationRow, checks: [ConstraintRow]) {
        let key = ObjectKey(catalog: "pg_class", oid: relation.oid)
        represented[key] = key
        let columns = relation.columns ?? []
        var keyword = "TABLE"
        var sql = ""
        var extra = ""
        switch relation.kind {
        case "v":
            keyword = "VIEW"
            let options = relation.reloptions.map { " WITH (\($0.joined(separator: ", ")))" } ?? ""
            sql = "CREATE VIEW \(relation.qname)\(options) AS\n\(Self.trimmedViewDefinition(relation.viewdef))\n;\n"
        case "m":
            keyword = "MATERIALIZED VIEW"
            let access = relation.accessMethod.map { $0 == "heap" ? "" : " USING \(quoteIdent($0))" } ?? ""
            let options = relation.reloptions.map { " WITH (\($0.joined(separator: ", ")))" } ?? ""
            sql = "CREATE MATERIALIZED VIEW \(relation.qname)\(access)\(options) AS\n\(Self.trimmedViewDefinition(relation.viewdef))\n  WITH NO DATA;\n"
        default:
            let partition = relation.ispartition
            var lines: [String] = []
            for column in columns where partition || column.islocal || (relation.parents ?? []).isEmpty {
                var line = "    \(column.qname) \(column.type)"
                if let collation = column.collation { line += " COLLATE \(collation)" }
                if column.generated == "s", let expression = column.defaultExpr {
                    line += " GENERATED ALWAYS AS (\(expression)) STORED"
                }
                if column.notnull { line += " NOT NULL" }
                lines.append(line)
            }
            for check in checks where check.islocal && check.validated {
                lines.append("    CONSTRAINT \(check.qname) \(check.definition)")
                represented[ObjectKey(catalog: "pg_constraint", oid: check.oid)] = key
                commentable("pg_constraint", check.oid, CommentTarget(
                    target: "CONSTRAINT \(check.qname) ON \(relation.qname)", key: key, section: .preData,
                    schema: relation.schema, name: "CONSTRAINT \(check.name) ON \(relation.name)", owner: relation.owner))
            }
            sql = "CREATE \(relation.persistence == "u" ? "UNLOGGED " : "")TABLE \(relation.qname) (\n\(lines.joined(separator: ",\n"))\n)"
            if !partition, let parents = relation.parents, !parents.isEmpty {
                sql += "\nINHERITS (\(parents.joined(separator: ", ")))"
            }
            if let partkey = relation.partkey { sql += "\nPARTITION BY \(partkey)" }
            if let access = relation.accessMethod, access != "heap" { sql += "\nUSING \(quoteIdent(access))" }
            if let options = relation.reloptions { sql += "\nWITH (\(options.joined(separator: ", ")))" }
            sql += ";\n"
            for column in columns {
                let alter = "ALTER TABLE ONLY \(relation.qname) ALTER COLUMN \(column.qname)"
                if !partition, !column.islocal, column.notnull, !(relation.parents ?? []).isEmpty { extra += "\(alter) SET NOT NULL;\n" }
                if let storage = column.storage, let typstorage = column.typstorage, storage != typstorage {
                    let name = ["p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"][storage] ?? "EXTENDED"
                    extra += "\(alter) SET STORAGE \(name);\n"
                }
                if let target = column.stattarget, target >= 0 { extra += "\(alter) SET STATISTICS \(target);\n" }
                if let options = column.options, !options.isEmpty { extra += "\(alter) SET (\(options.joined(separator: ", ")));\n" }
            }
            switch relation.replident {
            case "n": extra += "ALTER TABLE ONLY \(relation.qname) REPLICA IDENTITY NOTHING;\n"
            case "f": extra += "ALTER TABLE ONLY \(relation.qname) REPLICA IDENTITY FULL;\n"
            default: break
            }
            if relation.kind == "r" {
                let copyColumns = columns.filter { $0.generated.isEmpty }.map(\.qname).joined(separator: ", ")
                dataTables.append(TableDataSource(oid: relation.oid, schema: relation.schema, name: relation.name, owner: relation.owner, qualifiedName: relation.qname,
                                                  copyTarget: "\(relation.qname) (\(copyColumns))", estimatedBytes: relation.estimatedBytes))
            }
        }
        add(DumpObject(key: key, kind: keyword, schema: relation.schema, name: relation.name, owner: relation.owner,
                       section: .preData, sql: sql + extra + "\n"))
        if relation.ispartition, let parent = relation.parents?.first, let parentOid = relation.parentOids?.first, let bound = relation.partbound {
            add(DumpObject(key: key.with(part: "attach"), kind: "TABLE ATTACH", schema: relation.schema, name: relation.name,
                           owner: relation.owner, section: .preData,
                           sql: "ALTER TABLE ONLY \(parent) ATTACH PARTITION \(relation.qname) \(bound);\n\n",
                           dependencies: [key, ObjectKey(catalog: "pg_class", oid: parentOid)]))
        }
        // Column defaults come separately, after tables, sequences and functions.
        for column in columns where column.generated.isEmpty {
            guard let defaultOid = column.defaultOid, let expression = column.defaultExpr else { continue }
            let defaultKey = ObjectKey(catalog: "pg_attrdef", oid: defaultOid)
            represented[defaultKey] = defaultKey
            add(DumpObject(key: defaultKey, kind: "DEFAULT", schema: relation.schema, name: "\(relation.name) \(column.name)",
                           owner: relation.owner, section: .preData,
                           sql: "ALTER TABLE ONLY \(relation.qname) ALTER COLUMN \(column.qname) SET DEFAULT \(expression);\n\n",
                           dependencies: [key]))
        }
        for column in columns where column.generated == "s" {
            if let defaultOid = column.defaultOid { represented[ObjectKey(catalog: "pg_attrdef", oid: defaultOid)] = key }
        }
        addOwner(of: key, kind: keyword, target: "\(keyword) \(relation.qname)", schema: relation.schema, name: relation.name,
                 owner: relation.owner, section: .preData)
        let columnPrivileges = columns.compactMap { column in column.acl.map { (column.qname, $0) } }
        addACL(of: key, target: "TABLE \(relation.qname)", schema: relation.schema, name: "TABLE \(relation.name)",
               owner: relation.owner, privileges: relation.acl, columnPrivileges: columnPrivileges)
        var comment = CommentTarget(target: "\(keyword) \(relation.qname)", key: key, section: .preData, schema: relation.schema,
                                    name: "\(keyword) \(relation.name)", owner: relation.owner)
        for column in columns { comment.columns[column.num] = column.qname }
        comment.qualifiedName = relation.qname
        commentable("pg_class", relation.oid, comment)

        if relation.rowsecurity || relation.forcerowsecurity {
            var rls = ""
            if relation.rowsecurity { rls += "ALTER TABLE \(relation.qname) ENABLE ROW LEVEL SECURITY;\n" }
            if relation.forcerowsecurity { rls += "ALTER TABLE \(relation.qname) FORCE ROW LEVEL SECURITY;\n" }
            add(DumpObject(key: key.with(part: "rls"), kind: "ROW SECURITY", schema: relation.schema, name: relation.name,
                           owner: relation.owner, section: .postData, sql: rls + "\n", dependencies: [key]))
        }
    }

    static func trimmedViewDefinition(_ definition: String?) -> String {
        var text = (definition ?? "").trimmingCharacters(in: .newlines)
        while text.hasSuffix(";") || text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    private mutating func addMaterializedViewRefreshes() {
        guard !selection.schemaOnly else { return }
        let matviews = objects.filter { $0.kind == "MATERIALIZED VIEW" }
        let matviewKeys = Set(matviews.map(\.key))
        for view in matviews {
            guard let relation = relationsByOid[view.key.oid], relation.ispopulated else { continue }
            var dependencies: Set<ObjectKey> = [view.key]
            for dependency in view.dependencies where matviewKeys.contains(dependency) {
                dependencies.insert(dependency.with(part: "refresh"))
            }
            add(DumpObject(key: view.key.with(part: "refresh"), kind: "MATERIALIZED VIEW DATA", schema: view.schema, name: view.name,
                           owner: view.owner, section: .postData, sql: "REFRESH MATERIALIZED VIEW \(relation.qname);\n\n",
                           dependencies: dependencies))
        }
    }

    // MARK: - Constraints, indexes, triggers, policies

    private mutating func addConstraint(_ constraint: ConstraintRow) {
        guard let relation = relationsByOid[constraint.relationOid] else { return }
        let key = ObjectKey(catalog: "pg_constraint", oid: constraint.oid)
        let tableKey = ObjectKey(catalog: "pg_class", oid: constraint.relationOid)
        let only = relation.kind == "p" && constraint.type == "f" ? "" : "ONLY "
        let kind: String
        switch constraint.type {
        case "c":
            // Valid local checks are part of CREATE TABLE; inherited ones come with the parent.
            guard constraint.islocal, !constraint.validated else { return }
            kind = "CHECK CONSTRAINT"
        case "f":
            // A foreign key on a partition comes from its partitioned parent's.
            guard constraint.parentOid == 0 else {
                represented[key] = ObjectKey(catalog: "pg_constraint", oid: constraint.parentOid)
                return
            }
            kind = "FK CONSTRAINT"
        default:
            kind = "CONSTRAINT"
        }
        represented[key] = key
        if constraint.indexOid != 0, constraint.type != "f" {
            represented[ObjectKey(catalog: "pg_class", oid: constraint.indexOid)] = key
        }
        var sql = "ALTER TABLE \(only)\(constraint.relation)\n    ADD CONSTRAINT \(constraint.qname) \(constraint.definition);\n"
        if constraint.type != "f", let index = indexOptions[constraint.indexOid] { sql += Self.indexOptionStatements(index) }
        add(DumpObject(key: key, kind: kind, schema: constraint.relationSchema, name: "\(constraint.relationName) \(constraint.name)",
                       owner: relation.owner, section: .postData, sql: sql + "\n", dependencies: [tableKey]))
        commentable("pg_constraint", constraint.oid, CommentTarget(
            target: "CONSTRAINT \(constraint.qname) ON \(constraint.relation)", key: key, section: .postData,
            schema: constraint.relationSchema, name: "CONSTRAINT \(constraint.name) ON \(constraint.relationName)", owner: relation.owner))
    }

    private mutating func addIndex(_ index: IndexRow) {
        guard index.constraintOid == nil else { return }
        let key = ObjectKey(catalog: "pg_class", oid: index.oid)
        represented[key] = key
        let owner = relationsByOid[index.tableOid]?.owner
        let sql = index.definition + ";\n" + Self.indexOptionStatements(index)
        add(DumpObject(key: key, kind: "INDEX", schema: index.schema, name: index.name, owner: owner, section: .postData,
                       sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: index.tableOid)]))
        commentable("pg_class", index.oid, CommentTarget(target: "INDEX \(index.qname)", key: key, section: .postData,
                                                         schema: index.schema, name: "INDEX \(index.name)", owner: owner))
    }

    /// CLUSTER ON and REPLICA IDENTITY USING INDEX, which name an index.
    static func indexOptionStatements(_ index: IndexRow) -> String {
        var sql = ""
        if index.clustered { sql += "ALTER TABLE \(index.table) CLUSTER ON \(quoteIdent(index.name));\n" }
        if index.replicaIdentity { sql += "ALTER TABLE ONLY \(index.table) REPLICA IDENTITY USING INDEX \(quoteIdent(index.name));\n" }
        return sql
    }

    private mutating func addIndexAttach(_ index: IndexRow) {
        guard let parent = index.parentIndex, let parentOid = index.parentIndexOid else { return }
        let childKey = represented[ObjectKey(catalog: "pg_class", oid: index.oid)] ?? ObjectKey(catalog: "pg_class", oid: index.oid)
        let parentKey = represented[ObjectKey(catalog: "pg_class", oid: parentOid)] ?? ObjectKey(catalog: "pg_class", oid: parentOid)
        add(DumpObject(key: ObjectKey(catalog: "pg_class", oid: index.oid, part: "attach"), kind: "INDEX ATTACH", schema: index.schema,
                       name: index.name, owner: relationsByOid[index.tableOid]?.owner, section: .postData,
                       sql: "ALTER INDEX \(parent) ATTACH PARTITION \(index.qname);\n\n", dependencies: [childKey, parentKey]))
    }

    private mutating func addTrigger(_ trigger: TriggerRow) {
        let key = ObjectKey(catalog: "pg_trigger", oid: trigger.oid)
        represented[key] = key
        var sql = trigger.definition + ";\n"
        switch trigger.enabled {
        case "D": sql += "ALTER TABLE \(trigger.table) DISABLE TRIGGER \(trigger.qname);\n"
        case "R": sql += "ALTER TABLE \(trigger.table) ENABLE REPLICA TRIGGER \(trigger.qname);\n"
        case "A": sql += "ALTER TABLE \(trigger.table) ENABLE ALWAYS TRIGGER \(trigger.qname);\n"
        default: break
        }
        let owner = relationsByOid[trigger.tableOid]?.owner
        add(DumpObject(key: key, kind: "TRIGGER", schema: trigger.schema, name: "\(trigger.tableName) \(trigger.name)", owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: trigger.tableOid)]))
        commentable("pg_trigger", trigger.oid, CommentTarget(target: "TRIGGER \(trigger.qname) ON \(trigger.table)", key: key, section: .postData,
                                                             schema: trigger.schema, name: "TRIGGER \(trigger.tableName) \(trigger.name)", owner: owner))
    }

    private mutating func addPolicy(_ policy: PolicyRow) {
        let key = ObjectKey(catalog: "pg_policy", oid: policy.oid)
        represented[key] = key
        var sql = "CREATE POLICY \(policy.qname) ON \(policy.table)"
        if !policy.permissive { sql += " AS RESTRICTIVE" }
        switch policy.command {
        case "r": sql += " FOR SELECT"
        case "a": sql += " FOR INSERT"
        case "w": sql += " FOR UPDATE"
        case "d": sql += " FOR DELETE"
        default: break
        }
        if let roles = policy.roles {
            sql += " TO \(roles.joined(separator: ", "))"
            for role in roles where role != "PUBLIC" { noteRole(role, as: "grantee") }
        }
        if let qual = policy.qual { sql += " USING (\(qual))" }
        if let check = policy.withCheck { sql += " WITH CHECK (\(check))" }
        let owner = relationsByOid[policy.tableOid]?.owner
        add(DumpObject(key: key, kind: "POLICY", schema: policy.schema, name: "\(policy.tableName) \(policy.name)", owner: owner,
                       section: .postData, sql: sql + ";\n\n", dependencies: [ObjectKey(catalog: "pg_class", oid: policy.tableOid)]))
        commentable("pg_policy", policy.oid, CommentTarget(target: "POLICY \(policy.qname) ON \(policy.table)", key: key, section: .postData,
                                                           schema: policy.schema, name: "POLICY \(policy.tableName) \(policy.name)", owner: owner))
    }

    private mutating func addStatistics(_ statistic: StatisticsRow) {
        let key = ObjectKey(catalog: "pg_statistic_ext", oid: statistic.oid)
        represented[key] = key
        var sql = statistic.definition + ";\n"
        if let target = statistic.stattarget, target >= 0 { sql += "ALTER STATISTICS \(statistic.qname) SET STATISTICS \(target);\n" }
        add(DumpObject(key: key, kind: "STATISTICS", schema: statistic.schema, name: statistic.name, owner: statistic.owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: statistic.tableOid)]))
        addOwner(of: key, kind: "STATISTICS", target: "STATISTICS \(statistic.qname)", schema: statistic.schema, name: statistic.name,
                 owner: statistic.owner, section: .postData)
        commentable("pg_statistic_ext", statistic.oid, CommentTarget(target: "STATISTICS \(statistic.qname)", key: key, section: .postData,
                                                                     schema: statistic.schema, name: "STATISTICS \(statistic.name)", owner: statistic.owner))
    }

    // MARK: - Dependencies

    private mutating func addDependencies() throws {
        let links: [CatalogLinkRow] = try decodeRows(connection, CatalogQueries.links)
        var stand: [ObjectKey: ObjectKey] = [:]
        for link in links {
            switch link.link {
            case "type-element": stand[ObjectKey(catalog: "pg_type", oid: link.oid)] = ObjectKey(catalog: "pg_type", oid: link.target)
            case "type-relation": stand[ObjectKey(catalog: "pg_type", oid: link.oid)] = ObjectKey(catalog: "pg_class", oid: link.target)
            case "rule": stand[ObjectKey(catalog: "pg_rewrite", oid: link.oid)] = ObjectKey(catalog: "pg_class", oid: link.target)
            default: break
            }
        }
        let rows: [DependencyRow] = try decodeRows(connection, CatalogQueries.dependencies)
        var extensionOf: [ObjectKey: ObjectKey] = [:]
        for row in rows where row.type == "e" && row.refCatalog == "pg_extension" {
            extensionOf[ObjectKey(catalog: row.catalog, oid: row.oid)] = ObjectKey(catalog: "pg_extension", oid: row.refOid)
        }
        func resolve(_ key: ObjectKey) -> ObjectKey? {
            var current = key
            for _ in 0..<4 {
                if let found = represented[current] { return found }
                if let member = extensionOf[current] { return represented[member] }
                guard let next = stand[current] else { return nil }
                current = next
            }
            return nil
        }
        var positions: [ObjectKey: Int] = [:]
        for (position, object) in objects.enumerated() where object.key.part.isEmpty { positions[object.key] = position }
        for row in rows where row.type != "e" {
            guard let from = resolve(ObjectKey(catalog: row.catalog, oid: row.oid)),
                  let to = resolve(ObjectKey(catalog: row.refCatalog, oid: row.refOid)), from != to,
                  let position = positions[from] else { continue }
            // A serial's sequence is created before its table; OWNED BY comes after both.
            if row.type == "a", objects[position].kind == "SEQUENCE", row.refCatalog == "pg_class" { continue }
            objects[position].dependencies.insert(to)
        }
    }

    /// pg_dump moves a post-data object into pre-data when a pre-data object
    /// needs it (a view that relies on a primary key for GROUP BY).
    private mutating func moveDependenciesOfPreData() {
        var positions: [ObjectKey: Int] = [:]
        for (position, object) in objects.enumerated() { positions[object.key] = position }
        var queue = objects.indices.filter { objects[$0].section == .preData }
        while let position = queue.popLast() {
            for dependency in objects[position].dependencies {
                guard let target = positions[dependency], objects[target].section == .postData else { continue }
                objects[target].section = .preData
                queue.append(target)
            }
        }
    }
}

// MARK: - Names

/// `quote_ident`: quotes a name unless it is a plain lowercase identifier
/// that is not a keyword. Keywords are quoted conservatively.
func quoteIdent(_ name: String) -> String {
    let plain = name.first.map { $0 == "_" || ("a"..."z").contains($0) } ?? false
        && name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    if plain && !SQLKeywords.reserved.contains(name) { return name }
    return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

enum SQLKeywords {
    /// Keywords that cannot be role or column names unquoted (a superset is harmless: it only adds quotes).
    static let reserved: Set<String> = [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary", "both", "case", "cast",
        "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
        "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc",
        "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
        "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left",
        "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order",
        "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select", "session_user", "similar", "some",
        "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using",
        "variadic", "verbose", "when", "where", "window", "with", "public", "none",
    ]
}
