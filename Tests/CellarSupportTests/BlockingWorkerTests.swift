import CellarSupport
import Foundation
import Testing

private struct Failure: Error, Equatable {
    var worker: Int
}

/// Waits until `count` threads have arrived, or gives up after a while.
private final class Barrier: @unchecked Sendable {
    private let lock = NSLock()
    private var arrived = 0
    private let released = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) { self.count = count }

    /// Returns whether all `count` parties arrived within the timeout.
    func arriveAndWait() -> Bool {
        lock.lock()
        arrived += 1
        let last = arrived == count
        lock.unlock()
        if last {
            for _ in 0..<count { released.signal() }
        }
        return released.wait(timeout: .now() + 10) == .success
    }
}

@Suite("blocking work on threads of its own")
struct BlockingWorkerTests {
    @Test("runBlocking returns the body's result from another thread")
    func runBlockingReturns() async throws {
        let name = try await runBlocking(name: "pgcellar-test") { Thread.current.name ?? "" }
        #expect(name == "pgcellar-test")
        let value = try await runBlocking { 6 * 7 }
        #expect(value == 42)
    }

    @Test("runBlocking rethrows the body's error")
    func runBlockingThrows() async {
        await #expect(throws: Failure(worker: 1)) {
            try await runBlocking { throw Failure(worker: 1) }
        }
    }

    @Test("more blocking calls than cores run at the same time")
    func blockingCallsDoNotStarvePool() async throws {
        // Eight calls that each wait for all the others: on the cooperative
        // pool (two threads here) this would never finish.
        let barrier = Barrier(count: 8)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { try await runBlocking { barrier.arriveAndWait() } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test("a pool runs every worker concurrently and returns results in order")
    func poolRuns() throws {
        let barrier = Barrier(count: 5)
        let results = try WorkerPool.run(threads: 5, name: "pgcellar-test") { context -> String in
            #expect(barrier.arriveAndWait())
            return "\(context.index):\(Thread.current.name ?? "")"
        }
        #expect(results == (0..<5).map { "\($0):pgcellar-test\($0)" })
        #expect(try WorkerPool.run(threads: 0) { _ in 1 } == [])
    }

    @Test("the first error comes back after every worker has finished, and others see cancellation")
    func poolPropagatesFirstError() throws {
        let finished = Counter()
        let error = try #require(throws: Failure.self) {
            _ = try WorkerPool.run(threads: 4) { context in
                defer { finished.increment() }
                if context.index == 2 { throw Failure(worker: 2) }
                // Other workers stop once they see the failure.
                let deadline = Date().addingTimeInterval(10)
                while !context.isCancelled && Date() < deadline { usleep(1_000) }
                if context.index == 3 { throw Failure(worker: 3) }
            }
        }
        #expect(error == Failure(worker: 2))
        #expect(finished.value == 4)
    }

    @Test("the async pool waits for all workers too")
    func asyncPool() async throws {
        let results = try await WorkerPool.run(threads: 3) { context in context.index * 10 }
        #expect(results == [0, 10, 20])
        await #expect(throws: Failure(worker: 0)) {
            _ = try await WorkerPool.run(threads: 3) { context in
                if context.index == 0 { throw Failure(worker: 0) }
            }
        }
    }

    @Test("parallelMap keeps the order of its items")
    func parallelMap() throws {
        let items = Array(0..<50)
        let squares = try WorkerPool.parallelMap(items, maxThreads: 3) { item -> Int in
            usleep(UInt32.random(in: 0..<2_000))
            return item * item
        }
        #expect(squares == items.map { $0 * $0 })
        #expect(try WorkerPool.parallelMap([Int](), maxThreads: 3) { $0 } == [])

        #expect(throws: Failure(worker: 7)) {
            _ = try WorkerPool.parallelMap(items, maxThreads: 3) { item in
                if item == 7 { throw Failure(worker: 7) }
                return item
            }
        }
    }

    @Test("the async parallelMap keeps the order of its items")
    func asyncParallelMap() async throws {
        let items = Array(0..<50)
        let squares = try await WorkerPool.parallelMap(items, maxThreads: 4) { $0 * $0 }
        #expect(squares == items.map { $0 * $0 })
    }

    @Test("a work queue hands out each item once")
    func workQueue() throws {
        let queue = WorkQueue(Array(0..<1_000))
        let taken = try WorkerPool.run(threads: 4) { _ -> [Int] in
            var mine: [Int] = []
            while let item = queue.next() { mine.append(item) }
            return mine
        }
        #expect(taken.flatMap { $0 }.sorted() == Array(0..<1_000))
        #expect(queue.count == 0)
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
