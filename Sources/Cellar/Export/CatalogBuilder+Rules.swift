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
        switch rule.enabled {
        case "D": sql += "\nALTER TABLE \(rule.table) DISABLE RULE \(rule.qname);\n"
        case "R": sql += "\nALTER TABLE \(rule.table) ENABLE REPLICA RULE \(rule.qname);\n"
        case "A": sql += "\nALTER TABLE \(rule.table) ENABLE ALWAYS RULE \(rule.qname);\n"
        default: break
        }
        let owner = relationsByOid[rule.tableOid]?.owner
        add(DumpObject(key: key, kind: .rule, schema: rule.schema, name: "\(rule.tableName) \(rule.name)", owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: rule.tableOid)]))
        commentable("pg_rewrite", rule.oid, CommentTarget(target: "RULE \(rule.qname) ON \(rule.table)", key: key, section: .postData,
                                                          schema: rule.schema, name: "RULE \(rule.tableName) \(rule.name)", owner: owner))
    }
}
