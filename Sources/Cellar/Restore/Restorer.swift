import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Restores a pgcellar archive into a database: checks first, then pre-data
/// on one connection, data chunks and index builds on `-j` connections,
/// foreign keys last, sequence values, materialized views, ANALYZE.
///
/// ```swift
/// var options = RestoreOptions(dsn: "host=db dbname=staging")
/// options.create = true
/// options.jobs = 4
/// let summary = try Restorer(options: options, logger: logger).restore(from: .file("export.sql.zst"))
/// ```
public struct Restorer: Sendable {
    /// Where the archive comes from.
    public enum Source {
        /// A file: its footer, header and table of contents are checked
        /// before anything connects, and its entries read in any order.
        case file(String)
        /// A pipe or standard input: entries are checked as they stream.
        case stream(ByteSource)
        /// Like a file, through any random-access source: a decrypting view,
        /// a backup in a repository (``RepositorySource``).
        case randomAccess(any RandomAccessSource)
    }

    public var options: RestoreOptions
    public var logger: Logger
    /// Told about every loaded chunk (a progress bar on a terminal).
    public var progress: RestoreProgressObserver?
    /// Called with the database's name right after `--create` made it, so
    /// that an interrupted run can drop it (see `RestoreCommand`).
    public var databaseCreated: (@Sendable (String) -> Void)?

    public init(options: RestoreOptions, logger: Logger, progress: RestoreProgressObserver? = nil) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// The database `--dbname` names (what `--create` creates).
    public func targetDatabaseName() throws -> String {
        let info = try ConnectionInfo(options.dsn)
        // An override (`ConnectionTarget.with(database:)`) wins over the string.
        if let name = options.target.database, !name.isEmpty, !name.contains("=") { return name }
        let environment = ProcessInfo.processInfo.environment
        if let name = environment["PGDATABASE"], !name.isEmpty { return name }
        if let user = info.user ?? environment["PGUSER"], !user.isEmpty { return user }
        throw RestoreError("--dbname names no database (add dbname=NAME or /NAME to it)")
    }

    /// Runs the restore.
    ///
    /// - Throws: ``RestoreError`` naming the object and statement that
    ///   failed; ``ArchiveError`` when the archive is damaged;
    ///   `ConnectionError` when the server cannot be reached. A database
    ///   that `--create` made is dropped again unless `--keep-on-error`.
    public func restore(from source: Source) throws -> RestoreSummary {
        if let problem = options.problems.first { throw RestoreError(problem) }
        let started = Date()
        // Frames and decompressed chunks are megabytes each, read on one thread
        // and freed on another.
        LargeBuffers.returnToTheSystemWhenFreed()
        let database = try targetDatabaseName()
        switch source {
        case .file(let path):
            return try restore(from: ArchiveReader(path: path), database: database, started: started)
        case .randomAccess(let input):
            return try restore(from: ArchiveReader(source: input), database: database, started: started)
        case .stream(let input):
            let reader = try ArchiveStreamReader(source: input)
            let plan = RestorePlan(header: reader.header, options: options)
            return try prepareAndRun(plan: plan, database: database, started: started) { run in
                try run.restoreStream(reader)
            }
        }
    }

    /// Restores from an archive read at offsets: a file, an age file, a backup.
    private func restore(from reader: ArchiveReader, database: String, started: Date) throws -> RestoreSummary {
        logger.debug("table of contents read: \(reader.entries.count) entries; resident memory \(ResidentMemory.description)")
        // The whole file, before anything from it runs; a stream relies on
        // the header's own checksum and each entry's instead.
        try reader.verifyContentDigest()
        logger.debug("the file matches its footer's SHA-256")
        let plan = RestorePlan(header: reader.header, options: options)
        return try prepareAndRun(plan: plan, database: database, started: started) { run in
            try run.restoreFile(reader)
        }
    }

    // MARK: - Checks, --create, clean-up

    private func prepareAndRun(plan: RestorePlan, database: String, started: Date,
                               _ body: (RestoreRun) throws -> Void) throws -> RestoreSummary {
        var created = false
        if options.create {
            let maintenance = try maintenanceConnection()
            defer { maintenance.close() }
            try checkRoles(plan, on: maintenance)
            try checkTablespaces(plan, on: maintenance)
            if try maintenance.query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [database]).rowCount > 0 {
                throw RestoreError("database \(database) already exists; --create makes a new one (drop it first, or restore into it without --create)")
            }
            let statement = try plan.createDatabaseStatement(name: database)
            logger.info("creating database \(database)")
            do {
                try maintenance.execute(statement)
            } catch {
                throw RestoreError.wrapping(error, object: "DATABASE \(database)", statement: statement)
            }
            created = true
            databaseCreated?(database)
        } else {
            let target = try options.target.connect(logger: logger)
            defer { target.close() }
            try checkRoles(plan, on: target)
            try checkTablespaces(plan, on: target)
            if !options.dataOnly { try checkEmpty(target, database: database) }
        }

        let run = RestoreRun(plan: plan, logger: logger, database: database, progress: progress)
        defer { progress?.finished() }
        do {
            try body(run)
            if created {
                let maintenance = try maintenanceConnection()
                defer { maintenance.close() }
                for step in try plan.databaseSteps(name: database) {
                    try step.run(on: maintenance, logger: logger)
                }
            }
        } catch {
            run.closeSessions()
            if created {
                if options.keepOnError {
                    logger.error("restore failed; keeping database \(database) as asked (--keep-on-error)")
                } else {
                    dropCreatedDatabase(database)
                }
            }
            throw error
        }
        run.closeSessions()
        let counters = run.counters
        return RestoreSummary(
            database: database, created: created, jobs: options.jobs, entries: run.entriesRestored,
            tables: counters.loadedTables.count, dataChunks: counters.chunks, rows: counters.rows,
            dataBytes: counters.bytes, sequencesSet: counters.sequences,
            materializedViewsRefreshed: counters.refreshes,
            seconds: Date().timeIntervalSince(started), phases: run.phaseSeconds)
    }

    /// A connection to the maintenance database `postgres`, for `CREATE
    /// DATABASE` and the statements built from the archive's header: with
    /// `standard_conforming_strings` on, whatever the server's default, as
    /// the quoting of those statements assumes; and UTF-8, the encoding of
    /// the names and values the header holds.
    private func maintenanceConnection() throws -> Connection {
        let connection = try options.target.with(database: "postgres").connect(logger: logger)
        do {
            try connection.execute("SET standard_conforming_strings = on; SET client_encoding = 'UTF8'")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private func dropCreatedDatabase(_ database: String) {
        do {
            let maintenance = try options.target.with(database: "postgres").connect(logger: logger)
            defer { maintenance.close() }
            try maintenance.execute("DROP DATABASE IF EXISTS \(try maintenance.escapeIdentifier(database)) WITH (FORCE)")
            logger.info("dropped database \(database), which this restore created (--keep-on-error keeps it)")
        } catch {
            logger.error("could not drop database \(database) after the failed restore: \(error)")
        }
    }

    /// Stops before writing when roles the archive needs are missing,
    /// naming each with why it is needed.
    func checkRoles(_ plan: RestorePlan, on connection: Connection) throws {
        let needs = plan.roleNeeds
        guard !needs.isEmpty else { return }
        let missing = try connection.query(
            "SELECT name FROM unnest($1::text[]) AS name WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) ORDER BY 1",
            [textArrayParameter(needs.keys.sorted())]
        ).rows.compactMap { $0["name"] }
        guard missing.isEmpty else {
            let lines = missing.map { role in
                "  \(role): " + (needs[role] ?? []).sorted().map(\.description).joined(separator: "; ")
            }
            let optional = missing.contains { (needs[$0] ?? []).contains(where: \.hasOption) }
            throw RestoreError("""
                the archive references roles that do not exist on the target server: \(missing.joined(separator: ", ")); nothing was written.
                \(lines.joined(separator: "\n"))
                Create them first (pgcellar provision)\(optional ? ", or restore with the options named above" : ""), and run the restore again
                """)
        }
    }

    /// Refuses a target that already holds user objects.
    func checkEmpty(_ connection: Connection, database: String) throws {
        let objects = try connection.query(Self.userObjectsQuery).rows.compactMap { $0["object"] }
        guard objects.isEmpty else {
            let shown = objects.prefix(5).joined(separator: ", ") + (objects.count > 5 ? ", ..." : "")
            throw RestoreError("database \(database) is not empty (it holds \(shown)); restore into a fresh database (--create makes one) or load rows only with --data-only")
        }
    }

    static let userObjectsQuery = """
        SELECT object FROM (
          SELECT format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                   WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
                 n.nspname, c.relname) AS object
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
          UNION ALL
          SELECT format('schema %I', nspname) FROM pg_catalog.pg_namespace
           WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema', 'pg_toast') AND nspname !~ '^pg_(toast_)?temp_'
          UNION ALL
          SELECT format('function %I.%I', n.nspname, p.proname)
            FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          UNION ALL
          SELECT format('type %I.%I', n.nspname, t.typname)
            FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
             AND t.typrelid = 0 AND t.typcategory <> 'A'
          UNION ALL
          SELECT format('extension %I', extname) FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'
        ) AS objects LIMIT 6
        """
}

/// Told as a restore loads rows; calls come from the loading threads.
public protocol RestoreProgressObserver: Sendable {
    /// - Parameter totalBytes: The COPY bytes to load, when known (from a file).
    func restoreStarted(totalBytes: UInt64?)
    func restoreProgress(rows: Int, bytes: UInt64)
    func finished()
}

// MARK: - One run

/// The state of one restore once the checks have passed.
final class RestoreRun: @unchecked Sendable {
    // @unchecked Sendable: the coordinating thread owns every var; workers
    // touch only `counters` (locked) and their own connection.
    let plan: RestorePlan
    let logger: Logger
    let database: String
    let counters = RestoreCounters()
    private(set) var entriesRestored = 0
    private(set) var phaseSeconds: [String: Double] = [:]
    private var sessions: RestoreSessions?
    /// The archive's own session settings (`SETTINGS` entries), for every new connection.
    private var archiveSettings: [String] = []

    var options: RestoreOptions { plan.options }

    let progress: RestoreProgressObserver?

    init(plan: RestorePlan, logger: Logger, database: String, progress: RestoreProgressObserver?) {
        self.plan = plan
        self.logger = logger
        self.database = database
        self.progress = progress
    }

    func closeSessions() {
        sessions?.close()
        sessions = nil
    }

    // MARK: Connections

    private func openSession() throws -> Connection {
        let connection = try plan.options.target.overriding("application_name", "pgcellar restore").connect(logger: logger)
        do {
            // Before the archive's own SET statements, whose literals assume it.
            try connection.execute("SET standard_conforming_strings = on")
            for sql in archiveSettings { try connection.execute(sql) }
            for statement in try plan.sessionSetup() { try connection.execute(statement) }
        } catch {
            connection.close()
            throw RestoreError.wrapping(error, object: "the session settings", statement: nil)
        }
        return connection
    }

    /// The first connection, then as many as `-j` asks for.
    private func connections(_ count: Int) throws -> RestoreSessions {
        var connections = sessions?.connections ?? []
        while connections.count < count { connections.append(try openSession()) }
        let pool = RestoreSessions(connections)
        sessions = pool
        return pool
    }

    private func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { phaseSeconds[phase, default: 0] += Date().timeIntervalSince(start) }
        return try body()
    }

    // MARK: Statements

    /// Runs one non-data entry's SQL, naming the entry if it fails.
    func execute(_ entry: ArchiveEntry, sql archived: String, on connection: Connection) throws {
        let sql = plan.statements(of: entry, sql: archived)
        guard !sql.isEmpty else { return }
        var attempt = 0
        while true {
            do {
                try connection.execute(sql)
                break
            } catch let error as PostgresError where error.code == .deadlockDetected && attempt < 5 && !connection.isInTransaction {
                // Two foreign keys between the same tables, added at once,
                // can deadlock; the statement rolled back, so run it again.
                attempt += 1
                logger.debug("deadlock restoring \(entry.displayName); retrying")
            } catch {
                throw RestoreError.wrapping(error, object: entry.displayName, statement: sql)
            }
        }
        // An entry that switched session authorization (grants by another
        // grantor) also reset SET ROLE.
        if let owner = options.owner, sql.contains("SESSION AUTHORIZATION") {
            try connection.execute("SET ROLE \(try connection.escapeIdentifier(owner))")
        }
        counters.addStatement(kind: entry.kind)
    }

    /// Loads one chunk of rows with COPY and checks the count.
    ///
    /// - Parameters:
    ///   - freeze: TRUNCATE and `COPY ... FREEZE` in one transaction (the
    ///     table is empty and no other connection loads it).
    ///   - inTransaction: Inside the caller's transaction, which truncated
    ///     the table: just the COPY (with FREEZE when asked).
    ///   - produce: Writes the chunk's rows (COPY text format) to the server.
    func load(_ entry: ArchiveEntry, freeze: Bool, inTransaction: Bool = false, on connection: Connection,
              _ produce: (CopyInWriter) throws -> Void) throws {
        guard let data = entry.data else { return }
        var statement = data.copyStatement.trimmingCharacters(in: .whitespaces)
        if statement.hasSuffix(";") { statement.removeLast() }
        if freeze { statement += " WITH (FREEZE)" }
        let rows: Int
        do {
            if inTransaction {
                rows = try connection.copyIn(statement, produce)
            } else if freeze {
                let table = try QualifiedName(data).sql
                rows = try connection.transaction {
                    try connection.execute("TRUNCATE ONLY \(table)")
                    return try connection.copyIn(statement, produce)
                }
            } else {
                rows = try connection.copyIn(statement, produce)
            }
        } catch {
            if connection.isInTransaction, !options.singleTransaction, !inTransaction { _ = try? connection.execute("ROLLBACK") }
            throw RestoreError.wrapping(error, object: entry.displayName, statement: statement)
        }
        guard rows == data.rows else {
            throw RestoreError("loaded \(rows) rows, but the archive says the chunk holds \(data.rows)",
                               object: entry.displayName, statement: statement)
        }
        let totals = counters.addChunk(table: QualifiedName(data), rows: rows, bytes: entry.uncompressedSize)
        progress?.restoreProgress(rows: totals.rows, bytes: totals.bytes)
    }

    // MARK: - From a file

    func restoreFile(_ reader: ArchiveReader) throws {
        // Positions in reader.entries, not copies: a schema of thousands of
        // tables has tens of thousands of entries.
        let filter = RestoreNameFilter(options)
        let selected = reader.entries.indices.filter { filter.includes(reader.entries[$0]) && plan.includes(reader.entries[$0]) }
        progress?.restoreStarted(totalBytes: selected.reduce(0) { $0 + (reader.entries[$1].data != nil ? reader.entries[$1].uncompressedSize : 0) })
        archiveSettings = try selected.filter { RestorePlan.phase(of: reader.entries[$0]) == .session }.map { try reader.sql(reader.entries[$0]) }
        if options.singleTransaction {
            return try restoreInOneTransaction(selected.map { reader.entries[$0] }, reader: reader)
        }
        let first = try connections(1)[0]
        try timed("pre-data") {
            var batch = StatementBatch()
            var count = 0
            for position in selected where RestorePlan.phase(of: reader.entries[position]) == .preData {
                let entry = reader.entries[position]
                try batch.add(entry, sql: try reader.sql(entry), run: self, on: first)
                entriesRestored += 1
                count += 1
            }
            try batch.flush(run: self, on: first)
            logger.info("pre-data: \(count) entries on one connection")
        }
        logger.debug("pre-data restored; resident memory \(ResidentMemory.description)")
        let wholeTables = options.dataOnly ? nil : options.jobs
        let items = RestorePlan.schedule(
            selected.map { reader.entries[$0] }.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) },
            allEntries: reader.entries, analyze: true, wholeTablesFor: wholeTables)
        let chunks = items.filter { $0.entry.data != nil }.count
        logger.info("data and post-data: \(chunks) data chunks, \(items.count - chunks) statements on \(options.jobs) connections")
        try timed("data and post-data") {
            try runScheduled(items) { item, connection in
                if item.merged { return }
                if !item.wholeTable.isEmpty {
                    try self.loadWholeTable(item.wholeTable, on: connection, reader: reader)
                } else if item.entry.kind == RestorePlan.analyzeKind {
                    try self.analyze(item.entry, on: connection)
                } else if item.entry.data != nil {
                    try self.load(item.entry, freeze: RestorePlan.freezable(item.entry, options: self.options), on: connection) { writer in
                        try reader.readCopyRows(item.entry) { try writer.write($0) }
                    }
                } else {
                    try self.execute(item.entry, sql: try reader.sql(item.entry), on: connection)
                }
            }
        }
        logger.debug("data and post-data restored; resident memory \(ResidentMemory.description)")
        entriesRestored += items.filter { $0.entry.kind != RestorePlan.analyzeKind }.count
    }

    /// Loads every chunk of a table on one connection in one transaction:
    /// TRUNCATE, then `COPY ... FREEZE` chunk by chunk.
    private func loadWholeTable(_ chunks: [ArchiveEntry], on connection: Connection, reader: ArchiveReader) throws {
        guard let data = chunks.first?.data else { return }
        let table = try QualifiedName(data).sql
        do {
            try connection.transaction {
                try connection.execute("TRUNCATE ONLY \(table)")
                for chunk in chunks {
                    try load(chunk, freeze: true, inTransaction: true, on: connection) { writer in
                        try reader.readCopyRows(chunk) { try writer.write($0) }
                    }
                }
            }
        } catch {
            throw RestoreError.wrapping(error, object: "TABLE DATA \(data.tableSchema) \(data.tableName)", statement: "TRUNCATE ONLY \(table)")
        }
    }

    private func analyze(_ entry: ArchiveEntry, on connection: Connection) throws {
        try analyze(QualifiedName(schema: entry.schema ?? "public", name: entry.name), on: connection)
    }

    private func analyze(_ table: QualifiedName, on connection: Connection) throws {
        let statement = "ANALYZE \(try table.sql)"
        do {
            try connection.execute(statement)
        } catch {
            throw RestoreError.wrapping(error, object: "ANALYZE \(table)", statement: statement)
        }
    }

    /// `--single-transaction`: every entry in archive order on one connection,
    /// committed only at the end (after a stream has been checked to its end).
    private func restoreInOneTransaction(_ selected: [ArchiveEntry], reader: ArchiveReader) throws {
        let connection = try connections(1)[0]
        try timed("restore") {
            try connection.transaction {
                for entry in selected where RestorePlan.phase(of: entry) != .session {
                    if entry.data != nil {
                        try load(entry, freeze: false, on: connection) { writer in
                            try reader.readCopyRows(entry) { try writer.write($0) }
                        }
                    } else {
                        try execute(entry, sql: try reader.sql(entry), on: connection)
                    }
                    entriesRestored += 1
                }
            }
        }
        try analyze()
    }

    // MARK: - From a stream

    func restoreStream(_ reader: ArchiveStreamReader) throws {
        let filter = RestoreNameFilter(options)
        let selects = { (entry: ArchiveEntry) in filter.includes(entry) && self.plan.includes(entry) }
        progress?.restoreStarted(totalBytes: nil)
        let first = try connections(1)[0]
        if options.singleTransaction {
            try timed("restore") {
                try first.transaction {
                    while let entry = try reader.next() {
                        guard selects(entry) else { continue }
                        try streamEntryInline(entry, reader: reader, on: first)
                    }
                }
            }
            return try analyze()
        }

        // Pre-data, as it arrives, until the first data chunk.
        var firstData: ArchiveEntry?
        var deferred: [(entry: ArchiveEntry, sql: String)] = []
        try timed("pre-data") {
            var batch = StatementBatch()
            while let entry = try reader.next() {
                guard selects(entry) else { continue }
                switch RestorePlan.phase(of: entry) {
                case .data:
                    try batch.flush(run: self, on: first)
                    firstData = entry
                    return
                case .preData:
                    try batch.add(entry, sql: try Self.payloadText(reader), run: self, on: first)
                    entriesRestored += 1
                case .session:
                    try batch.flush(run: self, on: first)
                    try streamEntryInline(entry, reader: reader, on: first)
                case .postData:
                    deferred.append((entry, try Self.payloadText(reader)))
                }
            }
            try batch.flush(run: self, on: first)
        }

        // Data: this thread reads and checks chunks, -j connections load them.
        if let firstData {
            try timed("data") { deferred += try streamData(reader, first: firstData, filter: filter) }
        }

        // Post-data, once the whole stream has checked out.
        let items = RestorePlan.schedule(deferred.map(\.entry), allEntries: reader.entriesRead)
        var sqlByID: [Int: String] = [:]
        for (entry, sql) in deferred { sqlByID[entry.id] = sql }
        let statements = sqlByID
        try timed("post-data") {
            try runScheduled(items) { item, connection in
                try self.execute(item.entry, sql: statements[item.entry.id] ?? "", on: connection)
            }
        }
        entriesRestored += items.count
        try analyze()
    }

    private func streamEntryInline(_ entry: ArchiveEntry, reader: ArchiveStreamReader, on connection: Connection) throws {
        switch RestorePlan.phase(of: entry) {
        case .data:
            try load(entry, freeze: false, on: connection) { writer in
                try reader.readCopyRows { try writer.write($0) }
            }
        case .session:
            let sql = try Self.payloadText(reader)
            archiveSettings.append(sql)
            try execute(entry, sql: sql, on: connection)
        case .preData, .postData:
            try execute(entry, sql: try Self.payloadText(reader), on: connection)
        }
        entriesRestored += 1
    }

    /// Reads the rest of the stream: data chunks go to the loading
    /// connections through a small queue (memory stays at a few chunks),
    /// other entries are returned for the post-data phase.
    private func streamData(_ reader: ArchiveStreamReader, first: ArchiveEntry, filter: RestoreNameFilter) throws -> [(entry: ArchiveEntry, sql: String)] {
        let jobs = options.jobs
        let pool = try connections(jobs)
        let queue = BoundedQueue<StreamedChunk>(capacity: max(1, jobs / 2))
        let buffers = ChunkBuffers()
        let stream = StreamHandoff(reader: reader, first: first)
        logger.info("data: loading chunks on \(jobs) connection\(jobs == 1 ? "" : "s") as they stream")
        let results = try WorkerPool.run(threads: jobs + 1, name: "pgc-restore") { context -> Streamed? in
            if context.index == jobs {
                do {
                    let streamed = try self.produce(stream, into: queue, buffers: buffers, filter: filter, context: context)
                    queue.close()
                    return streamed
                } catch {
                    queue.fail(error)
                    throw error
                }
            }
            let connection = pool[context.index]
            do {
                while var chunk = try queue.take() {
                    defer {
                        buffers.recycle(chunk.rows)
                        chunk.rows = []
                    }
                    if chunk.entry.data == nil {
                        try self.execute(chunk.entry, sql: String(decoding: chunk.rows, as: UTF8.self), on: connection)
                        continue
                    }
                    try self.load(chunk.entry, freeze: false, on: connection) { writer in
                        // In slices: libpq copies what one call sends into its
                        // output buffer, which would grow to a whole chunk.
                        try chunk.rows.withUnsafeBytes { rows in
                            var offset = 0
                            while offset < rows.count {
                                let end = min(rows.count, offset + 128 * 1024)
                                try writer.write(UnsafeRawBufferPointer(rebasing: rows[offset..<end]))
                                offset = end
                            }
                        }
                    }
                }
            } catch {
                queue.fail(error)
                throw error
            }
            return nil
        }
        let streamed = results[jobs] ?? Streamed()
        entriesRestored += streamed.chunks
        return streamed.deferred
    }

    private func produce(_ stream: StreamHandoff, into queue: BoundedQueue<StreamedChunk>, buffers: ChunkBuffers,
                         filter: RestoreNameFilter, context: WorkerContext) throws -> Streamed {
        var streamed = Streamed()
        var current: ArchiveEntry? = stream.first
        while let entry = current, !context.isCancelled {
            if filter.includes(entry) && plan.includes(entry) {
                if entry.data != nil || entry.kind == .largeObjectData {
                    // The archive's size, within the largest chunk the writer cuts
                    // (a crafted size must not reserve more; a real row larger
                    // than that still fits, by growing).
                    var rows = buffers.buffer(capacity: Int(min(entry.uncompressedSize, 256 << 20)))
                    if entry.data != nil {
                        try stream.reader.readCopyRows { rows.append(contentsOf: $0) }
                    } else {
                        // Large objects' bytes, as lo_put statements of a few MiB
                        // an entry: loaded as they stream, like rows. Kept for the
                        // post-data phase, they were the whole of the objects' bytes
                        // (twice over, in hex) in memory.
                        try stream.reader.readPayload { rows.append(contentsOf: $0) }
                    }
                    try queue.put(StreamedChunk(entry: entry, rows: rows))
                    streamed.chunks += 1
                } else {
                    streamed.deferred.append((entry, try Self.payloadText(stream.reader)))
                }
            }
            current = try stream.reader.next()
        }
        return streamed
    }

    /// What the thread reading a stream found besides the chunks it queued.
    private struct Streamed: Sendable {
        var deferred: [(entry: ArchiveEntry, sql: String)] = []
        var chunks = 0
    }

    /// The stream's reader, for the one thread that reads it while the
    /// coordinating thread waits for the pool.
    ///
    /// `@unchecked Sendable`: the reader holds a zstd decompression context
    /// (`ZSTD_DCtx`) and the input's file descriptor, which are not
    /// `Sendable`; one thread at a time uses them.
    private final class StreamHandoff: @unchecked Sendable {
        let reader: ArchiveStreamReader
        let first: ArchiveEntry

        init(reader: ArchiveStreamReader, first: ArchiveEntry) {
            self.reader = reader
            self.first = first
        }
    }

    static func payloadText(_ reader: ArchiveStreamReader) throws -> String {
        var bytes: [UInt8] = []
        try reader.readPayload { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Parallel work

    /// Runs scheduled items on `-j` connections; the first failure stops the rest.
    private func runScheduled(_ items: [RestorePlan.Item],
                              _ work: @escaping @Sendable (RestorePlan.Item, Connection) throws -> Void) throws {
        guard !items.isEmpty else { return }
        let jobs = min(options.jobs, max(1, items.count))
        let pool = try connections(jobs)
        let scheduler = RestoreScheduler(items)
        _ = try WorkerPool.run(threads: jobs, name: "pgc-restore") { context in
            let connection = pool[context.index]
            while let index = scheduler.next() {
                do {
                    try work(items[index], connection)
                } catch {
                    scheduler.fail()
                    throw error
                }
                scheduler.complete(index)
            }
        }
    }

    /// ANALYZE of every loaded table, on the `-j` connections.
    private func analyze() throws {
        let tables = counters.tablesToAnalyze
        guard !tables.isEmpty else { return }
        try timed("analyze") {
            let pool = try connections(min(options.jobs, tables.count))
            let queue = WorkQueue(tables)
            let count = pool.connections.count
            _ = try WorkerPool.run(threads: count, name: "pgc-analyze") { context in
                let connection = pool[context.index]
                while !context.isCancelled, let table = queue.next() {
                    try self.analyze(table, on: connection)
                }
            }
        }
    }
}

/// Pre-data statements sent several entries at a time: one round trip and
/// one commit for up to ``entryLimit`` entries instead of one each, which is
/// most of a restore's time for a schema of thousands of small tables.
///
/// A simple query holding several statements runs as one implicit
/// transaction, so a failing batch leaves nothing behind; it is then run
/// again entry by entry, so that the error names the entry that failed.
struct StatementBatch {
    static let entryLimit = 32
    static let byteLimit = 1 << 20

    private var items: [(entry: ArchiveEntry, sql: String)] = []
    private var bytes = 0

    mutating func add(_ entry: ArchiveEntry, sql archived: String, run: RestoreRun, on connection: Connection) throws {
        let sql = run.plan.statements(of: entry, sql: archived)
        // SET ROLE must be restored after an entry that switches session
        // authorization (--owner): such an entry runs on its own.
        if run.options.owner != nil && sql.contains("SESSION AUTHORIZATION") {
            try flush(run: run, on: connection)
            try run.execute(entry, sql: sql, on: connection)
            return
        }
        guard !sql.isEmpty else { return }
        items.append((entry, sql))
        bytes += sql.utf8.count
        if items.count >= Self.entryLimit || bytes >= Self.byteLimit { try flush(run: run, on: connection) }
    }

    mutating func flush(run: RestoreRun, on connection: Connection) throws {
        let batch = items
        items = []
        bytes = 0
        switch batch.count {
        case 0:
            return
        case 1:
            try run.execute(batch[0].entry, sql: batch[0].sql, on: connection)
        default:
            do {
                // Each entry ends its last statement with a semicolon and a newline.
                try connection.execute(batch.map(\.sql).joined(separator: "\n"))
                for item in batch { run.counters.addStatement(kind: item.entry.kind) }
            } catch {
                run.logger.debug("a batch of \(batch.count) pre-data entries failed; running them one by one to find which")
                if connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
                for item in batch { try run.execute(item.entry, sql: item.sql, on: connection) }
            }
        }
    }
}
