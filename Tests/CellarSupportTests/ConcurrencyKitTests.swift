import CellarSupport
import Foundation
import Testing

private struct Stop: Error, Equatable {
    var by: String
}

/// Waits up to `seconds` for `condition`; true when it came.
private func eventually(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        usleep(1_000)
    }
    return true
}

/// Runs `body` on a thread of its own; the semaphore is signalled when it returns.
private func onThread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    Thread {
        body()
        done.signal()
    }.start()
    return done
}

@Suite("Locked")
struct LockedTests {
    @Test("changes from many threads all count")
    func concurrentChanges() throws {
        let total = Locked(0)
        _ = try WorkerPool.run(threads: 4) { _ in
            for _ in 0..<10_000 { total.withLock { $0 += 1 } }
        }
        #expect(total.current == 40_000)
    }

    @Test("a waiter goes on when another thread's change makes its condition true, not before")
    func waitsForCondition() throws {
        let value = Locked(0)
        let seen = Locked<Int?>(nil)
        let done = onThread {
            let at = value.withLock(when: { $0 >= 3 }) { $0 }
            seen.withLock { $0 = at }
        }
        for step in 1...3 {
            usleep(20_000)
            #expect(seen.current == nil, "the waiter went on at \(step - 1), before its condition held")
            value.withLock { $0 += 1 }
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(seen.current == 3)
    }

    @Test("withLock with a body that returns nil returns nil at once: only waitForValue waits")
    func withLockDoesNotWait() {
        let items = Locked<[Int]>([])
        let taken: Int? = items.withLock { $0.popLast() }
        #expect(taken == nil)
    }

    @Test("read wakes no waiter: a waiter's condition is checked again after a change, not after a read")
    func readWakesNoWaiter() throws {
        let value = Locked(0)
        let checks = Locked(0)
        let done = onThread {
            value.withLock(when: { current in
                checks.withLock { $0 += 1 }
                return current >= 1
            }) { _ in }
        }
        for _ in 0..<500 where checks.current == 0 { usleep(10_000) }
        #expect(checks.current == 1)
        for _ in 0..<100 { #expect(value.read { $0 } == 0) }
        usleep(20_000)
        #expect(checks.current == 1, "reads woke the waiter \(checks.current - 1) times")
        value.withLock { $0 = 1 }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(checks.current == 2)
    }

    @Test("waitForValue runs its body again after each change until it returns a value")
    func waitsForValue() throws {
        let items = Locked<[Int]>([])
        let taken = Locked<Int?>(nil)
        let done = onThread {
            let first = items.waitForValue({ $0.popLast() })
            taken.withLock { $0 = first }
        }
        usleep(20_000)
        #expect(taken.current == nil)
        items.withLock { $0.append(42) }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(taken.current == 42)
        #expect(items.current.isEmpty)
    }
}

@Suite("BoundedQueue")
struct BoundedQueueTests {
    private final class Payload: Sendable {}

    @Test("a taken element is released at once, while others are still queued (each was a 2 MiB chunk buffer)")
    func takenElementsAreReleased() throws {
        let queue = BoundedQueue<Payload>(capacity: 4)
        weak var first: Payload?
        do {
            let payload = Payload()
            first = payload
            try queue.put(payload)
            try queue.put(Payload())
        }
        do {
            let taken = try queue.take()
            #expect(taken === first)
        }
        #expect(first == nil, "the queue still holds an element it gave away")
        #expect(try queue.take() != nil)
    }

    @Test("a full queue blocks the producer until a consumer takes; elements come out in order")
    func boundBlocksProducer() throws {
        let queue = BoundedQueue<Int>(capacity: 2)
        let put = Locked(0)
        let producer = onThread {
            for element in 0..<5 {
                try? queue.put(element)
                put.withLock { $0 += 1 }
            }
            queue.close()
        }
        #expect(eventually { put.current == 2 })
        usleep(50_000)
        #expect(put.current == 2, "the producer went past a full queue")
        #expect(try queue.take() == 0)
        #expect(eventually { put.current == 3 }, "taking one element did not let the producer on")
        var rest: [Int] = []
        while let element = try queue.take() { rest.append(element) }
        #expect(rest == [1, 2, 3, 4])
        #expect(producer.wait(timeout: .now() + 10) == .success)
    }

    @Test("close wakes every waiting consumer; they take what is left, then nil")
    func closeWakesConsumers() throws {
        let queue = BoundedQueue<String>(capacity: 4)
        let results = Locked<[String?]>([])
        let consumers = (0..<3).map { _ in
            onThread {
                let element = try? queue.take()
                results.withLock { $0.append(element ?? nil) }
            }
        }
        usleep(50_000)
        #expect(results.current.isEmpty, "a consumer returned from an empty, open queue")
        try queue.put("last")
        queue.close()
        for consumer in consumers { #expect(consumer.wait(timeout: .now() + 10) == .success) }
        #expect(results.current.compactMap { $0 } == ["last"])
        #expect(results.current.count == 3)
        #expect(try queue.take() == nil)
    }

    @Test("a consumer's failure wakes a producer blocked on a full queue, which throws it")
    func consumerFailureReachesProducer() throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        try queue.put(1)
        let thrown = Locked<Stop?>(nil)
        let producer = onThread {
            do {
                try queue.put(2)
            } catch {
                thrown.withLock { $0 = error as? Stop }
            }
        }
        usleep(50_000)
        #expect(thrown.current == nil)
        queue.fail(Stop(by: "consumer"))
        #expect(producer.wait(timeout: .now() + 10) == .success)
        #expect(thrown.current == Stop(by: "consumer"))
        // The first failure stays; the element left in the queue is dropped.
        queue.fail(Stop(by: "another"))
        #expect(throws: Stop(by: "consumer")) { try queue.take() }
        #expect(throws: Stop(by: "consumer")) { try queue.put(3) }
        #expect((queue.failure as? Stop) == Stop(by: "consumer"))
    }

    @Test("a producer's failure wakes consumers waiting on an empty queue, which throw it")
    func producerFailureReachesConsumers() throws {
        let queue = BoundedQueue<Int>(capacity: 3)
        let thrown = Locked<[Stop]>([])
        let consumers = (0..<2).map { _ in
            onThread {
                do {
                    _ = try queue.take()
                } catch {
                    if let stop = error as? Stop { thrown.withLock { $0.append(stop) } }
                }
            }
        }
        usleep(50_000)
        queue.fail(Stop(by: "producer"))
        for consumer in consumers { #expect(consumer.wait(timeout: .now() + 10) == .success) }
        #expect(thrown.current == [Stop(by: "producer"), Stop(by: "producer")])
    }
}

/// What a signal's disposition is now: 0 for SIG_DFL.
private func disposition(_ number: Int32) -> Int {
    var action = sigaction()
    sigaction(number, nil, &action)
    return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
}

// SIGWINCH and SIGURG: their default action is to be ignored, so the signal
// a trap sends again after its cleanup leaves the test process running.
@Suite("SignalTrap", .serialized)
struct SignalTrapTests {
    @Test("the first signal runs the cleanup once, whatever arrives while it runs; then default handling is back")
    func runsOnce() throws {
        let calls = Locked<[Int32]>([])
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let trap = SignalTrap([SIGWINCH, SIGURG]) { number in
            calls.withLock { $0.append(number) }
            entered.signal()
            _ = release.wait(timeout: .now() + 10)
        }
        defer { trap.cancel() }
        kill(getpid(), SIGWINCH)
        try #require(entered.wait(timeout: .now() + 10) == .success, "the cleanup did not run on SIGWINCH")
        kill(getpid(), SIGURG)
        kill(getpid(), SIGWINCH)
        usleep(100_000)
        release.signal()
        #expect(eventually { disposition(SIGWINCH) == 0 && disposition(SIGURG) == 0 }, "default handling did not come back")
        usleep(100_000)
        #expect(calls.current == [SIGWINCH])
    }

    @Test("after cancel the cleanup never runs and the signals have their default handling")
    func cancelDisarms() throws {
        let calls = Locked(0)
        let trap = SignalTrap([SIGWINCH]) { _ in calls.withLock { $0 += 1 } }
        trap.cancel()
        #expect(disposition(SIGWINCH) == 0)
        kill(getpid(), SIGWINCH)
        usleep(100_000)
        #expect(calls.current == 0)
        trap.cancel()
    }
}
