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
///
/// The first failure, on any thread, fails ``queue``: the other threads stop
/// at their next chunk and the run throws it.
final class DataPhase: Sendable {
    private let options: ExportOptions
    private let snapshot: String
    private let tables: [TableDataSource]
    private let tableIDs: [UInt32: Int]
    private let progress: ExportProgressObserver?
    private let logger: Logger
    /// The XXH3 seed of every chunk's row digest (the header's `rowDigest`);
    /// nil when the export writes none (``ExportOptions/rowDigests``).
    private let rowDigestSeed: UInt64?
    private let compressionThreads: Int
    /// The export's connections that have their snapshot, for
    /// ``ExportOptions/allConnectionsOpen``.
    private let connectionsOpen = Locked(0)

    /// Full chunks from the copying connections to the compression threads.
    private let queue: BoundedQueue<ChunkJob>
    /// The next table to copy, and how many copying connections are still at
    /// work: the last one to finish closes ``queue``.
    private let copying: Locked<(nextTable: Int, running: Int)>
    /// The archive and what went into it: compressed chunks are appended one
    /// at a time, in the order they complete.
    private let output: Locked<Output>

    private struct Output {
        let writer: ArchiveWriter
        var ids: EntryIDs
        var rows = 0
        var chunks = 0
        var rawBytes: Int64 = 0
    }

    /// The entry IDs, with those the data chunks took.
    var ids: EntryIDs { output.withLock { $0.ids } }

    /// Connections already in the export's snapshot, for the copying
    /// connections after the main one (the catalog's second connection):
    /// their owner closes them.
    private let openConnections: [UncheckedConnection]

    init(options: ExportOptions, snapshot: String, writer: ArchiveWriter, ids: EntryIDs, tables: [TableDataSource],
         tableIDs: [UInt32: Int], rowDigestSeed: UInt64?, progress: ExportProgressObserver?, logger: Logger,
         openConnections: [Connection] = []) {
        self.openConnections = openConnections.map(UncheckedConnection.init)
        self.options = options
        self.snapshot = snapshot
        self.tables = tables
        self.tableIDs = tableIDs
        self.progress = progress
        self.logger = logger
        self.rowDigestSeed = rowDigestSeed
        let compressionThreads = max(1, options.compressionThreads ?? max(2, options.jobs))
        self.compressionThreads = compressionThreads
        queue = BoundedQueue(capacity: compressionThreads)
        copying = Locked((nextTable: 0, running: max(1, options.jobs)))
        output = Locked(Output(writer: writer, ids: ids))
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
        if let failure = queue.failure { throw failure }
        return output.withLock { Result(rows: $0.rows, chunks: $0.chunks) }
    }

    // MARK: - Copying

    private func copyWorker(index: Int, main: UncheckedConnection) throws {
        defer {
            let last = copying.withLock { copying in
                copying.running -= 1
                return copying.running == 0
            }
            if last { queue.close() }
        }
        do {
            let connection: Connection
            let ownedElsewhere = index == 0 || index <= openConnections.count
            if index == 0 {
                connection = main.connection
            } else if index <= openConnections.count {
                connection = openConnections[index - 1].connection
            } else {
                connection = try options.target.connect(logger: logger)
                try Exporter.prepareSession(connection)
                try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                // > SET TRANSACTION SNAPSHOT: [...] must be executed before the
                // > first query or data-modification statement of the transaction.
                try connection.execute("SET TRANSACTION SNAPSHOT \(try connection.escapeLiteral(snapshot))")
            }
            defer { if !ownedElsewhere { connection.close() } }
            try connectionOpened()
            let encoder = try ArchiveEntryEncoder(level: options.level)
            while let table = takeTable() {
                try copy(table, on: connection, lockingFirst: index != 0, encoder: encoder)
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
        let last = connectionsOpen.withLock { count in
            count += 1
            return count == max(1, options.jobs)
        }
        if last { try allOpen() }
    }

    /// As pg_dump's workers do: the main connection holds a lock on every
    /// table; if another session has since queued for an exclusive lock, a
    /// worker waiting behind it would wait forever (the exclusive request in
    /// turn waits for the main connection), so it locks the table without
    /// waiting first, and fails instead. The LOCK goes in the COPY's query
    /// string: one round trip a table, not two.
    private static func lockingWithoutWaiting(_ table: TableDataSource, _ copy: String) -> String {
        "LOCK TABLE ONLY \(table.qualifiedName) IN ACCESS SHARE MODE NOWAIT; \(copy)"
    }

    private static func lockRefused(_ table: TableDataSource) -> ClientError {
        ClientError("cannot export \(table.qualifiedName) on a parallel connection: another session is waiting for an exclusive lock on it (ALTER, DROP, TRUNCATE...); run the export again when that is done, or with -j 1")
    }

    /// A table's last chunk up to this size is compressed and appended by
    /// the copying thread: handing thousands of small tables to the
    /// compression threads cost more in thread wake-ups than in compression.
    static let compressedInPlaceLimit = 64 * 1024

    private func takeTable() -> TableDataSource? {
        guard queue.failure == nil else { return nil }
        return copying.withLock { copying in
            guard copying.nextTable < tables.count else { return nil }
            copying.nextTable += 1
            return tables[copying.nextTable - 1]
        }
    }

    private func copy(_ table: TableDataSource, on connection: Connection, lockingFirst: Bool,
                      encoder: ArchiveEntryEncoder) throws {
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
        var digester = rowDigestSeed.map(RowDigester.init)
        var rows = 0
        func flush(last: Bool = false) throws {
            buffer.append(CopyRowsSplitter.trailerBytes)
            let job = ChunkJob(table: table, statement: statement, chunk: chunkIndex, rows: rows,
                               rowDigest: digester?.digest, buffer: buffer)
            if last, buffer.count <= Self.compressedInPlaceLimit {
                try compress(job, with: encoder)
            } else {
                try queue.put(job)
            }
            chunkIndex += 1
            guard !last else { return }
            digester = rowDigestSeed.map(RowDigester.init)
            rows = 0
            buffer = ChunkBuffer(capacity: capacity)
            buffer.append(prefix)
        }
        let copy = "COPY \(table.copySource ?? table.copyTarget) TO STDOUT"
        do {
            try connection.copyOut(lockingFirst ? Self.lockingWithoutWaiting(table, copy) : copy) { row in
                // Close the chunk before a row would take it past the chunk size,
                // so that only a single row larger than a chunk makes a larger
                // frame (ArchiveFormat.maximumEntryFrameSize).
                if rows > 0, buffer.count + row.count > chunkSize { try flush() }
                buffer.append(row)
                rows += 1
                digester?.add(row: row)
                if buffer.count >= chunkSize { try flush() }
            }
        } catch let error as PostgresError where lockingFirst && error.code.rawValue == "55P03" {
            throw Self.lockRefused(table)
        }
        // Every table gets at least one chunk, even when empty.
        if rows > 0 || chunkIndex == 0 { try flush(last: true) }
        // Its entries can go into the table of contents once they are all written.
        try output.withLock { try $0.writer.noteChunkCount(schema: table.schema, table: table.name, chunks: chunkIndex) }
    }

    // MARK: - Compressing

    private func compressionWorker() throws {
        do {
            let encoder = try ArchiveEntryEncoder(level: options.level)
            while let job = try queue.take() { try compress(job, with: encoder) }
        } catch {
            fail(error)
            throw error
        }
    }

    /// Compresses a chunk into its entry and appends it to the archive.
    private func compress(_ job: ChunkJob, with encoder: ArchiveEntryEncoder) throws {
        let entry = ArchiveEntry(
            id: 0, kind: .tableData, section: .data, schema: job.table.schema, name: job.table.name,
            owner: job.table.owner, dependencies: tableIDs[job.table.oid].map { [$0] } ?? [],
            data: .init(tableSchema: job.table.schema, tableName: job.table.name, copyStatement: job.statement,
                        chunk: job.chunk, rows: job.rows, rowDigest: job.rowDigest?.hex))
        var encoded = try job.buffer.withBytes { try encoder.encode(entry, sql: $0) }
        try append(&encoded, rows: job.rows, rawBytes: Int64(job.buffer.count))
    }

    private func append(_ encoded: inout EncodedArchiveEntry, rows: Int, rawBytes: Int64) throws {
        try output.withLock { output in
            if let failure = queue.failure { throw failure }
            encoded.entry.id = output.ids.next()
            try output.writer.append(encoded)
            output.rows += rows
            output.chunks += 1
            output.rawBytes += rawBytes
            progress?.dataProgress(rows: output.rows, rawBytes: output.rawBytes, archiveBytes: output.writer.bytesWritten)
        }
    }

    private func fail(_ error: Error) {
        queue.fail(error)
    }
}

/// A chunk of COPY rows waiting to be compressed. Its buffer goes through
/// ``BoundedQueue`` from the copying thread to one compression thread, and
/// the first never touches it again.
struct ChunkJob {
    var table: TableDataSource
    var statement: String
    var chunk: Int
    var rows: Int
    var rowDigest: RowDigest?
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

/// Carries a connection to the thread that uses it while its owner waits
/// (``DataPhase/run(main:)``, ``CatalogPrefetch``).
///
/// `@unchecked Sendable`: a ``Connection`` owns a libpq handle (`PGconn`),
/// which one thread at a time may use; the owner does not touch it until the
/// other thread is done.
final class UncheckedConnection: @unchecked Sendable {
    let connection: Connection
    init(_ connection: Connection) { self.connection = connection }
}

