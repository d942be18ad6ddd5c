import Foundation
import PostgresClient

/// Hands the items of a ``RestorePlan`` schedule to worker threads as their
/// dependencies complete and their stage opens.
///
/// `@unchecked Sendable`: every mutable field is read and written only with
/// `condition` locked.
final class RestoreScheduler: @unchecked Sendable {
    private let condition = NSCondition()
    private let items: [RestorePlan.Item]
    private var waitingOn: [Int]
    private var dependents: [[Int]]
    private var remainingInStage: [Int]
    private var ready: [Int] = []
    private var finished = 0
    private var failed = false

    init(_ items: [RestorePlan.Item]) {
        self.items = items
        waitingOn = items.map(\.dependencies.count)
        dependents = Array(repeating: [], count: items.count)
        remainingInStage = Array(repeating: 0, count: 4)
        for (index, item) in items.enumerated() {
            for dependency in item.dependencies { dependents[dependency].append(index) }
            remainingInStage[item.stage.rawValue] += 1
            if item.dependencies.isEmpty { ready.append(index) }
        }
    }

    /// The next item to run, waiting while none is ready; nil when all are
    /// done or one has failed.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if failed || finished == items.count { return nil }
            let open = remainingInStage.firstIndex { $0 > 0 } ?? 0
            var best: Int?
            for (position, index) in ready.enumerated() where items[index].stage.rawValue <= open {
                if let current = best, RestorePlan.priority(items[ready[current]]) <= RestorePlan.priority(items[index]) { continue }
                best = position
            }
            if let best { return ready.remove(at: best) }
            condition.wait()
        }
    }

    func complete(_ index: Int) {
        condition.lock()
        defer { condition.unlock() }
        finished += 1
        remainingInStage[items[index].stage.rawValue] -= 1
        for dependent in dependents[index] {
            waitingOn[dependent] -= 1
            if waitingOn[dependent] == 0 { ready.append(dependent) }
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

    init(capacity: Int) {
        self.capacity = max(1, capacity)
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
    private(set) var tables = Set<String>()

    /// Adds a loaded chunk; returns the totals so far.
    @discardableResult
    func addChunk(table: String, rows: Int, bytes: UInt64) -> (rows: Int, bytes: UInt64) {
        lock.lock(); defer { lock.unlock() }
        self.rows += rows
        self.chunks += 1
        self.bytes += bytes
        tables.insert(table)
        return (self.rows, self.bytes)
    }

    func addStatement(kind: String) {
        lock.lock(); defer { lock.unlock() }
        if kind == "SEQUENCE SET" { sequences += 1 }
        if kind == "MATERIALIZED VIEW DATA" { refreshes += 1 }
    }

    var loadedTables: [String] {
        lock.lock(); defer { lock.unlock() }
        return tables.sorted()
    }
}
