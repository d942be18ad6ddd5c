import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Copies every table's rows into chunk entries: `jobs` connections run
/// `COPY ... TO STDOUT` (worker connections import the export's snapshot),
/// and compression threads turn full chunks into frames, appended to the
/// archive as they complete.
///
/// Memory stays flat: each copying connection fills one chunk buffer at a
/// time, at most `compressionThreads` full chunks wait in the queue, and each
/// compression thread holds one chunk and its frame.
final class DataPhase: @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is guarded by `state`
    // (an NSCondition); the archive writer is used only under `state` too.

    private let options: ExportOptions
    private let snapshot: String
    private let writer: ArchiveWriter
    private let tables: [TableDataSource]
    private let tableIDs: [UInt32: Int]
    private let progress: ExportProgressObserver?
    private let logger: Logger
    /// The XXH3 seed of every chunk's row digest (the header's `rowDigest`).
    private let rowDigestSeed: UInt64

    private let state = NSCondition()
    private(set) var ids: EntryIDs
    private var nextTable = 0
    private var queue: [ChunkJob] = []
    private var copiersRunning: Int
    private var connectionsOpen = 0
    private var failure: Error?
    private var rows = 0
    private var chunks = 0
    private var rawBytes: Int64 = 0
    private let queueCapacity: Int
    private let compressionThreads: Int

    init(options: ExportOptions, snapshot: String, writer: ArchiveWriter, ids: EntryIDs, tables: [TableDataSource],
         tableIDs: [UInt32: Int], rowDigestSeed: UInt64, progress: ExportProgressObserver?, logger: Logger) {
        self.options = options
        self.snapshot = snapshot
        self.writer = writer
        self.ids = ids
        self.tables = tables
        self.tableIDs = tableIDs
        self.progress = progress
        self.logger = logger
        self.rowDigestSeed = rowDigestSeed
        self.copiersRunning = max(1, options.jobs)
        self.compressionThreads = max(1, options.compressionThreads ?? max(2, options.jobs))
        self.queueCapacity = compressionThreads
    }

    struct Result {
        var rows: Int
        var chunks: Int
    }

    /// Runs the data phase; the calling thread's `main` connection is one of
    /// the copying connections.
    func run(main: Connection) throws -> Result {
        guard !tables.isEmpty else { return Result(rows: 0, chunks: 0) }
        LargeBuffers.returnToTheSystemWhenFreed()
        progress?.dataPhaseStarted(tables: tables.count, estimatedBytes: tables.reduce(0) { $0 + $1.estimatedBytes })
        let jobs = max(1, options.jobs)
        // The main connection holds the snapshot; it is handed to worker 0
        // while this thread waits in WorkerPool.run, so one thread uses it at a time.
        let mainBox = UncheckedConnection(main)
        _ = try WorkerPool.run(threads: jobs + compressionThreads, name: "pgc-export") { context in
            if context.index < jobs {
                try self.copyWorker(index: context.index, main: mainBox)
            } else {
                try self.compressionWorker()
            }
        }
        if let failure { throw failure }
        return Result(rows: rows, chunks: chunks)
    }

    // MARK: - Copying

    private func copyWorker(index: Int, main: UncheckedConnection) throws {
        defer {
            state.lock()
            copiersRunning -= 1
            state.broadcast()
            state.unlock()
        }
        do {
            let connection: Connection
            if index == 0 {
                connection = main.connection
            } else {
                connection = try options.target.connect(logger: logger)
                try Exporter.prepareSession(connection)
                try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                // > SET TRANSACTION SNAPSHOT: [...] must be executed before the
                // > first query or data-modification statement of the transaction.
                try connection.execute("SET TRANSACTION SNAPSHOT \(sqlLiteral(snapshot))")
            }
            defer { if index != 0 { connection.close() } }
            try connectionOpened()
            while let table = takeTable() {
                if index != 0 { try lockWithoutWaiting(table, on: connection) }
                try copy(table, on: connection)
            }
        } catch {
            fail(error)
            throw error
        }
    }

    /// Counts the copying connections; the last one to open calls
    /// ``ExportOptions/allConnectionsOpen``.
    private func connectionOpened() throws {
        guard let allOpen = options.allConnectionsOpen else { return }
        state.lock()
        connectionsOpen += 1
        let last = connectionsOpen == max(1, options.jobs)
        state.unlock()
        if last { try allOpen() }
    }

    /// As pg_dump's workers do: the main connection holds a lock on every
    /// table; if another session has since queued for an exclusive lock, a
    /// worker waiting behind it would wait forever (the exclusive request in
    /// turn waits for the main connection), so it fails instead.
    private func lockWithoutWaiting(_ table: TableDataSource, on connection: Connection) throws {
        do {
            try connection.execute("LOCK TABLE ONLY \(table.qualifiedName) IN ACCESS SHARE MODE NOWAIT")
        } catch let error as PostgresError where error.code.rawValue == "55P03" {
            throw ClientError("cannot export \(table.qualifiedName) on a parallel connection: another session is waiting for an exclusive lock on it (ALTER, DROP, TRUNCATE...); run the export again when that is done, or with -j 1")
        }
    }

    private func takeTable() -> TableDataSource? {
        state.lock()
        defer { state.unlock() }
        guard failure == nil, nextTable < tables.count else { return nil }
        nextTable += 1
        return tables[nextTable - 1]
    }

    private func copy(_ table: TableDataSource, on connection: Connection) throws {
        let statement = "COPY \(table.copyTarget) FROM stdin;"
        let prefix = Array((statement + "\n").utf8)
        let chunkSize = max(options.chunkSize, 1024)
        // A small table's buffer starts small: thousands of tables each
        // mapping a whole chunk's worth would cost page faults, not rows.
        let capacity = chunkSize + chunkSize / 8 + prefix.count + 8
        let firstCapacity = Int(clamping: min(Int64(capacity), max(64 * 1024, table.estimatedBytes + Int64(prefix.count) + 8)))
        var chunkIndex = 0
        var buffer = ChunkBuffer(capacity: firstCapacity)
        buffer.append(prefix)
        // Counts the chunk's rows too. Each call of copyOut's callback is one
        // row's line, newline included: exactly what the digest hashes.
        var digester = RowDigester(seed: rowDigestSeed)
        func flush() throws {
            buffer.append(CopyRowsSplitter.trailerBytes)
            try enqueue(ChunkJob(table: table, statement: statement, chunk: chunkIndex, rows: digester.rows,
                                 rowDigest: digester.digest, buffer: buffer))
            chunkIndex += 1
            digester = RowDigester(seed: rowDigestSeed)
            buffer = ChunkBuffer(capacity: capacity)
            buffer.append(prefix)
        }
        try connection.copyOut("COPY \(table.copySource ?? table.copyTarget) TO STDOUT") { row in
            // Close the chunk before a row would take it past the chunk size,
            // so that only a single row larger than a chunk makes a larger
            // frame (ArchiveFormat.maximumEntryFrameSize).
            if digester.rows > 0, buffer.count + row.count > chunkSize { try flush() }
            buffer.append(row)
            digester.add(row: row)
            if buffer.count >= chunkSize { try flush() }
        }
        // Every table gets at least one chunk, even when empty.
        if digester.rows > 0 || chunkIndex == 0 { try flush() }
    }

    private func enqueue(_ job: ChunkJob) throws {
        state.lock()
        defer { state.unlock() }
        while queue.count >= queueCapacity && failure == nil { state.wait() }
        if let failure { throw failure }
        queue.append(job)
        state.broadcast()
    }

    // MARK: - Compressing

    private func compressionWorker() throws {
        do {
            let encoder = try ArchiveEntryEncoder(level: options.level)
            while let job = takeJob() {
                let entry = ArchiveEntry(
                    id: 0, kind: .tableData, section: .data, schema: job.table.schema, name: job.table.name,
                    owner: job.table.owner, dependencies: tableIDs[job.table.oid].map { [$0] } ?? [],
                    data: .init(tableSchema: job.table.schema, tableName: job.table.name, copyStatement: job.statement,
                                chunk: job.chunk, rows: job.rows, rowDigest: job.rowDigest.hex))
                var encoded = try job.buffer.withBytes { try encoder.encode(entry, sql: $0) }
                let rawBytes = Int64(job.buffer.count)
                try append(&encoded, rows: job.rows, rawBytes: rawBytes)
            }
        } catch {
            fail(error)
            throw error
        }
    }

    private func takeJob() -> ChunkJob? {
        state.lock()
        defer { state.unlock() }
        while queue.isEmpty && copiersRunning > 0 && failure == nil { state.wait() }
        guard failure == nil, !queue.isEmpty else { return nil }
        let job = queue.removeFirst()
        state.broadcast()
        return job
    }

    private func append(_ encoded: inout EncodedArchiveEntry, rows: Int, rawBytes: Int64) throws {
        state.lock()
        defer { state.unlock() }
        if let failure { throw failure }
        encoded.entry.id = ids.next()
        try writer.append(encoded)
        self.rows += rows
        self.chunks += 1
        self.rawBytes += rawBytes
        progress?.dataProgress(rows: self.rows, rawBytes: self.rawBytes, archiveBytes: writer.bytesWritten)
    }

    private func fail(_ error: Error) {
        state.lock()
        if failure == nil { failure = error }
        state.broadcast()
        state.unlock()
    }
}

/// A chunk of COPY rows waiting to be compressed.
struct ChunkJob: @unchecked Sendable {
    // @unchecked Sendable: the buffer is handed from the copying thread to
    // one compression thread and never touched by the first again.
    var table: TableDataSource
    var statement: String
    var chunk: Int
    var rows: Int
    var rowDigest: RowDigest
    var buffer: ChunkBuffer
}

/// A growable byte buffer that copies rows with memcpy.
final class ChunkBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity {
            let grown = max(capacity * 2, count + bytes.count)
            let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            replacement.copyMemory(from: storage, byteCount: count)
            storage.deallocate()
            storage = replacement
            capacity = grown
        }
        (storage + count).copyMemory(from: base, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }
}

/// Carries the main connection to the worker that uses it while its owner
/// waits; see ``DataPhase/run(main:)``.
final class UncheckedConnection: @unchecked Sendable {
    let connection: Connection
    init(_ connection: Connection) { self.connection = connection }
}

