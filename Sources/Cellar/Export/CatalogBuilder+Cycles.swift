// Dependency cycles that pg_dump breaks by splitting an object in two
// (pg_dump_sort.c's repairDependencyLoop): a table whose CHECK constraint
// calls a function that takes the table's row type, and a view whose query
// calls a function that takes or returns the view's row type.

/// A part of another object's statement that a dependency cycle can split
/// out, keyed by the catalog object it is (`pg_constraint`, `pg_rewrite`).
enum DetachablePart {
    /// A CHECK constraint written inside its table's CREATE TABLE: that line,
    /// and the ALTER TABLE that adds the constraint on its own instead.
    case check(table: ObjectKey, name: String, line: String, statement: String)
    /// A view's `_RETURN` rule: split out, the view is created with
    /// placeholder columns and replaced by CREATE OR REPLACE VIEW later.
    case viewRule(view: ObjectKey)

    var owner: ObjectKey {
        switch self {
        case .check(let table, _, _, _): return table
        case .viewRule(let view): return view
        }
    }
}

extension CatalogBuilder {
    /// Splits each detachable part whose dependencies loop back to its owner
    /// into an entry of its own, as pg_dump does; the others' dependencies
    /// become their owners'.
    mutating func repairDependencyCycles() {
        // Nothing to split: no graph of every object to build.
        guard !detachedDependencies.isEmpty else { return }
        let graph = DependencyGraph.edges(of: objects)
        let index = graph.index
        var edges = graph.edges
        let parts = detachedDependencies.keys.sorted()
        for part in parts {
            guard let owner = detachable[part].flatMap({ index[$0.owner] }) else { continue }
            edges[owner] += (detachedDependencies[part] ?? []).compactMap { index[$0] }.filter { $0 != owner }
        }
        let components = DependencyGraph.components(edges)
        for part in parts {
            guard let detached = detachable[part], let owner = index[detached.owner] else { continue }
            let needs = detachedDependencies[part] ?? []
            let loops = components.inCycle(owner) && needs.contains { need in
                guard need != detached.owner, let position = index[need] else { return false }
                return components.id[position] == components.id[owner]
            }
            guard loops else {
                for need in needs.sorted() { objects[owner].dependencies.insert(need) }
                continue
            }
            switch detached {
            case .check(let table, let name, let line, let statement):
                splitCheck(part, table: table, at: owner, name: name, line: line, statement: statement, needs: needs)
            case .viewRule(let view):
                splitView(part, view: view, at: owner, needs: needs)
            }
        }
    }

    /// The CHECK constraint leaves CREATE TABLE and is added after the data,
    /// as pg_dump's separate `CHECK CONSTRAINT` entry.
    private mutating func splitCheck(_ key: ObjectKey, table: ObjectKey, at position: Int, name: String,
                                     line: String, statement: String, needs: Set<ObjectKey>) {
        objects[position].sql = Self.removingLine(line, from: objects[position].sql)
        let tableObject = objects[position]
        represented[key] = key
        commentTargets[key]?.key = key
        commentTargets[key]?.section = .postData
        logger.debug("dependency cycle through \(tableObject.name)'s CHECK constraint \(name): it is added after the table")
        add(DumpObject(key: key, kind: .checkConstraint, schema: tableObject.schema, name: "\(tableObject.name) \(name)",
                       owner: tableObject.owner, section: .postData, sql: statement + "\n",
                       dependencies: [table] + needs.subtracting([key, table]).sorted()))
    }

    /// The view is created with placeholder columns of its own types and
    /// collations (`NULL::type AS column`), and its query comes in a `RULE`
    /// entry that replaces it after what it calls exists.
    private mutating func splitView(_ key: ObjectKey, view: ObjectKey, at position: Int, needs: Set<ObjectKey>) {
        guard let relation = relationsByOid[view.oid] else { return }
        let placeholders = (relation.columns ?? []).map { column in
            "\n    NULL::\(column.type)" + (column.collation.map { " COLLATE \($0)" } ?? "") + " AS \(column.qname)"
        }
        objects[position].sql = "CREATE VIEW \(relation.qname) AS\n SELECT\(placeholders.joined(separator: ","));\n\n"
        let options = relation.reloptions.map { " WITH (\($0.joined(separator: ", ")))" } ?? ""
        represented[key] = key
        logger.debug("dependency cycle through view \(relation.qname): it is created with placeholder columns and replaced later")
        add(DumpObject(key: key, kind: .rule, schema: relation.schema, name: "\(relation.name) _RETURN", owner: relation.owner,
                       section: .postData,
                       sql: "CREATE OR REPLACE VIEW \(relation.qname)\(options) AS\n\(Self.trimmedViewDefinition(relation.viewdef))\n;\n\n",
                       dependencies: [view] + needs.subtracting([key, view]).sorted()))
        splitViews[view.oid] = key
    }

    /// `sql` without the element `line` of a comma-separated list, one
    /// element a line.
    static func removingLine(_ line: String, from sql: String) -> String {
        for (pattern, replacement) in [(",\n" + line + "\n", "\n"), (line + ",\n", ""), (line + "\n", "")] {
            if let range = sql.range(of: pattern) { return sql.replacingCharacters(in: range, with: replacement) }
        }
        return sql
    }
}
