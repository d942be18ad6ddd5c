internal import CGlibcExtras
import Foundation

// Blocking C calls (libpq above all) must not run on Swift's cooperative
// thread pool: it has one thread per core, two here, and a task blocked in
// PQgetResult holds its thread until the server answers. Everything below
// starts threads of its own instead.

// MARK: - Threads

/// Starts a thread named `name` that runs `body`.
private func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    // Linux thread names hold 15 bytes, and swift-corelibs-foundation drops a
    // longer one silently. The thread names itself, through pthreads as well as
    // Foundation: Foundation applies a name only once it has recorded the
    // thread's handle, which races with the thread's start (until then the
    // thread carries its creator's name).
    let threadName = String(decoding: name.utf8.prefix(15), as: UTF8.self)
    let thread = Thread {
        _ = cellar_set_current_thread_name(threadName)
        Thread.current.name = threadName
        body()
    }
    thread.start()
}

// MARK: - WorkerPool

/// What a worker thread of ``WorkerPool`` knows about itself and its pool.
public final class WorkerContext: Sendable {
    /// The worker's number, from 0 to the pool's size minus 1.
    public let index: Int
    private let cancelled: Locked<Bool>

    init(index: Int, cancelled: Locked<Bool>) {
        self.index = index
        self.cancelled = cancelled
    }

    /// Whether another worker has failed (or ``cancelAll()`` was called):
    /// long-running workers should check between units of work and return.
    public var isCancelled: Bool { cancelled.withLock { $0 } }

    /// Asks every worker to stop at its next check of ``isCancelled``.
    public func cancelAll() { cancelled.withLock { $0 = true } }
}

/// Runs blocking work on a fixed number of threads of its own, for export and
/// restore workers that each hold a database connection.
///
/// Every call waits until all its threads have finished, then returns their
/// results, or throws the first error any of them threw (by time: usually
/// the cause, the others' errors its consequences). When one worker fails,
/// the others see ``WorkerContext/isCancelled`` and can stop early.
public enum WorkerPool {
    /// Runs `body` once on each of `threads` new threads and waits for all of them.
    ///
    /// - Parameters:
    ///   - threads: How many threads (0 returns at once).
    ///   - name: Thread name prefix; the worker's index is appended
    ///     (`pgcellar-w0`, `pgcellar-w1`, ...; Linux keeps the first 15 bytes).
    ///   - body: The work, given the worker's ``WorkerContext``.
    /// - Returns: Each worker's result, in index order.
    /// - Throws: The first error a worker threw, after all have finished.
    /// - Important: Blocks the calling thread.
    public static func run<T: Sendable>(
        threads: Int, name: String = "pgcellar-w",
        _ body: @escaping @Sendable (WorkerContext) throws -> T
    ) throws -> [T] {
        let pool = PoolState<T>(count: threads)
        let finished = DispatchSemaphore(value: 0)
        start(pool, name: name, body: body) { finished.signal() }
        if threads > 0 { finished.wait() }
        return try pool.results()
    }

    /// Transforms every element of `items` on up to `maxThreads` threads, each
    /// taking the next unprocessed element until none is left.
    ///
    /// - Returns: The results in the order of `items`.
    /// - Throws: The first error `transform` threw, after every thread has
    ///   finished; elements not yet started when it was thrown are skipped.
    /// - Important: Blocks the calling thread.
    public static func parallelMap<Element: Sendable, T: Sendable>(
        _ items: [Element], maxThreads: Int, name: String = "pgcellar-w",
        _ transform: @escaping @Sendable (Element) throws -> T
    ) throws -> [T] {
        precondition(maxThreads >= 1, "parallelMap needs at least one thread")
        let queue = WorkQueue(Array(items.indices))
        let results = Locked([T?](repeating: nil, count: items.count))
        _ = try run(threads: min(maxThreads, items.count), name: name) { context in
            while !context.isCancelled, let index = queue.next() {
                let result = try transform(items[index])
                results.withLock { $0[index] = result }
            }
        }
        return results.withLock { $0.map { $0! } }
    }

    // MARK: - Private

    /// Starts one thread per worker of `pool`; `whenAllFinished` runs on the
    /// last one to finish.
    private static func start<T: Sendable>(
        _ pool: PoolState<T>, name: String, body: @escaping @Sendable (WorkerContext) throws -> T,
        whenAllFinished: @escaping @Sendable () -> Void
    ) {
        for index in 0..<pool.count {
            let context = WorkerContext(index: index, cancelled: pool.cancelled)
            startThread(name: "\(name)\(index)") {
                let result = Result { try body(context) }
                if pool.record(result, at: index) { whenAllFinished() }
            }
        }
    }
}

// MARK: - WorkQueue

/// A thread-safe queue of work items that workers take from until it is empty.
///
/// ```swift
/// let queue = WorkQueue(tables)
/// try WorkerPool.run(threads: jobs) { context in
///     let connection = try Connection(...)          // one per worker
///     while !context.isCancelled, let table = queue.next() { ... }
/// }
/// ```
public final class WorkQueue<Element: Sendable>: Sendable {
    private let items: Locked<ArraySlice<Element>>

    /// A queue handing out `items` in order.
    public init(_ items: [Element]) {
        self.items = Locked(items[...])
    }

    /// The next item, or nil when none are left.
    public func next() -> Element? {
        items.withLock { $0.popFirst() }
    }

    /// How many items are left.
    public var count: Int {
        items.read { $0.count }
    }
}

// MARK: - Shared state

/// The workers' results, the first error, and the cancellation flag.
final class PoolState<T: Sendable>: Sendable {
    private struct Outcomes {
        var results: [T?]
        var firstError: (any Error)?
        var unfinished: Int
    }

    /// The number of workers.
    let count: Int
    /// Set when a worker fails; shared with every ``WorkerContext``.
    let cancelled = Locked(false)
    private let outcomes: Locked<Outcomes>

    init(count: Int) {
        precondition(count >= 0, "a pool has zero or more threads")
        self.count = count
        outcomes = Locked(Outcomes(results: Array(repeating: nil, count: count), firstError: nil, unfinished: count))
    }

    /// Stores a worker's outcome; returns true for the last worker to finish.
    func record(_ result: Result<T, any Error>, at index: Int) -> Bool {
        if case .failure = result { cancelled.withLock { $0 = true } }
        return outcomes.withLock { outcomes in
            switch result {
            case .success(let value):
                outcomes.results[index] = value
            case .failure(let error):
                if outcomes.firstError == nil { outcomes.firstError = error }
            }
            outcomes.unfinished -= 1
            return outcomes.unfinished == 0
        }
    }

    /// The results in index order, or the first error.
    func results() throws -> [T] {
        try outcomes.withLock { outcomes in
            if let error = outcomes.firstError { throw error }
            return outcomes.results.map { $0! }
        }
    }
}
