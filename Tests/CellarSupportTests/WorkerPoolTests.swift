import CellarSupport
import Foundation
import Testing

private struct Failure: Error, Equatable {
    var worker: Int
}

/// Waits until `count` threads have arrived, or gives up after a while.
final class Barrier: Sendable {
    private let arrived = Locked(0)
    private let released = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) { self.count = count }

    /// Returns whether all `count` parties arrived within the timeout.
    func arriveAndWait() -> Bool {
        let last = arrived.withLock { arrived in
            arrived += 1
            return arrived == count
        }
        if last {
            for _ in 0..<count { released.signal() }
        }
        return released.wait(timeout: .now() + 10) == .success
    }
}

@Suite("worker threads of their own")
struct WorkerPoolTests {
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

private final class Counter: Sendable {
    private let count = Locked(0)

    func increment() { count.withLock { $0 += 1 } }

    var value: Int { count.current }
}
