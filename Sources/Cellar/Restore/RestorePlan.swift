import CellarSupport
import Foundation
import PostgresClient

/// Which archive entries a restore runs, in which phase, and what must exist
/// first: the pure part of a restore, decided from the header and table of
/// contents before anything connects.
public struct RestorePlan: Sendable {
    /// Where an entry runs.
    public enum Phase: Sendable, Equatable {
        /// Kept session settings (a `SETTINGS` entry): run on every connection.
        case session
        /// Pre-data DDL, in archive order on one connection.
        case preData
        /// A chunk of table rows, on any of the `-j` connections.
        case data
        /// After the data, scheduled by dependencies on the `-j` connections.
        case postData
    }

    /// The order in which post-data work may start: a stage opens once every
    /// item of the stages before it is done.
    public enum Stage: Int, Sendable, Comparable, CaseIterable {
        /// Table data and the indexes and constraints of a table whose rows
        /// are all loaded: index builds start as soon as their table is done.
        case load = 0
        /// Everything else after the data (triggers, comments, sequences).
        case afterData = 1
        /// Foreign keys: they check rows of two tables.
        case foreignKeys = 2
        /// Privileges (GRANT, REVOKE, default privileges), one entry at a
        /// time in archive order once everything else is done, as
        /// pg_restore's ACL pass: a GRANT takes no lock on its table, and
        /// beside a CREATE TRIGGER on the same table (which updates the same
        /// pg_class row) it failed with "tuple concurrently updated".
        case privileges = 3
        /// Materialized view refreshes, one at a time in archive order, after
        /// the privileges their queries may need.
        case refresh = 4

        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let options: RestoreOptions
    public let header: ArchiveHeader

    public init(header: ArchiveHeader, options: RestoreOptions) {
        self.header = header
        self.options = options
    }

    // MARK: - Selection

    /// Whether the restore runs this entry at all.
    public func includes(_ entry: ArchiveEntry) -> Bool {
        let isData = entry.data != nil || Self.dataKinds.contains(entry.kind) || Self.isLargeObjectMetadata(entry)
        if entry.kind == .settings { return true }
        if entry.kind == .owner && (options.noOwner || options.owner != nil) { return false }
        if (entry.kind == .acl || entry.kind == .defaultACL) && options.noPrivileges { return false }
        if options.schemaOnly && isData { return false }
        if options.dataOnly && !isData { return false }
        return true
    }

    /// Kinds that carry data rather than schema: what `--data-only` keeps and
    /// `--schema-only` drops.
    static let dataKinds: Set<ArchiveEntry.Kind> = [.tableData, .sequenceSet, .materializedViewData, .largeObjectData]

    /// A large object's BLOB entry and its owner, ACL, comment and label:
    /// data for --data-only and --schema-only, as in pg_dump, though they
    /// run in pre-data and post-data like the statements they are.
    static func isLargeObjectMetadata(_ entry: ArchiveEntry) -> Bool {
        entry.kind == .largeObject
            || ([.owner, .acl, .comment, .securityLabel].contains(entry.kind)
                && (entry.name.hasPrefix("LARGE OBJECT ") || entry.name.hasPrefix("BLOB LARGE OBJECT ")))
    }

    public static func phase(of entry: ArchiveEntry) -> Phase {
        if entry.data != nil { return .data }
        if entry.kind == .settings { return .session }
        if dataKinds.contains(entry.kind) { return .postData }
        return entry.section == .preData ? .preData : .postData
    }

    // MARK: - Roles

    /// Why a restore needs a role to exist on the target.
    public enum RoleNeed: Int, Sendable, Comparable, CustomStringConvertible {
        /// It owns objects in the archive.
        case objectOwner
        /// It holds or granted privileges on objects in the archive.
        case objectPrivileges
        /// `--owner` names it.
        case ownerOption
        /// It owns the database that `--create` makes.
        case databaseOwner
        /// It holds or granted privileges on the database (`--create`).
        case databasePrivileges
        /// It has settings of its own in the database
        /// (`ALTER ROLE ... IN DATABASE ... SET`, with `--create`).
        case databaseSettings

        public var description: String {
            switch self {
            case .objectOwner: "owns objects in the archive (or restore with --owner ROLE or --no-owner)"
            case .objectPrivileges: "holds or granted privileges on objects in the archive (or restore with --no-privileges)"
            case .ownerOption: "is the --owner role"
            case .databaseOwner: "owns the database (or restore with --owner ROLE or --no-owner)"
            case .databasePrivileges: "holds or granted privileges on the database (or restore with --no-privileges)"
            case .databaseSettings: "has settings of its own in the database (ALTER ROLE ... IN DATABASE ... SET)"
            }
        }

        /// Whether an option (named in ``description``) makes the role unnecessary.
        public var hasOption: Bool {
            switch self {
            case .objectOwner, .objectPrivileges, .databaseOwner, .databasePrivileges: true
            case .ownerOption, .databaseSettings: false
            }
        }

        public static func < (lhs: RoleNeed, rhs: RoleNeed) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The roles that must exist on the target before anything is written,
    /// and why: owners unless `--owner`/`--no-owner`, grantees and grantors
    /// unless `--no-privileges`, the `--owner` role itself, and with
    /// `--create` the database's owner, the grantees and grantors of its ACL
    /// and the roles with settings in it (applied once the data is in: a
    /// missing role must stop the restore before it starts, not then).
    public var roleNeeds: [String: Set<RoleNeed>] {
        var needs: [String: Set<RoleNeed>] = [:]
        func need(_ role: String, _ reason: RoleNeed) { needs[role, default: []].insert(reason) }
        let keepsOwners = !(options.noOwner || options.owner != nil)
        if !options.dataOnly {
            for role in header.roles {
                if role.referencedAs.contains("owner") && keepsOwners { need(role.name, .objectOwner) }
                if role.referencedAs.contains(where: { $0 != "owner" }) && !options.noPrivileges { need(role.name, .objectPrivileges) }
            }
        }
        if let owner = options.owner { need(owner, .ownerOption) }
        if options.create {
            let database = header.database
            if keepsOwners { need(database.owner, .databaseOwner) }
            if !options.noPrivileges, let privileges = database.privileges {
                for role in DatabaseGrants.roles(in: privileges, sourceOwner: database.owner) { need(role, .databasePrivileges) }
            }
            for setting in database.settingValues {
                if let role = setting.role { need(role, .databaseSettings) }
            }
        }
        // PUBLIC is not a role; pg_database_owner and other built-ins exist everywhere.
        needs["PUBLIC"] = nil
        needs["public"] = nil
        return needs
    }

    /// The names of ``roleNeeds``, sorted.
    public var requiredRoles: [String] { roleNeeds.keys.sorted() }

    // MARK: - Scheduling

    /// One unit of parallel work after the pre-data.
    public struct Item: Sendable, Equatable {
        public var entry: ArchiveEntry
        public var stage: Stage
        /// Indexes into the item list that must finish first.
        public var dependencies: [Int]
        /// Among ready items of open stages, the lowest rank runs first.
        public var rank: UInt64 = 0
        /// For a table one connection loads whole: all its chunks, loaded in
        /// one transaction after a TRUNCATE, with `COPY ... FREEZE`.
        public var wholeTable: [ArchiveEntry] = []
        /// A chunk that the item of its table's first chunk loads (nothing to do).
        public var merged = false
    }

    /// The kind of the items ``schedule(_:allEntries:analyze:)`` adds to
    /// ANALYZE a table once its rows are loaded.
    public static let analyzeKind = ArchiveEntry.Kind(rawValue: "ANALYZE")

    /// Orders data chunks and post-data entries for the `-j` connections.
    ///
    /// Dependencies on entries outside `entries` (run in the pre-data phase,
    /// or not selected) count as met. An index or constraint whose table has
    /// rows in the archive waits only for that table's chunks; everything else
    /// after the data waits for all of it.
    ///
    /// - Parameter entries: The selected data and post-data entries, in
    ///   archive order.
    ///   - analyze: Add an ANALYZE item for each table with rows, run once
    ///     its chunks are loaded when a connection has nothing better to do
    ///     (ANALYZE and CREATE INDEX do not block each other).
    ///   - wholeTablesFor: With the number of connections: load a table of
    ///     several chunks on one connection, in one transaction with FREEZE,
    ///     when it is no larger than a fair share of all the data (so no
    ///     connection is left with a tail while others idle). Tables larger
    ///     than that are loaded chunk by chunk on several connections.
    public static func schedule(_ entries: [ArchiveEntry], allEntries: [ArchiveEntry], analyze: Bool = false,
                                wholeTablesFor jobs: Int? = nil) -> [Item] {
        var position: [Int: Int] = [:]
        for (index, entry) in entries.enumerated() { position[entry.id] = index }
        // Table entry id -> the item indexes of its chunks.
        var chunksByTable: [QualifiedName: [Int]] = [:]
        for (index, entry) in entries.enumerated() {
            if let data = entry.data { chunksByTable[QualifiedName(data), default: []].append(index) }
        }
        var tableKeyByID: [Int: QualifiedName] = [:]
        for entry in allEntries where entry.kind == .table {
            tableKeyByID[entry.id] = QualifiedName(schema: entry.schema ?? "", name: entry.name)
        }

        var items: [Item] = []
        items.reserveCapacity(entries.count)
        var lastRefresh: Int?
        var lastPrivileges: Int?
        for (index, entry) in entries.enumerated() {
            var dependencies = entry.dependencies.compactMap { position[$0] }.filter { $0 < index }
            var stage: Stage
            if entry.data != nil {
                stage = .load
                dependencies = []
            } else {
                switch entry.kind {
                case .index, .constraint, .checkConstraint:
                    let tables = entry.dependencies.compactMap { tableKeyByID[$0] }
                    let chunks = tables.flatMap { chunksByTable[$0] ?? [] }
                    if tables.isEmpty || chunks.isEmpty {
                        stage = .afterData
                    } else {
                        stage = .load
                        dependencies += chunks
                    }
                case .foreignKeyConstraint:
                    stage = .foreignKeys
                case .materializedViewData:
                    stage = .refresh
                    if let lastRefresh { dependencies.append(lastRefresh) }
                    lastRefresh = index
                case .acl, .defaultACL:
                    stage = .privileges
                    if let lastPrivileges { dependencies.append(lastPrivileges) }
                    lastPrivileges = index
                default:
                    stage = .afterData
                }
                // Whatever depends on a later stage joins it.
                for dependency in dependencies where items.indices.contains(dependency) {
                    stage = max(stage, items[dependency].stage)
                }
            }
            items.append(Item(entry: entry, stage: stage, dependencies: Array(Set(dependencies)).sorted()))
        }

        // Data chunks table by table, the largest table first: its index
        // builds (ranked before any chunk) start while the smaller tables load.
        var tableBytes: [QualifiedName: UInt64] = [:]
        for (key, chunks) in chunksByTable {
            tableBytes[key] = chunks.reduce(0) { $0 + entries[$1].uncompressedSize }
        }
        let tableOrder = tableBytes.keys.sorted { (tableBytes[$0]!, $1) > (tableBytes[$1]!, $0) }
        if let jobs {
            let total = tableBytes.values.reduce(0, +)
            for key in tableOrder {
                let chunks = chunksByTable[key]!
                // Divided, not multiplied: sizes come from the archive and must not overflow.
                guard chunks.count > 1, tableBytes[key]! <= total / UInt64(max(jobs, 1)) else { continue }
                items[chunks[0]].wholeTable = chunks.map { entries[$0] }
                items[chunks[0]].entry.uncompressedSize = tableBytes[key]!
                for index in chunks.dropFirst() {
                    items[index].merged = true
                    items[index].entry.uncompressedSize = 0
                }
            }
        }
        for (rank, key) in tableOrder.enumerated() {
            for index in chunksByTable[key]! {
                items[index].rank = 1 + UInt64(rank) << 24 + UInt64(entries[index].data!.chunk)
            }
        }
        if analyze {
            for key in tableOrder where tableBytes[key]! >= analyzeMinimumBytes {
                let entry = ArchiveEntry(id: -1 - items.count, kind: analyzeKind, section: .postData, schema: key.schema, name: key.name)
                items.append(Item(entry: entry, stage: .load, dependencies: chunksByTable[key]!, rank: .max))
            }
        }
        return items
    }


    /// Tables whose rows one connection loads entirely from a file archive:
    /// those may use `COPY ... FREEZE` after a `TRUNCATE` in the same
    /// transaction (FREEZE cannot serve several connections on one table).
    ///
    /// Only worth it from ``freezeMinimumBytes`` on: the TRUNCATE it needs
    /// gives the table new files, which for thousands of small tables costs
    /// more than freezing their few pages saves.
    public static func freezable(_ entry: ArchiveEntry, options: RestoreOptions) -> Bool {
        guard let data = entry.data, !options.dataOnly, !options.singleTransaction else { return false }
        return data.chunkCount == 1 && data.chunk == 0 && entry.uncompressedSize >= freezeMinimumBytes
    }

    /// The least COPY text a table must have for the restore to ANALYZE it.
    ///
    /// ANALYZE costs the server a few milliseconds per table however small;
    /// for a schema of thousands of small tables that is a large part of the
    /// restore, for statistics the planner hardly needs (it reads a tiny
    /// table's actual size at planning time). Autovacuum analyzes every table
    /// into which more than 50 rows were loaded soon after the restore anyway;
    /// tables from this size up get their statistics at once.
    public static let analyzeMinimumBytes: UInt64 = 64 * 1024

    /// The smallest chunk loaded with `COPY ... FREEZE`.
    public static let freezeMinimumBytes: UInt64 = 1 << 20

    // MARK: - SQL

    /// Settings for every restore session, as pg_dump's preamble sets them,
    /// plus what makes a bulk load into a fresh database faster.
    public func sessionSetup() throws -> [String] {
        var statements = [
            "SET statement_timeout = 0",
            "SET lock_timeout = 0",
            "SET idle_in_transaction_session_timeout = 0",
            "SET client_encoding = \(try SQLQuoting.literal(header.database.encoding))",
            "SET standard_conforming_strings = on",
            "SELECT pg_catalog.set_config('search_path', '', false)",
            "SET check_function_bodies = false",
            "SET xmloption = content",
            "SET client_min_messages = warning",
            "SET row_security = off",
            // A crash loses the restore anyway: no need to wait for each commit's flush.
            "SET synchronous_commit = off",
            "SET maintenance_work_mem = \(try SQLQuoting.literal(options.maintenanceWorkMem))",
        ]
        if options.disableTriggers { statements.append("SET session_replication_role = replica") }
        if let owner = options.owner { statements.append("SET ROLE \(try SQLQuoting.identifier(owner))") }
        return statements
    }

    /// `CREATE DATABASE` for `--create`, from the archive's header and the overrides.
    public func createDatabaseStatement(name: String) throws -> String {
        let database = header.database
        var sql = "CREATE DATABASE \(try SQLQuoting.identifier(name)) WITH TEMPLATE = template0"
        sql += " ENCODING = \(try SQLQuoting.literal(options.encoding ?? database.encoding))"
        if let locale = options.locale {
            sql += " LOCALE = \(try SQLQuoting.literal(locale))"
        } else {
            if database.localeProvider == "i" {
                sql += " LOCALE_PROVIDER = icu"
                if let icu = database.iculocale { sql += " ICU_LOCALE = \(try SQLQuoting.literal(icu))" }
            }
            sql += " LC_COLLATE = \(try SQLQuoting.literal(database.collate))"
            sql += " LC_CTYPE = \(try SQLQuoting.literal(database.ctype))"
        }
        if let owner = options.owner {
            sql += " OWNER = \(try SQLQuoting.identifier(owner))"
        } else if !options.noOwner {
            sql += " OWNER = \(try SQLQuoting.identifier(database.owner))"
        }
        if database.connectionLimit >= 0 { sql += " CONNECTION LIMIT = \(database.connectionLimit)" }
        if !options.noTablespaces, let tablespace = database.tablespace { sql += " TABLESPACE = \(try SQLQuoting.identifier(tablespace))" }
        return sql
    }
}

/// `--table` and `--schema`: which entries belong to the selected tables and
/// schemas. Decided in archive order, where an entry's dependencies come
/// before it, so a table's indexes and comments follow the table; one
/// thread at a time asks (the coordinating thread, or the thread reading a
/// stream while the coordinator waits).
final class RestoreNameFilter: Sendable {
    private let schemas: Set<String>
    private let tables: [NamePattern]
    /// Entries selected so far, and the kinds of all entries seen.
    private let seen = Locked(Seen())

    private struct Seen {
        var selected = Set<Int>()
        var kinds: [Int: ArchiveEntry.Kind] = [:]
    }

    init(_ options: RestoreOptions) {
        schemas = Set(options.schemas)
        tables = options.tables.map(NamePattern.init)
    }

    var isActive: Bool { !schemas.isEmpty || !tables.isEmpty }

    /// Entries that belong to a table for `--table`, besides its data: taken
    /// when everything they depend on is selected too (so a trigger whose
    /// function or a default whose sequence stays out stays out as well, as
    /// with pg_restore -t).
    static let tableParts: Set<ArchiveEntry.Kind> = [
        .owner, .acl, .comment, .securityLabel, .index, .constraint, .checkConstraint, .default, .trigger, .rowSecurity, .policy, .rule,
    ]

    func includes(_ entry: ArchiveEntry) -> Bool {
        seen.withLock { seen in
            seen.kinds[entry.id] = entry.kind
            let included = decide(entry, seen.selected, seen.kinds)
            if included { seen.selected.insert(entry.id) }
            return included
        }
    }

    private func decide(_ entry: ArchiveEntry, _ selected: Set<Int>, _ kinds: [Int: ArchiveEntry.Kind]) -> Bool {
        guard isActive, entry.kind != .settings else { return true }
        if !schemas.isEmpty {
            guard let schema = Self.schema(of: entry), schemas.contains(schema) else { return false }
        }
        guard !tables.isEmpty else { return true }
        if let data = entry.data {
            return tables.contains { $0.matches(schema: data.tableSchema, name: data.tableName) }
        }
        if entry.kind == .table, let schema = entry.schema {
            return tables.contains { $0.matches(schema: schema, name: entry.name) }
        }
        guard Self.tableParts.contains(entry.kind), !selected.isDisjoint(with: entry.dependencies) else { return false }
        return entry.dependencies.allSatisfy { selected.contains($0) || kinds[$0] == .schema || kinds[$0] == nil }
    }

    /// The schema an entry lives in; for a schema's own entries (CREATE
    /// SCHEMA, its owner, comment, privileges), the schema itself.
    static func schema(of entry: ArchiveEntry) -> String? {
        if let schema = entry.schema { return schema }
        if entry.kind == .schema { return entry.name }
        if entry.name.hasPrefix("SCHEMA ") { return String(entry.name.dropFirst("SCHEMA ".count)) }
        return nil
    }
}

