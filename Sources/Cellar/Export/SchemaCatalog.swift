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
    /// Record no tablespace (`--no-tablespaces`): a restore creates every
    /// object in its database's default.
    public var noTablespaces: Bool

    public init(tables: [String] = [], excludedTables: [String] = [], schemas: [String] = [],
                schemaOnly: Bool = false, dataOnly: Bool = false, excludeUnsupported: Bool = false,
                noTablespaces: Bool = false) {
        self.tables = tables
        self.excludedTables = excludedTables
        self.schemas = schemas
        self.schemaOnly = schemaOnly
        self.dataOnly = dataOnly
        self.excludeUnsupported = excludeUnsupported
        self.noTablespaces = noTablespaces
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
    /// Roles named as owners, grantees or grantors, by their raw names
    /// (quoted only in SQL), with how the script uses each.
    var roles: [String: Set<String>] = [:]
    /// Objects left out under --exclude-unsupported: the unsupported ones,
    /// then those that depend on them.
    var skipped: [String] = []
    /// Large objects whose bytes the export writes, in oid order.
    var largeObjects: [UInt32] = []

    // MARK: - Reading

    /// - Parameter helper: A second connection inside a transaction that has
    ///   imported the export's snapshot: most catalogs are read on it while
    ///   `connection` reads the rest. The caller closes it, once this returns.
    static func read(_ connection: Connection, helper: Connection? = nil, selection: ExportSelection, logger: Logger) throws -> SchemaCatalog {
        let started = ContinuousClock.now
        let prefetch = helper.map(CatalogPrefetch.init)
        let unsupported = try readUnsupported(connection)
        var catalog = SchemaCatalog()
        var exclusions = CatalogExclusions()
        // pg_depend is read here only when exclusions need it before the
        // build; otherwise the build reads it a page at a time at the end,
        // when the rows it would have held through the build (3 MiB at
        // 5,000 tables, at the catalog phase's peak) are no longer needed.
        var dependencies: [DependencyRow]? = nil
        if !unsupported.isEmpty {
            guard selection.excludeUnsupported else { throw UnsupportedObjectsError(objects: unsupported.map(\.name)) }
            let rows = try readDependencies(connection)
            exclusions = CatalogExclusions(excluding: unsupported.compactMap(\.key), dependencies: rows)
            catalog.skipped = try reportExclusions(unsupported, exclusions, connection: connection, logger: logger)
            dependencies = rows
        }
        var builder = try CatalogBuilder(connection: connection, selection: selection, exclusions: exclusions, logger: logger)
        builder.prefetch = prefetch
        try builder.build(dependencies: consume dependencies)
        let dependencyCount = builder.dependencyRowsRead
        catalog.objects = builder.objects
        catalog.tables = builder.dataTables.sorted { $0.estimatedBytes > $1.estimatedBytes }
        catalog.roles = builder.roles
        catalog.largeObjects = builder.largeObjects
        logger.debug("read the catalog in \(ContinuousClock.now - started): \(catalog.objects.count) script entries, \(catalog.tables.count) tables with rows, \(dependencyCount) dependencies")
        return catalog
    }

    /// The objects of kinds the export does not write.
    private static func readUnsupported(_ connection: Connection) throws -> [UnsupportedRow] {
        var unsupported: [UnsupportedRow] = []
        for check in CatalogQueries.unsupported {
            for row in try connection.query(check.query).rows {
                let key = try row.optionalString("catalog").map { ObjectKey(catalog: $0, oid: UInt32(try row.int("oid"))) }
                unsupported.append(UnsupportedRow(name: try row.string("name"), key: key))
            }
        }
        return unsupported
    }

    /// pg_depend between user objects, read a page at a time into plain values.
    static func readDependencies(_ connection: Connection) throws -> [DependencyRow] {
        var rows: [DependencyRow] = []
        try forEachDependency(connection, pageStarted: { rows.reserveCapacity(rows.count + $0) }) { rows.append($0) }
        return rows
    }

    /// pg_depend between user objects, a page at a time, extension
    /// memberships first (``CatalogQueries/dependencies``).
    static func forEachDependency(_ connection: Connection, pageStarted: (Int) -> Void = { _ in },
                                  _ body: (DependencyRow) throws -> Void) throws {
        try CatalogCursor.forEachPage(connection, CatalogQueries.dependencies) { page in
            let columns = ["catalog", "oid", "ref_catalog", "ref_oid", "type"].map { page.columnIndex($0) ?? 0 }
            pageStarted(page.rowCount)
            for index in 0..<page.rowCount {
                guard let catalog = page.value(index, columns[0]), let oid = page.value(index, columns[1]).flatMap(UInt32.init),
                      let refCatalog = page.value(index, columns[2]), let refOid = page.value(index, columns[3]).flatMap(UInt32.init),
                      let type = page.value(index, columns[4]) else {
                    throw ClientError("pg_depend returned an incomplete row")
                }
                try body(DependencyRow(catalog: catalog, oid: oid, refCatalog: refCatalog, refOid: refOid,
                                       type: DependencyType(rawValue: type)))
            }
        }
    }

    /// Warns about each left-out object, naming for a dependent what it
    /// depends on, and returns their names.
    private static func reportExclusions(_ unsupported: [UnsupportedRow], _ exclusions: CatalogExclusions,
                                         connection: Connection, logger: Logger) throws -> [String] {
        var names: [ObjectKey: String] = [:]
        for row in unsupported {
            guard let key = row.key else { continue }
            let whole = exclusions.whole(of: key)
            if names[whole] == nil { names[whole] = row.name }
        }
        for (key, description) in try describe(exclusions.dependents, connection: connection) where names[key] == nil {
            names[key] = description
        }
        for row in unsupported {
            logger.warning("skipping \(row.name): pgcellar export does not support it (--exclude-unsupported)")
        }
        var skipped = unsupported.map(\.name)
        for dependent in exclusions.dependents {
            let name = names[dependent] ?? dependent.description
            let cause = exclusions.cause(of: dependent).map { names[$0] ?? $0.description } ?? "an unsupported object"
            logger.warning("skipping \(name): it depends on \(cause), which is left out (--exclude-unsupported)")
            skipped.append(name)
        }
        return skipped
    }

    /// How the server names objects (`pg_describe_object`): "table public.t",
    /// "default value for column c of table public.t", ...
    private static func describe(_ keys: [ObjectKey], connection: Connection) throws -> [ObjectKey: String] {
        var names: [ObjectKey: String] = [:]
        for start in stride(from: 0, to: keys.count, by: 5000) {
            let batch = keys[start..<min(start + 5000, keys.count)]
            let result = try connection.query(CatalogQueries.describeObjects, [
                textArrayParameter(batch.map(\.catalog)), "{" + batch.map { String($0.oid) }.joined(separator: ",") + "}",
            ])
            for row in result.rows {
                let key = ObjectKey(catalog: try row.string("catalog"), oid: UInt32(try row.int("oid")))
                if let description = try row.optionalString("description") { names[key] = description }
            }
        }
        return names
    }
}

