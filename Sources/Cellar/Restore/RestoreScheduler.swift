import CellarSupport
import Foundation
import PostgresClient

/// Hands the items of a ``RestorePlan`` schedule to worker threads as their
/// dependencies complete and their stage opens.
///
/// Among ready items: statements first (an index build starts as soon as its
/// table is loaded), then data chunks, then ANALYZE. A chunk comes from the
/// table the fewest connections are loading, the one with the most bytes
/// left among those: with several large tables each connection loads its
/// own (as pg_restore does, without two COPYs contending for one table), and
/// a connection that runs out of tables joins another on the largest
/// remaining one, which pg_restore cannot do.
///
/// `@unchecked Sendable`: every mutable field is read and written only with
/// `condition` locked.
final class RestoreScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private let items: [RestorePlan.Item]
    private var waitingOn: [Int]
    private var dependents: [[Int]]
    private var remainingInStage: [Int]
    private var finished = 0
    private var failed = false

    // Ready items, chosen in O(log n) (thousands of tables give tens of
    // thousands of items): per stage, statements by rank and ANALYZE items
    // by rank; data chunks per table, and the tables by how many
    // connections load them and how many bytes they have left.
    private var statements: [Heap<Ranked>]
    private var analyses: [Heap<Ranked>]
    /// For data items, their table's number; per table, connections loading
    /// it now, bytes not yet loaded, ready chunks, and a version that
    /// invalidates the table's older places in `tables`.
    private var tableOf: [Int?]
    private var loading: [Int]
    private var remainingBytes: [UInt64]
    private var readyChunks: [Heap<Ranked>]
    private var version: [Int]
    private var tables = Heap<TableChoice>()

    struct Ranked: Comparable {
        var rank: UInt64
        var index: Int
        static func < (a: Ranked, b: Ranked) -> Bool { (a.rank, a.index) < (b.rank, b.index) }
    }

    struct TableChoice: Comparable {
        var loading: Int
        var bytesLeft: UInt64
        var firstRank: UInt64
        var table: Int
        var version: Int
        static func < (a: TableChoice, b: TableChoice) -> Bool {
            (a.loading, UInt64.max - a.bytesLeft, a.firstRank, a.table) < (b.loading, UInt64.max - b.bytesLeft, b.firstRank, b.table)
        }
    }

    init(_ items: [RestorePlan.Item]) {
        self.items = items
        waitingOn = items.map(\.dependencies.count)
        dependents = Array(repeating: [], count: items.count)
        remainingInStage = Array(repeating: 0, count: 4)
        statements = Array(repeating: Heap(), count: 4)
        analyses = Array(repeating: Heap(), count: 4)
        var tableNumbers: [String: Int] = [:]
        tableOf = []
        remainingBytes = []
        for item in items {
            guard let data = item.entry.data else { tableOf.append(nil); continue }
            let key = data.tableSchema + "\u{0}" + data.tableName
            let table = tableNumbers[key] ?? tableNumbers.count
            if table == tableNumbers.count {
                tableNumbers[key] = table
                remainingBytes.append(0)
            }
            remainingBytes[table] += item.entry.uncompressedSize
            tableOf.append(table)
        }
        loading = Array(repeating: 0, count: remainingBytes.count)
        readyChunks = Array(repeating: Heap(), count: remainingBytes.count)
        version = Array(repeating: 0, count: remainingBytes.count)
        for (index, item) in items.enumerated() {
            for dependency in item.dependencies { dependents[dependency].append(index) }
            remainingInStage[item.stage.rawValue] += 1
        }
        for (index, item) in items.enumerated() where item.dependencies.isEmpty { makeReady(index) }
    }

    private func makeReady(_ index: Int) {
        let item = items[index]
        if let table = tableOf[index] {
            readyChunks[table].push(Ranked(rank: item.rank, index: index))
            offer(table)
        } else if item.rank == .max {
            analyses[item.stage.rawValue].push(Ranked(rank: item.rank, index: index))
        } else {
            statements[item.stage.rawValue].push(Ranked(rank: item.rank, index: index))
        }
    }

    /// Places a table among the choices with its current standing.
    private func offer(_ table: Int) {
        version[table] += 1
        guard let first = readyChunks[table].min else { return }
        tables.push(TableChoice(loading: loading[table], bytesLeft: remainingBytes[table], firstRank: first.rank,
                                table: table, version: version[table]))
    }

    /// The next data chunk: from the table the fewest connections load, the
    /// one with the most bytes left among those.
    private func nextChunk() -> Int? {
        while let choice = tables.min {
            tables.pop()
            guard choice.version == version[choice.table], let chunk = readyChunks[choice.table].pop() else { continue }
            loading[choice.table] += 1
            offer(choice.table)
            return chunk.index
        }
        return nil
    }

    /// The next item to run, waiting while none is ready; nil when all are
    /// done or one has failed.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failed || finished == items.count { return nil }
            let open = remainingInStage.firstIndex { $0 > 0 } ?? 0
            for stage in 0...open {
                if let statement = statements[stage].pop() { return statement.index }
                if stage == RestorePlan.Stage.load.rawValue, let chunk = nextChunk() { return chunk }
                if let analysis = analyses[stage].pop() { return analysis.index }
            }
            condition.wait()
        }
    }

    func complete(_ index: Int) {
        condition.lock()
        defer { condition.unlock() }
        finished += 1
        remainingInStage[items[index].stage.rawValue] -= 1
        if let table = tableOf[index] {
            loading[table] -= 1
            remainingBytes[table] -= items[index].entry.uncompressedSize
            offer(table)
        }
        for dependent in dependents[index] {
            waitingOn[dependent] -= 1
            if waitingOn[dependent] == 0 { makeReady(dependent) }
        }
        condition.broadcast()
    }

    /// Stops handing out work: the other workers finish what they hold and return.
    func fail() {
        condition.lock()
        defer { condition.unlock() }
        failed = true
        condition.broadcast()
    }
}

/// A bounded queue of verified data chunks from a streamed archive: the
/// reading thread puts, the loading connections take.
///
/// `@unchecked Sendable`: the fields are touched only with `condition` locked.
final class ChunkQueue: @unchecked Sendable {
    struct Chunk: @unchecked Sendable {
        // @unchecked: the bytes are handed over, never shared.
        var entry: ArchiveEntry
        var rows: [UInt8]
    }

    private let condition = NSCondition()
    private let capacity: Int
    private var chunks: [Chunk] = []
    private var closed = false
    private var failed = false
    /// Buffers of loaded chunks, for the reader to fill again: reused
    /// buffers keep the resident size at the few chunks in flight, where
    /// fresh ones per chunk would leave pages behind in the allocator's
    /// per-thread arenas.
    private var spare: [[UInt8]] = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// An empty buffer, reused when one is free.
    func buffer(capacity: Int) -> [UInt8] {
        condition.lock()
        var buffer = spare.popLast() ?? []
        condition.unlock()
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(capacity)
        return buffer
    }

    /// Hands a loaded chunk's buffer back.
    func recycle(_ buffer: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        if spare.count < 8 { spare.append(buffer) }
    }

    /// Waits for room; false when the consumers have failed.
    func put(_ chunk: Chunk) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && !failed { condition.wait() }
        if failed { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    /// The next chunk; nil once the queue is closed and empty, or failed.
    func take() -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !closed && !failed { condition.wait() }
        if failed || chunks.isEmpty { return nil }
        let chunk = chunks.removeFirst()
        condition.broadcast()
        return chunk
    }

    /// No more chunks will come.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
    }

    func fail() {
        condition.lock()
        defer { condition.unlock() }
        failed = true
        chunks.removeAll()
        condition.broadcast()
    }
}

/// The restore's connections to the target, one per worker.
///
/// `@unchecked Sendable`: worker `i` alone uses `connections[i]` while a
/// pool runs; the coordinating thread uses them only between pools.
final class RestoreSessions: @unchecked Sendable {
    let connections: [Connection]

    init(_ connections: [Connection]) {
        self.connections = connections
    }

    subscript(index: Int) -> Connection { connections[index] }

    func close() {
        for connection in connections { connection.close() }
    }
}

/// Counters the workers add to. `@unchecked Sendable`: guarded by `lock`.
final class RestoreCounters: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var rows = 0
    private(set) var chunks = 0
    private(set) var bytes: UInt64 = 0
    private(set) var sequences = 0
    private(set) var refreshes = 0
    private(set) var tables = Set<QualifiedName>()
    /// COPY bytes loaded per table.
    private var tableBytes: [QualifiedName: UInt64] = [:]

    /// Adds a loaded chunk; returns the totals so far.
    @discardableResult
    func addChunk(table: QualifiedName, rows: Int, bytes: UInt64) -> (rows: Int, bytes: UInt64) {
        lock.lock(); defer { lock.unlock() }
        self.rows += rows
        self.chunks += 1
        self.bytes += bytes
        tables.insert(table)
        tableBytes[table, default: 0] += bytes
        return (self.rows, self.bytes)
    }

    func addStatement(kind: ArchiveEntry.Kind) {
        lock.lock(); defer { lock.unlock() }
        if kind == .sequenceSet { sequences += 1 }
        if kind == .materializedViewData { refreshes += 1 }
    }

    var loadedTables: [QualifiedName] {
        lock.lock(); defer { lock.unlock() }
        return tables.sorted()
    }

    /// Loaded tables large enough to ANALYZE (``RestorePlan/analyzeMinimumBytes``).
    var tablesToAnalyze: [QualifiedName] {
        lock.lock(); defer { lock.unlock() }
        return tables.filter { tableBytes[$0, default: 0] >= RestorePlan.analyzeMinimumBytes }.sorted()
    }
}
