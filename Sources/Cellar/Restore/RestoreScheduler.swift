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
final class RestoreScheduler: Sendable {
    private let state: Locked<State>

    init(_ items: [RestorePlan.Item]) {
        state = Locked(State(items))
    }

    /// The next item to run, waiting while none is ready; nil when all are
    /// done or one has failed.
    func next() -> Int? {
        // An item, or nil to stop (the outer optional); nil from the closure waits.
        state.waitForValue({ state -> Int?? in
            if state.failed || state.finished == state.items.count { return .some(nil) }
            return state.nextReady().map { .some($0) }
        })
    }

    func complete(_ index: Int) {
        state.withLock { $0.complete(index) }
    }

    /// Stops handing out work: the other workers finish what they hold and return.
    func fail() {
        state.withLock { $0.failed = true }
    }

    private struct State {
        let items: [RestorePlan.Item]
        var waitingOn: [Int]
        var dependents: [[Int]]
        var remainingInStage: [Int]
        var finished = 0
        var failed = false

        // Ready items, chosen in O(log n) (thousands of tables give tens of
        // thousands of items): per stage, statements by rank and ANALYZE items
        // by rank; data chunks per table, and the tables by how many
        // connections load them and how many bytes they have left.
        var statements: [Heap<Ranked>]
        var analyses: [Heap<Ranked>]
        /// For data items, their table's number; per table, connections loading
        /// it now, bytes not yet loaded, ready chunks, and a version that
        /// invalidates the table's older places in `tables`.
        var tableOf: [Int?]
        var loading: [Int]
        var remainingBytes: [UInt64]
        var readyChunks: [Heap<Ranked>]
        var version: [Int]
        var tables = Heap<TableChoice>()

        init(_ items: [RestorePlan.Item]) {
            self.items = items
            waitingOn = items.map(\.dependencies.count)
            dependents = Array(repeating: [], count: items.count)
            let stages = RestorePlan.Stage.allCases.count
            remainingInStage = Array(repeating: 0, count: stages)
            statements = Array(repeating: Heap(), count: stages)
            analyses = Array(repeating: Heap(), count: stages)
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

        mutating func makeReady(_ index: Int) {
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
        mutating func offer(_ table: Int) {
            version[table] += 1
            guard let first = readyChunks[table].min else { return }
            tables.push(TableChoice(loading: loading[table], bytesLeft: remainingBytes[table], firstRank: first.rank,
                                    table: table, version: version[table]))
        }

        /// The next data chunk: from the table the fewest connections load, the
        /// one with the most bytes left among those.
        mutating func nextChunk() -> Int? {
            while let choice = tables.min {
                tables.pop()
                guard choice.version == version[choice.table], let chunk = readyChunks[choice.table].pop() else { continue }
                loading[choice.table] += 1
                offer(choice.table)
                return chunk.index
            }
            return nil
        }

        /// The next ready item of the open stages (or earlier ones), if any.
        mutating func nextReady() -> Int? {
            let open = remainingInStage.firstIndex { $0 > 0 } ?? 0
            for stage in 0...open {
                if let statement = statements[stage].pop() { return statement.index }
                if stage == RestorePlan.Stage.load.rawValue, let chunk = nextChunk() { return chunk }
                if let analysis = analyses[stage].pop() { return analysis.index }
            }
            return nil
        }

        mutating func complete(_ index: Int) {
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
        }
    }

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
}

/// A verified data chunk from a streamed archive, on its way from the
/// reading thread to a loading connection through a ``BoundedQueue``:
/// COPY rows of a table, or (an entry without `data`) a large-object data
/// entry's SQL.
struct StreamedChunk {
    var entry: ArchiveEntry
    var rows: [UInt8]
}

/// Buffers of loaded chunks, for the reader of a streamed archive to fill
/// again: reused buffers keep the resident size at the few chunks in
/// flight, where fresh ones per chunk would leave pages behind in the
/// allocator's per-thread arenas.
final class ChunkBuffers: Sendable {
    private let spare = Locked<[[UInt8]]>([])

    /// An empty buffer, reused when one is free.
    func buffer(capacity: Int) -> [UInt8] {
        var buffer = spare.withLock { $0.popLast() } ?? []
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(capacity)
        return buffer
    }

    /// Hands a loaded chunk's buffer back.
    func recycle(_ buffer: [UInt8]) {
        spare.withLock { spare in
            if spare.count < 8 { spare.append(buffer) }
        }
    }
}

/// The restore's connections to the target, one per worker.
///
/// `@unchecked Sendable`: it carries libpq handles (`PGconn`), which are not
/// `Sendable`, to the workers: worker `i` alone uses `connections[i]` while
/// a pool runs; the coordinating thread uses them only between pools.
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

/// Counters the workers add to.
final class RestoreCounters: Sendable {
    private struct Counts {
        var rows = 0
        var chunks = 0
        var bytes: UInt64 = 0
        var sequences = 0
        var refreshes = 0
        var tables = Set<QualifiedName>()
        /// COPY bytes loaded per table.
        var tableBytes: [QualifiedName: UInt64] = [:]
    }

    private let counts = Locked(Counts())

    var rows: Int { counts.read { $0.rows } }
    var chunks: Int { counts.read { $0.chunks } }
    var bytes: UInt64 { counts.read { $0.bytes } }
    var sequences: Int { counts.read { $0.sequences } }
    var refreshes: Int { counts.read { $0.refreshes } }
    var tables: Set<QualifiedName> { counts.read { $0.tables } }

    /// Adds a loaded chunk; returns the totals so far.
    @discardableResult
    func addChunk(table: QualifiedName, rows: Int, bytes: UInt64) -> (rows: Int, bytes: UInt64) {
        counts.withLock { counts in
            counts.rows += rows
            counts.chunks += 1
            counts.bytes += bytes
            counts.tables.insert(table)
            counts.tableBytes[table, default: 0] += bytes
            return (counts.rows, counts.bytes)
        }
    }

    func addStatement(kind: ArchiveEntry.Kind) {
        counts.withLock { counts in
            if kind == .sequenceSet { counts.sequences += 1 }
            if kind == .materializedViewData { counts.refreshes += 1 }
        }
    }

    var loadedTables: [QualifiedName] {
        counts.withLock { $0.tables.sorted() }
    }

    /// Loaded tables large enough to ANALYZE (``RestorePlan/analyzeMinimumBytes``).
    var tablesToAnalyze: [QualifiedName] {
        counts.withLock { counts in
            counts.tables.filter { counts.tableBytes[$0, default: 0] >= RestorePlan.analyzeMinimumBytes }.sorted()
        }
    }
}
