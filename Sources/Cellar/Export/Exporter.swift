import CellarSupport
import Foundation
import Logging
import PostgresClient

/// How to run an export.
public struct ExportOptions: Sendable {
    /// The database to export; every export connection is made from it.
    public var target: ConnectionTarget
    /// Connections copying table data at once (`-j`).
    public var jobs: Int
    /// zstd level.
    public var level: Int
    public var selection: ExportSelection
    /// Uncompressed bytes of rows per data chunk.
    public var chunkSize: Int
    /// Threads compressing chunks; default max(2, jobs).
    public var compressionThreads: Int?
    /// The database ACL the header records instead of the one the catalog
    /// holds now: destroy revokes CONNECT before it exports, and records
    /// the ACL from before, from its journal. `.some(nil)` is the default ACL.
    public var recordedDatabasePrivileges: [ArchiveHeader.Privilege]??
    /// Called once, as soon as every connection the export copies with is
    /// open (from the thread that opened the last one); an error fails the
    /// export. Destroy sets `ALLOW_CONNECTIONS false` here.
    public var allConnectionsOpen: (@Sendable () throws -> Void)?
    /// Whether each chunk gets its row digest (issue 11's proof of the
    /// data). Off only to measure what the digests cost: `scripts/bench.sh`
    /// exports once with `PGCELLAR_BENCH_NO_ROW_DIGESTS=1` (docs/commands.md).
    /// An archive without them verifies, and is drilled by row counts, as
    /// one made before the digests existed.
    public var rowDigests = true

    public init(target: ConnectionTarget, jobs: Int = 1, level: Int = 3,
                selection: ExportSelection = ExportSelection(), chunkSize: Int = 2 << 20, compressionThreads: Int? = nil) {
        self.target = target
        self.jobs = jobs
        self.level = level
        self.selection = selection
        self.chunkSize = chunkSize
        self.compressionThreads = compressionThreads
    }
}

/// What an export did, for the closing summary and `--json`.
public struct ExportSummary: Codable, Sendable {
    public var database: String
    public var snapshotTakenAt: String
    public var tables: Int
    public var rows: Int
    public var entries: Int
    public var dataChunks: Int
    public var uncompressedBytes: UInt64
    public var archiveBytes: UInt64
    public var durationSeconds: Double
    public var jobs: Int
    public var compressionLevel: Int
    /// Unsupported objects left out under `--exclude-unsupported`.
    public var skippedObjects: [String]
}

/// Receives progress while an export runs; called from worker threads.
public protocol ExportProgressObserver: Sendable {
    /// Before the data phase: how many tables and roughly how many bytes.
    func dataPhaseStarted(tables: Int, estimatedBytes: Int64)
    /// After each chunk is written.
    func dataProgress(rows: Int, rawBytes: Int64, archiveBytes: UInt64)
    /// When the export is complete or has failed.
    func finished()
}

/// A consistent logical export of one database into the `.sql.zst` format
/// (docs/archive-format.md).
///
/// ```swift
/// let output = try AtomicFileWriter(path: "shop.sql.zst")
/// let summary = try Exporter(options: options, logger: logger).run(to: output)
/// try output.commit()
/// ```
public final class Exporter {
    public let options: ExportOptions
    let logger: Logger
    let progress: ExportProgressObserver?

    public init(options: ExportOptions, logger: Logger, progress: ExportProgressObserver? = nil) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Runs the export, writing the archive to `sink`.
    ///
    /// - Important: On error, the sink holds a partial archive: abort it.
    /// - Throws: `ConnectionError`, `PostgresError`, ``UnsupportedObjectsError``,
    ///   or an error writing the sink.
    public func run(to sink: ByteSink) throws -> ExportSummary {
        defer { progress?.finished() }
        let started = Date()
        // The catalog phase's large arrays each get a mapping of their own,
        // given back to the system when freed, as the data phase's buffers.
        LargeBuffers.returnToTheSystemWhenFreed()
        let connection = try connect()
        defer { connection.close() }
        try Self.prepareSession(connection)
        let (snapshot, takenAt) = try beginLockedSnapshot(connection)
        logger.debug("snapshot \(snapshot) taken at \(takenAt)")

        // With more than one job, a second connection in the snapshot reads
        // half the catalogs meanwhile.
        let helper = options.jobs > 1 ? try snapshotConnection(snapshot) : nil
        defer { helper?.close() }
        var catalog = try SchemaCatalog.read(connection, helper: helper, selection: options.selection, logger: logger)
        // The catalog's rows and the builder's indexes are freed: their
        // pages go back before the order and the pre-data are made.
        LargeBuffers.trimFreedMemory()
        logger.debug("catalog read: \(catalog.objects.count) objects, \(catalog.tables.count) tables; resident memory \(ResidentMemory.description)")
        var database = try DatabaseDescription.read(connection)
        if options.selection.noTablespaces { database.tablespace = nil }
        if let recorded = options.recordedDatabasePrivileges {
            database.privileges = recorded
            database.grants = try DatabaseDescription.legacyGrantStatements(recorded, database: database.name, owner: database.owner)
        }
        var header = ArchiveHeader(
            producer: "pgcellar \(PgCellarVersion.current)", snapshotTakenAt: takenAt, snapshotID: snapshot,
            server: .init(version: connection.serverVersion, versionNumber: connection.serverVersionNumber),
            database: database,
            roles: catalog.roles.keys.sorted().map { ArchiveHeader.Role(name: $0, referencedAs: catalog.roles[$0]!.sorted()) },
            options: .init(schemaOnly: options.selection.schemaOnly, dataOnly: options.selection.dataOnly,
                           tables: options.selection.tables, excludedTables: options.selection.excludedTables,
                           schemas: options.selection.schemas, excludedUnsupported: catalog.skipped, compressionLevel: options.level))
        let rowDigestSeed = options.rowDigests ? try RowDigest.randomSeed() : nil
        header.rowDigest = rowDigestSeed.map { .init(seed: $0) }
        header.copySettings = try CopyTextSettings.read(connection)
        let tablespaces = Set(catalog.objects.compactMap(\.tablespace) + [database.tablespace].compactMap { $0 })
        header.tablespaces = tablespaces.isEmpty ? nil : tablespaces.sorted()

        let writer = try ArchiveWriter(sink: sink, header: header, level: options.level)
        var ids = EntryIDs()
        try writer.append(ArchiveEntry(id: ids.next(), kind: .settings, section: .preData, name: "session settings"),
                          sql: try Self.preamble(header: header))

        // Pre-data.
        let order = DependencyOrder.order(catalog.objects)
        for key in order.brokenCycles { logger.debug("dependency cycle broken at \(key)") }
        // The entry ids looked up later: of objects others depend on, and of
        // what the data entries name (each table's data dependency, each
        // large object). Recording every object's was 3.6 MiB at 5,000
        // tables, two thirds of it never read.
        let dataDependencies = Set(catalog.tables.map(\.dataDependency))
        let remembered = { (position: Int) -> Bool in
            let key = catalog.objects[position].key
            return order.referenced[position] || key.catalog == "pg_largeobject" || dataDependencies.contains(key)
        }
        ids.reserveCapacity(catalog.objects.indices.count(where: remembered))
        for position in order.positions where catalog.objects[position].section == .preData {
            let object = catalog.objects[position]
            try writer.append(ids.entry(for: object, remembered: remembered(position)), sql: try object.archiveSQL)
            // Its SQL is written: freed now, the entry index grows into its room.
            catalog.objects[position].sql = ""
        }
        // What is left to write, in order; the pre-data's SQL, most of the
        // catalog's memory, is freed before the data phase.
        var dataObjects = order.positions.filter { catalog.objects[$0].section == .data }.map { (catalog.objects[$0], remembered($0)) }
        var postDataObjects = order.positions.filter { catalog.objects[$0].section == .postData }.map { (catalog.objects[$0], remembered($0)) }
        catalog.objects = []
        LargeBuffers.trimFreedMemory()

        // Data.
        let dataPhase = DataPhase(
            options: options, snapshot: snapshot, writer: writer, ids: ids, tables: catalog.tables,
            tableIDs: Dictionary(catalog.tables.compactMap { table in
                ids.id(of: table.dataDependency).map { (table.oid, $0) }
            }, uniquingKeysWith: { first, _ in first }),
            rowDigestSeed: rowDigestSeed, progress: progress, logger: logger, openConnections: [helper].compactMap { $0 })
        logger.debug("pre-data written; resident memory \(ResidentMemory.description)")
        // Without tables the data phase opens no connection of its own.
        if catalog.tables.isEmpty { try options.allConnectionsOpen?() }
        TestPause.reached("export-data")
        let data = try dataPhase.run(main: connection)
        LargeBuffers.trimFreedMemory()
        logger.debug("data written; resident memory \(ResidentMemory.description)")
        ids = dataPhase.ids
        for (object, remember) in dataObjects {
            try writer.append(ids.entry(for: object, remembered: remember), sql: try object.archiveSQL)
        }
        _ = try LargeObjectData(connection: connection, writer: writer, chunkSize: options.chunkSize, logger: logger)
            .write(catalog.largeObjects, ids: &ids)

        // Post-data.
        for (object, remember) in postDataObjects {
            try writer.append(ids.entry(for: object, remembered: remember), sql: try object.archiveSQL)
        }
        // The table of contents is made from the writer's entries alone.
        (ids, dataObjects, postDataObjects) = (EntryIDs(), [], [])
        try writer.finish()
        try connection.execute("COMMIT")

        return ExportSummary(
            database: database.name, snapshotTakenAt: takenAt, tables: catalog.tables.count, rows: data.rows,
            entries: writer.entryCount, dataChunks: data.chunks, uncompressedBytes: writer.uncompressedBytes,
            archiveBytes: writer.bytesWritten, durationSeconds: Date().timeIntervalSince(started),
            jobs: options.jobs, compressionLevel: options.level, skippedObjects: catalog.skipped)
    }

    func connect() throws -> Connection {
        try options.target.connect(logger: logger)
    }

    /// A new connection inside a transaction that has imported `snapshot`.
    func snapshotConnection(_ snapshot: String) throws -> Connection {
        let connection = try connect()
        do {
            try Self.prepareSession(connection)
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            // > SET TRANSACTION SNAPSHOT: [...] must be executed before the
            // > first query or data-modification statement of the transaction.
            try connection.execute("SET TRANSACTION SNAPSHOT \(try connection.escapeLiteral(snapshot))")
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    /// Settings every export connection runs with, as pg_dump's; and no JIT
    /// compilation: at 20,000 tables the catalog queries' estimated cost
    /// passed `jit_above_cost`, and compiling them took longer than running
    /// them (the types query: 0.85 s, 8 ms without).
    static func prepareSession(_ connection: Connection) throws {
        let encoding = connection.parameterStatus("server_encoding") ?? "UTF8"
        try connection.execute("""
            SELECT pg_catalog.set_config('search_path', '', false);
            SET client_encoding = \(try connection.escapeLiteral(encoding));
            SET statement_timeout = 0;
            SET lock_timeout = 0;
            SET idle_in_transaction_session_timeout = 0;
            SET extra_float_digits = 3;
            SET DateStyle = ISO;
            SET IntervalStyle = postgres;
            SET row_security = off;
            SET jit = off;
            """)
    }

    /// Starts the export's transaction with every exported table locked
    /// *before* its snapshot is taken, and returns the snapshot.
    ///
    /// `LOCK TABLE` takes no snapshot, so the order is: list the tables (in
    /// a transaction of its own), `BEGIN ISOLATION LEVEL REPEATABLE READ`,
    /// `LOCK` them, then `pg_export_snapshot()`, the transaction's first
    /// snapshot. A TRUNCATE or table rewrite that commits while the export
    /// waits for its lock is then inside the snapshot; had the snapshot come
    /// first, COPY would read the rewritten file with the older snapshot and
    /// find no rows. Nothing else may run between BEGIN and LOCK: any query
    /// would take the snapshot early. Tables are listed again under the
    /// snapshot; when one was created (or one dropped) in between, the
    /// attempt is rolled back and made again.
    private func beginLockedSnapshot(_ connection: Connection) throws -> (snapshot: String, takenAt: String) {
        for attempt in 1...5 {
            let tables = try exportedTables(connection)
            if attempt == 1 { TestPause.reached("export-tables-listed") }
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            do {
                for start in stride(from: 0, to: tables.count, by: 500) {
                    let batch = tables[start..<min(start + 500, tables.count)]
                    try connection.execute("LOCK TABLE \(batch.map { "ONLY \($0.qname)" }.joined(separator: ", ")) IN ACCESS SHARE MODE")
                }
            } catch let error as PostgresError where error.code.rawValue == "42P01" && attempt < 5 {
                // Dropped since it was listed.
                try connection.execute("ROLLBACK")
                logger.debug("a table was dropped while the export locked tables (\(error.message)); trying again")
                continue
            }
            let row = try connection.query(
                "SELECT pg_catalog.pg_export_snapshot() AS snapshot, pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS taken").first!
            let again = try exportedTables(connection)
            if Set(again.map(\.oid)) == Set(tables.map(\.oid)) {
                logger.debug("locked \(tables.count) tables before the snapshot")
                return (try row.string("snapshot"), try row.string("taken"))
            }
            try connection.execute("ROLLBACK")
            logger.debug("tables were created or dropped while the export locked them; trying again (attempt \(attempt))")
        }
        throw ClientError("tables are being created or dropped in this database faster than the export can lock them; run it when the schema is not changing")
    }

    /// The tables whose rows the selection exports, by oid and quoted name.
    private func exportedTables(_ connection: Connection) throws -> [(oid: UInt32, qname: String)] {
        let rows = try connection.query("""
            SELECT c.oid::int8 AS oid, \(CatalogQueries.qualified("n.nspname", "c.relname")) AS qname, n.nspname AS schema, c.relname AS name
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND \(CatalogQueries.userSchema("n")) AND \(CatalogQueries.notExtensionMember("pg_class", "c.oid"))
            """).rows
        let selection = options.selection
        let patterns = selection.tables.map(NamePattern.init)
        let excluded = selection.excludedTables.map(NamePattern.init)
        var tables: [(oid: UInt32, qname: String)] = []
        for row in rows {
            let schema = try row.string("schema"), name = try row.string("name")
            if !selection.schemas.isEmpty && !selection.schemas.contains(schema) { continue }
            if excluded.contains(where: { $0.matches(schema: schema, name: name) }) { continue }
            if !patterns.isEmpty && !patterns.contains(where: { $0.matches(schema: schema, name: name) }) { continue }
            tables.append((UInt32(try row.int("oid")), try row.string("qname")))
        }
        return tables
    }

    /// The script's first entry: pg_dump's session settings.
    static func preamble(header: ArchiveHeader) throws -> String {
        let name = header.database.name.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        return """
            --
            -- pgcellar export of database \(name)
            -- snapshot taken at \(header.snapshotTakenAt) on PostgreSQL \(header.server.version)
            --

            SET statement_timeout = 0;
            SET lock_timeout = 0;
            SET idle_in_transaction_session_timeout = 0;
            SET client_encoding = \(try SQLQuoting.literal(header.database.encoding));
            SET standard_conforming_strings = on;
            SELECT pg_catalog.set_config('search_path', '', false);
            SET check_function_bodies = false;
            SET xmloption = content;
            SET client_min_messages = warning;
            SET row_security = off;
            SET default_tablespace = '';
            SET default_table_access_method = heap;


            """
    }
}

// MARK: - Entry ids

/// Hands out entry ids in file order and remembers which object got which.
struct EntryIDs {
    private var last = 0
    private var byKey: [ObjectKey: Int] = [:]

    /// Room for `count` remembered objects at once: grown by doubling, the
    /// index held its old and new tables together at the export's peak.
    mutating func reserveCapacity(_ count: Int) {
        byKey.reserveCapacity(count)
    }

    mutating func next() -> Int {
        last += 1
        return last
    }

    func id(of key: ObjectKey) -> Int? { byKey[key] }

    /// - Parameter remembered: whether ``id(of:)`` will be asked for it.
    mutating func entry(for object: DumpObject, remembered: Bool = true) -> ArchiveEntry {
        let id = next()
        if remembered { byKey[object.key] = id }
        let section: ArchiveEntry.Section = switch object.section {
        case .preData: .preData
        case .data: .data
        case .postData: .postData
        }
        return ArchiveEntry(id: id, kind: object.kind, section: section, schema: object.schema, name: object.name,
                            owner: object.owner, dependencies: Set(object.dependencies.compactMap { byKey[$0] }).sorted(),
                            tablespace: object.tablespace)
    }
}
