// Dependencies between script objects, from pg_depend.

import PostgresClient

extension CatalogBuilder {
    /// Turns pg_depend into dependencies between script objects, each
    /// catalog object resolved to the object that stands for it.
    /// - Parameter preloaded: pg_depend's rows when already read; nil to
    ///   read them here a page at a time. Either way extension memberships
    ///   come first (``CatalogQueries/dependencies`` orders them so), so that
    ///   a member resolves to its extension.
    mutating func addDependencies(_ preloaded: [DependencyRow]?) throws {
        var stand: [ObjectKey: ObjectKey] = [:]
        var viewRules: [(rule: ObjectKey, view: ObjectKey)] = []
        try CatalogCursor.forEachPage(connection, CatalogQueries.links) { page in
            let columns = ["link", "oid", "target"].map { page.columnIndex($0) ?? 0 }
            for index in 0..<page.rowCount {
                guard let link = page.value(index, columns[0]), let oid = page.value(index, columns[1]).flatMap(UInt32.init),
                      let target = page.value(index, columns[2]).flatMap(UInt32.init) else { continue }
                switch link {
                case "type-element": stand[ObjectKey(catalog: "pg_type", oid: oid)] = ObjectKey(catalog: "pg_type", oid: target)
                case "type-relation": stand[ObjectKey(catalog: "pg_type", oid: oid)] = ObjectKey(catalog: "pg_class", oid: target)
                case "rule":
                    stand[ObjectKey(catalog: "pg_rewrite", oid: oid)] = ObjectKey(catalog: "pg_class", oid: target)
                    viewRules.append((ObjectKey(catalog: "pg_rewrite", oid: oid), ObjectKey(catalog: "pg_class", oid: target)))
                default: break
                }
            }
        }
        // A view's query is its _RETURN rule, which a cycle may split out.
        for (rule, view) in viewRules where represented[rule] == nil {
            if let position = positions[view], objects[position].kind == .view { detachable[rule] = .viewRule(view: view) }
        }
        var extensionOf: [ObjectKey: ObjectKey] = [:]
        func resolve(_ key: ObjectKey) -> ObjectKey? {
            var current = key
            for _ in 0..<4 {
                if let found = representative(of: current) { return found }
                if let member = extensionOf[current] { return representative(of: member) }
                guard let next = stand[current] else { return nil }
                current = next
            }
            return nil
        }
        var memberships = true
        var read = 0
        func add(_ row: DependencyRow) throws {
            read += 1
            if row.type == .extensionMember {
                guard memberships else {
                    throw ClientError("pg_depend's rows came out of order (an extension membership after other dependencies): a bug in pgcellar's catalog query; please report it with the server version")
                }
                if row.refCatalog == "pg_extension" {
                    extensionOf[ObjectKey(catalog: row.catalog, oid: row.oid)] = ObjectKey(catalog: "pg_extension", oid: row.refOid)
                }
                return
            }
            memberships = false
            guard row.type == .normal || row.type == .auto || row.type == .internal else { return }
            let source = ObjectKey(catalog: row.catalog, oid: row.oid)
            guard let from = resolve(source),
                  let to = resolve(ObjectKey(catalog: row.refCatalog, oid: row.refOid)), from != to,
                  from.part.isEmpty, let position = positions[from] else { return }
            // A serial's sequence is created before its table; OWNED BY comes after both.
            if row.type == .auto, objects[position].kind == .sequence, row.refCatalog == "pg_class" { return }
            if detachable[source] != nil {
                detachedDependencies[source, default: []].insert(to)
                return
            }
            objects[position].dependencies.insert(to)
        }
        if let preloaded {
            // Read by the same query, in the same order.
            for row in preloaded { try add(row) }
        } else {
            try SchemaCatalog.forEachDependency(connection) { try add($0) }
        }
        dependencyRowsRead = read
    }

    /// pg_dump moves a post-data object into pre-data when a pre-data object
    /// needs it (a view that relies on a primary key for GROUP BY).
    mutating func moveDependenciesOfPreData() {
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
