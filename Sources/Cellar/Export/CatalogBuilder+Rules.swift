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
    /// pg_dump breaks a cycle through a view (a view calling a function that
    /// takes the view's row type) by creating the view with placeholder
    /// columns and replacing it with its `_RETURN` rule later. pgcellar does
    /// not split views yet, so such a view is refused by name rather than
    /// written in an order that cannot be restored.
    /// - Throws: `ViewCycleError` naming the views and what they loop through.
    func refuseViewsInCycles() throws {
        // Only a cycle through a view is refused: without views, no search.
        guard objects.contains(where: { $0.kind == .view || $0.kind == .materializedView }) else { return }
        let index = positions
        // Tarjan's strongly connected components, iterative: O(objects + dependencies).
        var order = [Int](repeating: -1, count: objects.count), low = [Int](repeating: 0, count: objects.count)
        var onStack = [Bool](repeating: false, count: objects.count), stack: [Int] = [], counter = 0
        var cycles: [[Int]] = []
        let edges = objects.map { object in object.dependencies.compactMap { $0 == object.key ? nil : index[$0] } }
        for root in objects.indices where order[root] < 0 {
            var work: [(node: Int, next: Int)] = [(root, 0)]
            order[root] = counter; low[root] = counter; counter += 1; stack.append(root); onStack[root] = true
            while let (node, next) = work.last {
                if next < edges[node].count {
                    work[work.count - 1].next += 1
                    let target = edges[node][next]
                    if order[target] < 0 {
                        order[target] = counter; low[target] = counter; counter += 1
                        stack.append(target); onStack[target] = true
                        work.append((target, 0))
                    } else if onStack[target] {
                        low[node] = min(low[node], order[target])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
                if low[node] == order[node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == node { break }
                    }
                    if component.count > 1 { cycles.append(component) }
                }
            }
        }
        let described = cycles.compactMap { component -> String? in
            let views = component.filter { objects[$0].kind == .view || objects[$0].kind == .materializedView }
            guard !views.isEmpty else { return nil }
            let names = component.map { "\(objects[$0].kind) \(objects[$0].schema.map { $0 + "." } ?? "")\(objects[$0].name)" }.sorted()
            return names.joined(separator: ", ")
        }
        if !described.isEmpty { throw ViewCycleError(cycles: described) }
    }
}

struct ViewCycleError: Error, CustomStringConvertible {
    var cycles: [String]

    var description: String {
        "pgcellar export cannot yet restore a view that is part of a dependency cycle (pg_dump splits its definition out); the cycles are:\n"
            + cycles.map { "  \($0)" }.joined(separator: "\n")
            + "\n(break the cycle, for example by dropping the view or the function that uses its row type, or use pg_dump for this database)"
    }
}
