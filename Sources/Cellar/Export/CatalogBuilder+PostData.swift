import PostgresClient

// Post-data objects: constraints, indexes, triggers, policies and
// extended statistics.

extension CatalogBuilder {
    mutating func addConstraint(_ constraint: ConstraintRow) throws {
        guard let relation = relationsByOid[constraint.relationOid], !excluded("pg_constraint", constraint.oid) else { return }
        let key = ObjectKey(catalog: "pg_constraint", oid: constraint.oid)
        let tableKey = ObjectKey(catalog: "pg_class", oid: constraint.relationOid)
        // As pg_dump: a CHECK added after the data (NOT VALID) is added without
        // ONLY so that it reaches the children and partitions that inherit it,
        // and so is a partitioned table's foreign key.
        let only = constraint.type == "c" || (relation.kind == "p" && constraint.type == "f") ? "" : "ONLY "
        let kind: ArchiveEntry.Kind
        switch constraint.type {
        case "c":
            // Valid local checks are part of CREATE TABLE; inherited ones come with the parent.
            guard constraint.islocal, !constraint.validated else { return }
            kind = .checkConstraint
        case "f":
            // A foreign key on a partition comes from its partitioned parent's.
            guard constraint.parentOid == 0 else {
                let parentKey = ObjectKey(catalog: "pg_constraint", oid: constraint.parentOid)
                represented[key] = parentKey
                // It exists on the partition, under its name, once the parent's is added.
                commentable("pg_constraint", constraint.oid, CommentTarget(
                    target: "CONSTRAINT \(constraint.qname) ON \(constraint.relation)", key: parentKey, section: .postData,
                    schema: constraint.relationSchema, name: "CONSTRAINT \(constraint.name) ON \(constraint.relationName)", owner: relation.owner))
                return
            }
            kind = .foreignKeyConstraint
        default:
            kind = .constraint
        }
        represented[key] = key
        if constraint.indexOid != 0, constraint.type != "f" {
            represented[ObjectKey(catalog: "pg_class", oid: constraint.indexOid)] = key
        }
        var sql = "ALTER TABLE \(only)\(constraint.relation)\n    ADD CONSTRAINT \(constraint.qname) \(constraint.definition);\n"
        if constraint.type != "f", let index = indexOptions[constraint.indexOid] { sql += try Self.indexOptionStatements(index) }
        add(DumpObject(key: key, kind: kind, schema: constraint.relationSchema, name: "\(constraint.relationName) \(constraint.name)",
                       owner: relation.owner, section: .postData, sql: sql + "\n", dependencies: [tableKey],
                       tablespace: kind == .constraint ? constraint.indexTablespace : nil))
        commentable("pg_constraint", constraint.oid, CommentTarget(
            target: "CONSTRAINT \(constraint.qname) ON \(constraint.relation)", key: key, section: .postData,
            schema: constraint.relationSchema, name: "CONSTRAINT \(constraint.name) ON \(constraint.relationName)", owner: relation.owner))
    }

    mutating func addIndex(_ index: IndexRow) throws {
        guard index.constraintOid == nil else {
            // A constraint's index comes with it, under its own name: comments on it too.
            if let constraintOid = index.constraintOid, added(ObjectKey(catalog: "pg_constraint", oid: constraintOid)) {
                commentable("pg_class", index.oid, CommentTarget(
                    target: "INDEX \(index.qname)", key: ObjectKey(catalog: "pg_constraint", oid: constraintOid), section: .postData,
                    schema: index.schema, name: "INDEX \(index.name)", owner: relationsByOid[index.tableOid]?.owner))
            }
            return
        }
        guard !excluded("pg_class", index.oid) else {
            skippedIndexes.insert(index.oid)
            return
        }
        // As pg_dump: an index a failed CREATE INDEX CONCURRENTLY left behind
        // (not valid, or not even ready) is no index to restore, and
        // rebuilding it would fail the same way (duplicate keys). A partitioned
        // table's index is not valid until every partition's index is
        // attached; ATTACH PARTITION makes it valid again after a restore.
        guard index.ready, index.valid || index.tableKind == "p" else {
            logger.warning("skipping index \(index.qname) on \(index.table): it is \(index.ready ? "invalid" : "invalid and not ready"), as a failed CREATE INDEX CONCURRENTLY leaves it; drop it, or remove what made it fail and REINDEX it")
            skippedIndexes.insert(index.oid)
            return
        }
        let key = ObjectKey(catalog: "pg_class", oid: index.oid)
        represented[key] = key
        let owner = relationsByOid[index.tableOid]?.owner
        let sql = index.definition + ";\n" + (try Self.indexOptionStatements(index))
        add(DumpObject(key: key, kind: .index, schema: index.schema, name: index.name, owner: owner, section: .postData,
                       sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: index.tableOid)], tablespace: index.tablespace))
        commentable("pg_class", index.oid, CommentTarget(target: "INDEX \(index.qname)", key: key, section: .postData,
                                                         schema: index.schema, name: "INDEX \(index.name)", owner: owner))
    }

    /// CLUSTER ON and REPLICA IDENTITY USING INDEX, which name an index.
    static func indexOptionStatements(_ index: IndexRow) throws -> String {
        var sql = ""
        if index.clustered { sql += "ALTER TABLE \(index.table) CLUSTER ON \(try SQLQuoting.identifier(index.name));\n" }
        if index.replicaIdentity { sql += "ALTER TABLE ONLY \(index.table) REPLICA IDENTITY USING INDEX \(try SQLQuoting.identifier(index.name));\n" }
        return sql
    }

    mutating func addIndexAttach(_ index: IndexRow) {
        guard let parent = index.parentIndex, let parentOid = index.parentIndexOid,
              !skippedIndexes.contains(index.oid), !skippedIndexes.contains(parentOid) else { return }
        let childKey = represented[ObjectKey(catalog: "pg_class", oid: index.oid)] ?? ObjectKey(catalog: "pg_class", oid: index.oid)
        let parentKey = represented[ObjectKey(catalog: "pg_class", oid: parentOid)] ?? ObjectKey(catalog: "pg_class", oid: parentOid)
        add(DumpObject(key: ObjectKey(catalog: "pg_class", oid: index.oid, part: "attach"), kind: .indexAttach, schema: index.schema,
                       name: index.name, owner: relationsByOid[index.tableOid]?.owner, section: .postData,
                       sql: "ALTER INDEX \(parent) ATTACH PARTITION \(index.qname);\n\n", dependencies: [childKey, parentKey]))
    }

    /// The ALTER ... action for an enable state other than the default, as
    /// pg_trigger.tgenabled, pg_rewrite.ev_enabled and pg_event_trigger.evtenabled
    /// hold it: D disabled, R replica only, A always; nil for O (origin, the default).
    static func enableAction(_ state: String) -> String? {
        switch state {
        case "D": return "DISABLE"
        case "R": return "ENABLE REPLICA"
        case "A": return "ENABLE ALWAYS"
        default: return nil
        }
    }

    mutating func addTrigger(_ trigger: TriggerRow) {
        let key = ObjectKey(catalog: "pg_trigger", oid: trigger.oid)
        represented[key] = key
        var sql = trigger.definition + ";\n"
        if let action = Self.enableAction(trigger.enabled) { sql += "ALTER TABLE \(trigger.table) \(action) TRIGGER \(trigger.qname);\n" }
        let owner = relationsByOid[trigger.tableOid]?.owner
        add(DumpObject(key: key, kind: .trigger, schema: trigger.schema, name: "\(trigger.tableName) \(trigger.name)", owner: owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: trigger.tableOid)]))
        commentable("pg_trigger", trigger.oid, CommentTarget(target: "TRIGGER \(trigger.qname) ON \(trigger.table)", key: key, section: .postData,
                                                             schema: trigger.schema, name: "TRIGGER \(trigger.tableName) \(trigger.name)", owner: owner))
    }

    mutating func addPolicy(_ policy: PolicyRow) throws {
        let key = ObjectKey(catalog: "pg_policy", oid: policy.oid)
        represented[key] = key
        for role in policy.roles ?? [] { noteRole(role, as: "grantee") }
        let owner = relationsByOid[policy.tableOid]?.owner
        add(DumpObject(key: key, kind: .policy, schema: policy.schema, name: "\(policy.tableName) \(policy.name)", owner: owner,
                       section: .postData, sql: try Self.policyStatement(policy, roles: roleQuoting) + "\n\n",
                       dependencies: [ObjectKey(catalog: "pg_class", oid: policy.tableOid)]))
        commentable("pg_policy", policy.oid, CommentTarget(target: "POLICY \(policy.qname) ON \(policy.table)", key: key, section: .postData,
                                                           schema: policy.schema, name: "POLICY \(policy.tableName) \(policy.name)", owner: owner))
    }

    /// `CREATE POLICY ...;`, its roles quoted through `roles`.
    static func policyStatement(_ policy: PolicyRow, roles: RoleQuoting) throws -> String {
        var sql = "CREATE POLICY \(policy.qname) ON \(policy.table)"
        if !policy.permissive { sql += " AS RESTRICTIVE" }
        switch policy.command {
        case "r": sql += " FOR SELECT"
        case "a": sql += " FOR INSERT"
        case "w": sql += " FOR UPDATE"
        case "d": sql += " FOR DELETE"
        default: break
        }
        if let names = policy.roles {
            sql += " TO \(try names.map(roles.grantee).joined(separator: ", "))"
        }
        if let qual = policy.qual { sql += " USING (\(qual))" }
        if let check = policy.withCheck { sql += " WITH CHECK (\(check))" }
        return sql + ";"
    }

    mutating func addStatistics(_ statistic: StatisticsRow) throws {
        let key = ObjectKey(catalog: "pg_statistic_ext", oid: statistic.oid)
        represented[key] = key
        var sql = statistic.definition + ";\n"
        if let target = statistic.stattarget, target >= 0 { sql += "ALTER STATISTICS \(statistic.qname) SET STATISTICS \(target);\n" }
        add(DumpObject(key: key, kind: .statistics, schema: statistic.schema, name: statistic.name, owner: statistic.owner,
                       section: .postData, sql: sql + "\n", dependencies: [ObjectKey(catalog: "pg_class", oid: statistic.tableOid)]))
        try addOwner(of: key, kind: .statistics, target: "STATISTICS \(statistic.qname)", schema: statistic.schema, name: statistic.name,
                 owner: statistic.owner, section: .postData)
        commentable("pg_statistic_ext", statistic.oid, CommentTarget(target: "STATISTICS \(statistic.qname)", key: key, section: .postData,
                                                                     schema: statistic.schema, name: "STATISTICS \(statistic.name)", owner: statistic.owner))
    }
}
