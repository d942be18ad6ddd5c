import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Turns catalog rows into script pieces. One builder per export.
///
/// Its cost grows as n log n with the schema at worst: rows are grouped once
/// by the oid they belong to, and every look-up inside a loop over objects
/// goes through a dictionary or set keyed by oid.
struct CatalogBuilder {
    let connection: Connection
    let selection: ExportSelection
    let exclusions: CatalogExclusions
    let logger: Logger
    let tablePatterns: [NamePattern]
    let excludedPatterns: [NamePattern]
    var roleQuoting = RoleQuoting(quoted: [:])
    /// The rows read on a second connection, when the export has one.
    var prefetch: CatalogPrefetch?

    var objects: [DumpObject] = []
    /// Where each of `objects` is, by key: whether one was added, and the
    /// one index every later pass uses (no pass builds its own).
    var positions: [ObjectKey: Int] = [:]
    var dataTables: [TableDataSource] = []
    var roles: [String: Set<String>] = [:]

    /// (catalog, oid) → the object standing for it in the script.
    var represented = Representatives()
    /// Comment targets: (catalog, oid) → how COMMENT ON names it.
    var commentTargets: [ObjectKey: CommentTarget] = [:]
    /// The objects that have a comment or a security label; nil until read
    /// (then every object is registered).
    var described: Set<ObjectKey>?
    var includedRelations = Set<UInt32>()
    var relationsByOid = RelationIndex()
    /// Indexes that are a table's replica identity or clustering index.
    var indexOptions: [UInt32: IndexRow] = [:]
    /// Indexes left out (invalid, or excluded): their INDEX ATTACH goes too.
    var skippedIndexes = Set<UInt32>()
    /// Large objects whose bytes the data phase writes, in oid order.
    var largeObjects: [UInt32] = []
    /// Parts of other objects' statements that a dependency cycle can split
    /// out (an inline CHECK, a view's query), by the catalog object they are.
    var detachable: [ObjectKey: DetachablePart] = [:]
    /// What each detachable part depends on, kept from its owner's
    /// dependencies until ``repairDependencyCycles()`` knows the cycles.
    var detachedDependencies: [ObjectKey: Set<ObjectKey>] = [:]
    /// Views split by a cycle: view oid → the RULE entry that defines them.
    var splitViews: [UInt32: ObjectKey] = [:]

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

    init(connection: Connection, selection: ExportSelection, exclusions: CatalogExclusions = CatalogExclusions(),
         logger: Logger) throws {
        self.connection = connection
        self.selection = selection
        self.exclusions = exclusions
        self.logger = logger
        tablePatterns = selection.tables.map(NamePattern.init)
        excludedPatterns = selection.excludedTables.map(NamePattern.init)
    }

    /// Whether objects outside tables (schemas, types, functions) are exported.
    var wholeDatabase: Bool { selection.tables.isEmpty }

    func schemaIncluded(_ schema: String) -> Bool {
        selection.schemas.isEmpty || selection.schemas.contains(schema)
    }

    func relationIncluded(schema: String, name: String) -> Bool {
        guard schemaIncluded(schema) else { return false }
        if excludedPatterns.contains(where: { $0.matches(schema: schema, name: name) }) { return false }
        return tablePatterns.isEmpty || tablePatterns.contains { $0.matches(schema: schema, name: name) }
    }

    /// Whether --exclude-unsupported leaves the object out.
    func excluded(_ catalog: String, _ oid: UInt32) -> Bool {
        exclusions.contains(ObjectKey(catalog: catalog, oid: oid))
    }

    /// Records a role the script names, by its raw name.
    mutating func noteRole(_ role: String?, as use: String) {
        guard let role, !role.isEmpty else { return }
        roles[role, default: []].insert(use)
    }

    /// pg_depend's rows that ``addDependencies(_:)`` read, for `--verbose`.
    var dependencyRowsRead = 0

    mutating func add(_ object: DumpObject) {
        positions[object.key] = objects.count
        objects.append(object)
        // --no-tablespaces: everything in the restoring database's default.
        if selection.noTablespaces { objects[objects.count - 1].tablespace = nil }
    }

    /// Reserves room for the objects that tables and sequences bring, before
    /// they are added: grown by doubling instead, the object list (about
    /// 150 bytes an object) and its index held their old and new storage at
    /// once at the catalog phase's peak, twice what a 5,000-table schema
    /// needs. The estimate is what a plain table brings: itself, its owner
    /// and a column default; a sequence, its owner, OWNED BY and its value;
    /// one object per post-data row (an index that backs a constraint is
    /// the constraint's object). Where a schema brings more, the list
    /// grows as before.
    mutating func reserveForRelations(sequences: Int, relations: Int, postData: Int) {
        let expected = objects.count + 4 * sequences + 3 * relations + postData
        objects.reserveCapacity(expected)
        positions.reserveCapacity(expected)
    }

    func added(_ key: ObjectKey) -> Bool { positions[key] != nil }

    /// The object standing for `key` in the script: another object
    /// (``represented``), or the object itself when it was added.
    func representative(of key: ObjectKey) -> ObjectKey? {
        represented[key] ?? (added(key) ? key : nil)
    }

    /// Registers how COMMENT ON and SECURITY LABEL ON name an object, when
    /// it has a comment or label (``described``): registering every object
    /// of a schema of thousands of tables was a fifth of the catalog phase's memory.
    mutating func commentable(_ catalog: String, _ oid: UInt32, _ target: CommentTarget) {
        let key = ObjectKey(catalog: catalog, oid: oid)
        guard described?.contains(key) ?? true else { return }
        commentTargets[key] = target
    }

    // MARK: - Building

    /// The relations with their columns, read by two queries.
    static func readRelations(_ connection: Connection) throws -> [RelationRow] {
        var relations: [RelationRow] = try decodeRows(connection, CatalogQueries.relations)
        var positions: [UInt32: Int] = [:]
        positions.reserveCapacity(relations.count)
        for (position, relation) in relations.enumerated() { positions[relation.oid] = position }
        try CatalogCursor.forEachRow(connection, CatalogQueries.relationColumns, as: RelationColumnRow.self) { row in
            // A relation outside `relations` cannot appear: both queries
            // read the same snapshot with the same scope.
            guard let position = positions[row.relationOid] else { return }
            if relations[position].columns == nil { relations[position].columns = [] }
            relations[position].columns!.append(row.column)
        }
        for position in relations.indices { relations[position].compact() }
        return relations
    }

    /// Reads the catalogs and builds the script's objects.
    /// - Parameter dependencies: pg_depend between user objects, when
    ///   already read (freed once turned into the objects' dependencies);
    ///   nil to read it a page at a time once the objects are built.
    mutating func build(dependencies: consuming [DependencyRow]?) throws {
        var clock = StepClock(logger: logger)
        roleQuoting = try RoleQuoting(connection)
        described = try Set(decodeRows(connection, CatalogQueries.describedObjects, as: DescribedObjectRow.self)
            .map { ObjectKey(catalog: $0.catalog, oid: $0.oid) })
        let schemas: [SchemaRow] = try decodeRows(connection, CatalogQueries.schemas)
        let extensions: [ExtensionRow] = try decodeRows(connection, CatalogQueries.extensions)
        let relations = try Self.readRelations(connection)
        // The rest: read meanwhile on the second connection, or now.
        // The rows of sequences, constraints and indexes are dropped once
        // their objects are added: held to the end, they were a fifth of
        // the catalog phase's peak memory at 5,000 tables.
        var rowSet = try prefetch?.wait() ?? CatalogRowSet.read(connection)
        let (types, functions, aggregates) = (rowSet.types, rowSet.functions, rowSet.aggregates)
        let (triggers, policies) = (rowSet.triggers, rowSet.policies)
        let (statistics, defaultPrivileges) = (rowSet.statistics, rowSet.defaultPrivileges)
        clock.lap("read \(relations.count) relations, \(types.count) types, \(functions.count) functions, \(rowSet.constraints.count) constraints, \(rowSet.indexes.count) indexes")

        // Grouped once, so that each relation or domain finds its own in O(1).
        let checksByRelation = Dictionary(grouping: rowSet.constraints.filter { $0.relationOid != 0 && $0.type == "c" }, by: \.relationOid)
        let constraintsByType = Dictionary(grouping: rowSet.constraints.filter { $0.typeOid != 0 }, by: \.typeOid)

        relationsByOid = RelationIndex(relations)
        for relation in relations {
            if relationIncluded(schema: relation.schema, name: relation.name), !excluded("pg_class", relation.oid) {
                includedRelations.insert(relation.oid)
            }
        }

        if wholeDatabase {
            for schema in schemas where schemaIncluded(schema.name) { try addSchema(schema) }
            if selection.schemas.isEmpty { for extension_ in extensions { addExtension(extension_) } }
            for type in types where schemaIncluded(type.schema) && !excluded("pg_type", type.oid) {
                try addType(type, domainConstraints: constraintsByType[type.oid] ?? [])
            }
            let aggregatesByOid = Dictionary(aggregates.map { ($0.oid, $0) }, uniquingKeysWith: { first, _ in first })
            for function in functions where schemaIncluded(function.schema) && !excluded("pg_proc", function.oid) {
                if function.kind == "a" {
                    if let aggregate = aggregatesByOid[function.oid] { try addAggregate(function, aggregate) }
                } else {
                    try addFunction(function)
                }
            }
            try buildBaseTypes()
            try buildCasts()
            try buildOperators()
            for row in defaultPrivileges where row.schema.map(schemaIncluded) ?? selection.schemas.isEmpty {
                try addDefaultPrivileges(row)
            }
        }
        try buildCollations()
        try buildTextSearch()
        try buildConversions()
        clock.lap("built schemas, types and functions")
        reserveForRelations(sequences: rowSet.sequences.count, relations: includedRelations.count,
                            postData: rowSet.constraints.count + rowSet.indexes.count(where: { $0.constraintOid == nil })
                                + triggers.count + policies.count + statistics.count)
        for sequence in rowSet.sequences where !excluded("pg_class", sequence.oid) {
            // An owned sequence goes with its table; a free-standing one by its own name.
            let included = sequence.ownerTableOid.map { includedRelations.contains($0) }
                ?? relationIncluded(schema: sequence.schema, name: sequence.name)
            if included { try addSequence(sequence, value: rowSet.sequenceValues[sequence.oid]) }
        }
        (rowSet.sequences, rowSet.sequenceValues) = ([], [:])
        for relation in relations where includedRelations.contains(relation.oid) {
            try addRelation(relation, checks: checksByRelation[relation.oid] ?? [])
        }
        try buildForeignData(checks: checksByRelation)
        for index in rowSet.indexes where index.replicaIdentity || index.clustered { indexOptions[index.oid] = index }
        for constraint in rowSet.constraints where constraint.relationOid != 0 && includedRelations.contains(constraint.relationOid) {
            try addConstraint(constraint)
        }
        rowSet.constraints = []
        for index in rowSet.indexes where includedRelations.contains(index.tableOid) { try addIndex(index) }
        for index in rowSet.indexes where includedRelations.contains(index.tableOid) { addIndexAttach(index) }
        rowSet.indexes = []
        for trigger in triggers where includedRelations.contains(trigger.tableOid) && !excluded("pg_trigger", trigger.oid) {
            addTrigger(trigger)
        }
        for policy in policies where includedRelations.contains(policy.tableOid) && !excluded("pg_policy", policy.oid) {
            try addPolicy(policy)
        }
        for statistic in statistics where includedRelations.contains(statistic.tableOid) && !excluded("pg_statistic_ext", statistic.oid) {
            try addStatistics(statistic)
        }
        try buildRules()
        try buildPublications()
        try buildEventTriggers()
        try buildStorage()
        try buildExtensionMembers()

        clock.lap("built relations and post-data objects")
        try buildLargeObjects()
        try addDependencies(dependencies)
        repairDependencyCycles()
        // After the repair: a comment on a split-out CHECK waits for its entry.
        try addComments()
        try addSecurityLabels()
        _ = consume dependencies
        try refuseViewsInCycles()
        dependOnShellTypes()
        clock.lap("added comments and dependencies")
        addMaterializedViewRefreshes()
        moveDependenciesOfPreData()
        if selection.dataOnly {
            objects.removeAll { $0.kind != .sequenceSet && !Self.isLargeObjectPart($0) }
        } else if selection.schemaOnly {
            objects.removeAll { $0.kind == .sequenceSet || $0.kind == .materializedViewData }
            dataTables = []
        }
    }
}

/// (catalog, oid) → the object that stands for it in the script when that
/// is another object: a CHECK constraint written inside its table, a
/// constraint's index. An object that stands for itself is found through
/// the builder's positions instead: storing tens of thousands of identities
/// took a tenth of the catalog phase's memory.
struct Representatives {
    private var others: [ObjectKey: ObjectKey] = [:]

    subscript(key: ObjectKey) -> ObjectKey? {
        get { others[key] }
        set { others[key] = newValue == key ? nil : newValue }
    }
}

/// Relation rows by oid over the one array they were read into: a
/// dictionary of rows would hold a second copy of every row.
struct RelationIndex {
    private var rows: [RelationRow] = []
    private var positions: [UInt32: Int] = [:]

    init(_ rows: [RelationRow] = []) {
        self.rows = rows
        positions.reserveCapacity(rows.count)
        for (position, row) in rows.enumerated() { positions[row.oid] = position }
    }

    subscript(oid: UInt32) -> RelationRow? {
        get { positions[oid].map { rows[$0] } }
        set {
            guard let newValue else { positions[oid] = nil; return }
            if let position = positions[oid] {
                rows[position] = newValue
            } else {
                positions[oid] = rows.count
                rows.append(newValue)
            }
        }
    }
}

/// Times the steps of reading the catalog, for `--verbose`.
struct StepClock {
    let logger: Logger
    private var last = ContinuousClock.now

    init(logger: Logger) {
        self.logger = logger
    }

    /// Logs how long the step since the previous lap took.
    mutating func lap(_ step: @autoclosure () -> String) {
        let now = ContinuousClock.now
        logger.debug("catalog: \(step()) in \(now - last); resident memory \(ResidentMemory.description)")
        last = now
    }
}
