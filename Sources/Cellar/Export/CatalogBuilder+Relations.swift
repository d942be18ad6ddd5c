import PostgresClient

// Sequences, tables, views and materialized views.

extension CatalogBuilder {
    // MARK: - Sequences

    /// Whether a parent generates this column with the same expression.
    func inheritsGeneration(_ column: ColumnRow, expression: String, parents: [UInt32]) -> Bool {
        guard column.inhcount > 0 else { return false }
        return parents.contains { parent in
            relationsByOid[parent]?.columns?.contains { $0.name == column.name && $0.generated == "s" && $0.defaultExpr == expression } ?? false
        }
    }

    mutating func addSequence(_ sequence: SequenceRow, value: (String, Bool)?) throws {
        let key = ObjectKey(catalog: "pg_class", oid: sequence.oid)
        represented[key] = key
        var options = "    START WITH \(sequence.start)\n    INCREMENT BY \(sequence.increment)\n"
        options += "    MINVALUE \(sequence.min)\n    MAXVALUE \(sequence.max)\n    CACHE \(sequence.cache)"
        if sequence.cycle { options += "\n    CYCLE" }
        if sequence.ownership == "i", let table = sequence.ownerTable, let column = sequence.ownerColumnQ, let tableOid = sequence.ownerTableOid {
            // The identity column's sequence comes with the column.
            let always = relationsByOid[tableOid]?.columns?.first(where: { $0.name == sequence.ownerColumn })?.identity == "a"
            // As pg_dump: the sequence's persistence only where it differs from
            // its table's (a logged sequence of an unlogged table).
            var persistence = ""
            if let tablePersistence = relationsByOid[tableOid]?.persistence, (sequence.persistence ?? "p") != tablePersistence {
                persistence = sequence.persistence == "u" ? "    UNLOGGED\n" : "    LOGGED\n"
            }
            add(DumpObject(key: key, kind: .sequence, schema: sequence.schema, name: sequence.name, owner: sequence.owner, section: .preData,
                           sql: "ALTER TABLE \(table) ALTER COLUMN \(column) ADD GENERATED \(always ? "ALWAYS" : "BY DEFAULT") AS IDENTITY (\n    SEQUENCE NAME \(sequence.qname)\n\(persistence)\(options)\n);\n\n",
                           dependencies: [ObjectKey(catalog: "pg_class", oid: tableOid)]))
        } else {
            let type = sequence.type == "bigint" ? "" : "    AS \(sequence.type)\n"
            add(DumpObject(key: key, kind: .sequence, schema: sequence.schema, name: sequence.name, owner: sequence.owner, section: .preData,
                           sql: "CREATE \(sequence.persistence == "u" ? "UNLOGGED " : "")SEQUENCE \(sequence.qname)\n\(type)\(options);\n\n"))
            try addOwner(of: key, kind: .sequence, target: "SEQUENCE \(sequence.qname)", schema: sequence.schema, name: sequence.name,
                     owner: sequence.owner, section: .preData)
            if sequence.ownership == "a", let table = sequence.ownerTable, let column = sequence.ownerColumnQ, let tableOid = sequence.ownerTableOid {
                add(DumpObject(key: key.with(part: "ownedby"), kind: .sequenceOwnedBy, schema: sequence.schema, name: sequence.name,
                               owner: sequence.owner, section: .preData,
                               sql: "ALTER SEQUENCE \(sequence.qname) OWNED BY \(table).\(column);\n\n",
                               // After both OWNERs, as pg_dump orders them: once linked, a
                               // sequence's owner only changes with its table's, and the
                               // link needs them equal ("sequence must have same owner as
                               // table it is linked to").
                               dependencies: [key, key.with(part: "owner"), ObjectKey(catalog: "pg_class", oid: tableOid),
                                              ObjectKey(catalog: "pg_class", oid: tableOid, part: "owner")]))
            }
        }
        try addACL(of: key, target: "SEQUENCE \(sequence.qname)", schema: sequence.schema, name: "SEQUENCE \(sequence.name)",
               owner: sequence.owner, privileges: sequence.acl)
        if let (last, called) = value {
            add(DumpObject(key: key.with(part: "set"), kind: .sequenceSet, schema: sequence.schema, name: sequence.name,
                           owner: sequence.owner, section: .data,
                           sql: "SELECT pg_catalog.setval(\(try SQLQuoting.literal(sequence.qname)), \(last), \(called));\n\n", dependencies: [key]))
        }
        commentable("pg_class", sequence.oid, CommentTarget(target: "SEQUENCE \(sequence.qname)", key: key, section: .preData,
                                                            schema: sequence.schema, name: "SEQUENCE \(sequence.name)", owner: sequence.owner))
    }

    // MARK: - Tables and views

    /// A table, view or materialized view, with its column defaults, owner,
    /// privileges and row security.
    /// - Parameter checks: the relation's CHECK constraints.
    mutating func addRelation(_ relation: RelationRow, checks: [ConstraintRow]) throws {
        let key = ObjectKey(catalog: "pg_class", oid: relation.oid)
        represented[key] = key
        let columns = relation.columns ?? []
        var keyword = ArchiveEntry.Kind.table
        var sql = ""
        var extra = ""
        switch relation.kind {
        case "v":
            keyword = .view
            let options = relation.reloptions.map { " WITH (\($0.joined(separator: ", ")))" } ?? ""
            sql = "CREATE VIEW \(relation.qname)\(options) AS\n\(Self.trimmedViewDefinition(relation.viewdef))\n;\n"
        case "m":
            keyword = .materializedView
            let access = try relation.accessMethod.map { $0 == "heap" ? "" : " USING \(try SQLQuoting.identifier($0))" } ?? ""
            let options = relation.reloptions.map { " WITH (\($0.joined(separator: ", ")))" } ?? ""
            sql = "CREATE MATERIALIZED VIEW \(relation.qname)\(access)\(options) AS\n\(Self.trimmedViewDefinition(relation.viewdef))\n  WITH NO DATA;\n"
        default:
            let partition = relation.ispartition
            var lines: [String] = []
            for column in columns where partition || column.islocal || (relation.parents ?? []).isEmpty {
                var line = "    \(column.qname) \(column.type)"
                if let collation = column.collation { line += " COLLATE \(collation)" }
                // A column a parent generates is generated in the child by
                // INHERITS, which refuses the expression written again
                // ("child column specifies generation expression"), as pg_dump 15 omits it.
                if column.generated == "s", let expression = column.defaultExpr,
                   partition || !inheritsGeneration(column, expression: expression, parents: relation.parentOids ?? []) {
                    line += " GENERATED ALWAYS AS (\(expression)) STORED"
                }
                if column.notnull { line += " NOT NULL" }
                lines.append(line)
            }
            // As pg_dump: valid CHECK constraints of the table's own go inline; a
            // partition also repeats its parents' (which ATTACH PARTITION
            // requires it to have), an inheritance child gets them from INHERITS.
            for check in checks where check.validated && (check.islocal || partition) && !excluded("pg_constraint", check.oid) {
                let line = "    CONSTRAINT \(check.qname) \(check.definition)"
                lines.append(line)
                represented[ObjectKey(catalog: "pg_constraint", oid: check.oid)] = key
                if check.islocal && !partition {
                    detachable[ObjectKey(catalog: "pg_constraint", oid: check.oid)] = .check(
                        table: key, name: check.name, line: line,
                        statement: "ALTER TABLE \(relation.qname)\n    ADD CONSTRAINT \(check.qname) \(check.definition);\n")
                }
                commentable("pg_constraint", check.oid, CommentTarget(
                    target: "CONSTRAINT \(check.qname) ON \(relation.qname)", key: key, section: .preData,
                    schema: relation.schema, name: "CONSTRAINT \(check.name) ON \(relation.name)", owner: relation.owner))
            }
            let body = lines.isEmpty ? "" : lines.joined(separator: ",\n") + "\n"
            sql = "CREATE \(relation.persistence == "u" ? "UNLOGGED " : "")TABLE \(relation.qname) (\n\(body))"
            if let oftype = relation.oftype {
                // A typed table's columns are its type's: as pg_dump, name only those with options of their own.
                lines = columns.filter(\.notnull).map { "    \($0.qname) WITH OPTIONS NOT NULL" } + lines.filter { $0.hasPrefix("    CONSTRAINT ") }
                sql = "CREATE \(relation.persistence == "u" ? "UNLOGGED " : "")TABLE \(relation.qname) OF \(oftype)"
                if !lines.isEmpty { sql += " (\n\(lines.joined(separator: ",\n"))\n)" }
            }
            if !partition, let parents = relation.parents, !parents.isEmpty {
                sql += "\nINHERITS (\(parents.joined(separator: ", ")))"
            }
            if let partkey = relation.partkey { sql += "\nPARTITION BY \(partkey)" }
            if let access = relation.accessMethod, access != "heap" { sql += "\nUSING \(try SQLQuoting.identifier(access))" }
            let options = (relation.reloptions ?? []) + (relation.toastoptions ?? []).map { "toast.\($0)" }
            if !options.isEmpty { sql += "\nWITH (\(options.joined(separator: ", ")))" }
            sql += ";\n"
            for column in columns {
                let alter = "ALTER TABLE ONLY \(relation.qname) ALTER COLUMN \(column.qname)"
                if !partition, !column.islocal, column.notnull, !(relation.parents ?? []).isEmpty { extra += "\(alter) SET NOT NULL;\n" }
                if let storage = column.storage, let typstorage = column.typstorage, storage != typstorage {
                    let name = ["p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"][storage] ?? "EXTENDED"
                    extra += "\(alter) SET STORAGE \(name);\n"
                }
                if let method = column.compression.flatMap({ ["p": "pglz", "l": "lz4"][$0] }) {
                    extra += "\(alter) SET COMPRESSION \(method);\n"
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
                dataTables.append(TableDataSource(oid: relation.oid, schema: relation.schema, name: relation.name, owner: relation.owner, qualifiedName: relation.qname,
                                                  copyTarget: Self.copyTarget(relation), estimatedBytes: relation.estimatedBytes))
            }
        }
        add(DumpObject(key: key, kind: keyword, schema: relation.schema, name: relation.name, owner: relation.owner,
                       section: .preData, sql: sql + extra + "\n", tablespace: relation.tablespace))
        if relation.ispartition, let parent = relation.parents?.first, let parentOid = relation.parentOids?.first, let bound = relation.partbound {
            add(DumpObject(key: key.with(part: "attach"), kind: .tableAttach, schema: relation.schema, name: relation.name,
                           owner: relation.owner, section: .preData,
                           sql: "ALTER TABLE ONLY \(parent) ATTACH PARTITION \(relation.qname) \(bound);\n\n",
                           dependencies: [key, ObjectKey(catalog: "pg_class", oid: parentOid)]))
        }
        // Column defaults come separately, after tables, sequences and functions.
        for column in columns where column.generated.isEmpty {
            guard let defaultOid = column.defaultOid, let expression = column.defaultExpr, !excluded("pg_attrdef", defaultOid) else { continue }
            let defaultKey = ObjectKey(catalog: "pg_attrdef", oid: defaultOid)
            represented[defaultKey] = defaultKey
            add(DumpObject(key: defaultKey, kind: .default, schema: relation.schema, name: "\(relation.name) \(column.name)",
                           owner: relation.owner, section: .preData,
                           sql: "ALTER TABLE ONLY \(relation.qname) ALTER COLUMN \(column.qname) SET DEFAULT \(expression);\n\n",
                           dependencies: [key]))
        }
        for column in columns where column.generated == "s" {
            if let defaultOid = column.defaultOid { represented[ObjectKey(catalog: "pg_attrdef", oid: defaultOid)] = key }
        }
        try addOwner(of: key, kind: keyword, target: "\(keyword) \(relation.qname)", schema: relation.schema, name: relation.name,
                 owner: relation.owner, section: .preData)
        let columnPrivileges = columns.compactMap { column in column.acl.map { (column.qname, $0) } }
        try addACL(of: key, target: "TABLE \(relation.qname)", schema: relation.schema, name: "TABLE \(relation.name)",
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
            add(DumpObject(key: key.with(part: "rls"), kind: .rowSecurity, schema: relation.schema, name: relation.name,
                           owner: relation.owner, section: .postData, sql: rls + "\n", dependencies: [key]))
        }
    }

    /// What `COPY ... TO STDOUT` and `COPY ... FROM stdin` name: the table and
    /// its stored columns, or (as pg_dump) the table alone when it has none,
    /// since `COPY t ()` is a syntax error. Without a list, COPY also skips
    /// generated columns, so both spellings move the same fields.
    static func copyTarget(_ relation: RelationRow) -> String {
        let columns = (relation.columns ?? []).filter { $0.generated.isEmpty }.map(\.qname)
        return columns.isEmpty ? relation.qname : "\(relation.qname) (\(columns.joined(separator: ", ")))"
    }

    static func trimmedViewDefinition(_ definition: String?) -> String {
        var text = (definition ?? "").trimmingCharacters(in: .newlines)
        while text.hasSuffix(";") || text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// REFRESH MATERIALIZED VIEW for each populated one, after the refreshes
    /// of the materialized views it reads, directly or through views (as
    /// pg_dump's buildMatViewRefreshDependencies): one refreshed first would
    /// read an unpopulated one and fail.
    mutating func addMaterializedViewRefreshes() {
        guard !selection.schemaOnly else { return }
        // Only views, materialized views and split-out view rules matter here.
        var viewPositions: [ObjectKey: Int] = [:]
        let splitRules = Set(splitViews.values)
        for (position, object) in objects.enumerated()
        where object.kind == .materializedView || object.kind == .view || splitRules.contains(object.key) {
            viewPositions[object.key] = position
        }
        // What each view reads that a refresh must wait for, found once per view.
        var throughView: [ObjectKey: Set<ObjectKey>] = [:]
        func refreshNeeds(_ dependencies: [ObjectKey]) -> Set<ObjectKey> {
            var needs: Set<ObjectKey> = []
            var pending = Array(dependencies)
            var seen: Set<ObjectKey> = []
            while let key = pending.popLast() {
                guard seen.insert(key).inserted, let position = viewPositions[key] else { continue }
                let object = objects[position]
                if object.kind == .materializedView {
                    needs.insert(key.with(part: "refresh"))
                } else if let known = throughView[key] {
                    needs.formUnion(known)
                } else {
                    // A view split by a cycle reads through its RULE entry.
                    if key.catalog == "pg_class", let rule = splitViews[key.oid] {
                        needs.insert(rule)
                        pending.append(rule)
                    }
                    pending += object.dependencies
                }
            }
            return needs
        }
        for (key, position) in viewPositions where objects[position].kind == .view {
            throughView[key] = refreshNeeds(objects[position].dependencies)
        }
        for view in objects where view.kind == .materializedView {
            guard let relation = relationsByOid[view.key.oid], relation.ispopulated else { continue }
            var needs = refreshNeeds(view.dependencies)
            needs.remove(view.key.with(part: "refresh"))
            let dependencies = [view.key] + needs.sorted()
            add(DumpObject(key: view.key.with(part: "refresh"), kind: .materializedViewData, schema: view.schema, name: view.name,
                           owner: view.owner, section: .postData, sql: "REFRESH MATERIALIZED VIEW \(relation.qname);\n\n",
                           dependencies: dependencies))
        }
    }
}
