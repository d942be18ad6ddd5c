import Foundation

// Rules on tables and views (a view's own `_RETURN` rule is the view).

extension CatalogBuilder {
    mutating func buildRules() throws {
        let rules: [RuleRow] = try decodeRows(connection, CatalogQueries.rules)
        for rule in rules where includedRelations.contains(rule.tableOid) && !excluded("pg_rewrite", rule.oid) {
            addRule(rule)
        }
    }

    mutating func addRule(_ rule: RuleRow) {
        let key = ObjectKey(catalog: "pg_rewrite", oid: rule.oid)
        represented[key] = key
        // pg_get_ruledef ends the statement with its own semicolon.
        var sql = rule.definition.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        if let action = Self.enableAction(rule.enabled) { sql += "\nALTER TABLE \(rule.table) \(action) RULE \(rule.qname);\n" }
        let owner = relationsByOid[rule.tableOid]?.owner
        add(DumpObject(key: key, kind: .rule, schema: rule.schema, name: "\(rule.tableName) \(rule.name)", owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: rule.tableOid)]))
        commentable("pg_rewrite", rule.oid, CommentTarget(target: "RULE \(rule.qname) ON \(rule.table)", key: key, section: .postData,
                                                          schema: rule.schema, name: "RULE \(rule.tableName) \(rule.name)", owner: owner))
    }
}

// MARK: - Views in dependency cycles

extension CatalogBuilder {
    /// A view still in a dependency cycle after ``repairDependencyCycles()``
    /// cannot be written in an order that restores: it is refused by name.
    /// - Throws: `ViewCycleError` naming the views and what they loop through.
    func refuseViewsInCycles() throws {
        // Only a cycle through a view is refused: without views, no search.
        guard objects.contains(where: { $0.kind == .view || $0.kind == .materializedView }) else { return }
        let components = DependencyGraph.components(DependencyGraph.edges(of: objects).edges)
        let members = Dictionary(grouping: objects.indices, by: { components.id[$0] })
        let described = members.values.filter { $0.count > 1 }.compactMap { component -> String? in
            let views = component.filter { objects[$0].kind == .view || objects[$0].kind == .materializedView }
            guard !views.isEmpty else { return nil }
            let names = component.map { "\(objects[$0].kind) \(objects[$0].schema.map { $0 + "." } ?? "")\(objects[$0].name)" }.sorted()
            return names.joined(separator: ", ")
        }.sorted()
        if !described.isEmpty { throw ViewCycleError(cycles: described) }
    }
}

struct ViewCycleError: Error, CustomStringConvertible {
    var cycles: [String]

    var description: String {
        "pgcellar export cannot restore a view that is part of a dependency cycle its definition does not cause; the cycles are:\n"
            + cycles.map { "  \($0)" }.joined(separator: "\n")
            + "\n(break the cycle, for example by dropping the view or the function that uses its row type, or use pg_dump for this database)"
    }
}
