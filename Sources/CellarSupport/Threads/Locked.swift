import Foundation

/// A value shared by threads, behind one lock: every read and write goes
/// through ``withLock(_:)``. A thread can also wait, the lock released, until
/// another thread's change lets it go on (``withLock(when:_:)``,
/// ``waitForValue(_:)``).
///
/// ```swift
/// let counters = Locked((rows: 0, chunks: 0))
/// counters.withLock { $0.rows += rows; $0.chunks += 1 }
/// let rows = counters.withLock { $0.rows }
/// ```
///
/// This, ``BoundedQueue`` and ``SignalTrap`` are the only concurrency
/// primitives pgcellar writes itself; a type shared by threads keeps its
/// mutable state in a `Locked` and is then `Sendable` as the compiler checks it.
///
/// - Important: A value taken out of the lock is the caller's: a class
///   instance read out is then shared without the lock, so keep such values
///   inside, or hand them over for good (as ``BoundedQueue`` does).
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is read and written only with `condition`
    // locked, as `Synchronization.Mutex` does it (which needs macOS 15, and
    // has nothing to wait on). `waiters` too.
    private let condition = NSCondition()
    private var value: Value
    /// Threads waiting in `withLock(when:)` or `waitForValue(_:)`: a
    /// change wakes them only when there are any.
    private var waiters = 0

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with the lock held.
    ///
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the value keeps the changes made before.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        condition.lock()
        defer { unlockAfterChange() }
        return try body(&value)
    }

    /// Runs `body` on the value with the lock held, for reading only: unlike
    /// ``withLock(_:)`` it wakes no waiter, as nothing can have changed.
    /// Polled often (a queue's failure, before each table) the wake-ups cost
    /// more than the reads.
    public func read<R>(_ body: (Value) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(value)
    }

    /// Waits until `isReady` holds for the value, then runs `body`, with the
    /// lock held from the check through `body`.
    ///
    /// `isReady` is checked again after every change another thread makes
    /// through any of these methods; in between the lock is released.
    ///
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func withLock<R>(when isReady: (Value) -> Bool, _ body: (inout Value) throws -> R) rethrows -> R {
        try waitForValue({ value in isReady(value) ? .some(try body(&value)) : nil })
    }

    /// Runs `body` with the lock held until it returns a value: each time it
    /// returns nil it is run again after another thread's next change, the
    /// lock released in between.
    ///
    /// For a step that can only tell whether it may go on by trying, such as
    /// taking the next ready item from a heap.
    ///
    /// - Returns: The first value `body` returns.
    /// - Throws: What `body` throws; a change it made before returning nil is kept.
    public func waitForValue<R>(_ body: (inout Value) throws -> R?) rethrows -> R {
        condition.lock()
        defer { unlockAfterChange() }
        while true {
            if let result = try body(&value) { return result }
            // What `body` changed before it returned nil may let another waiter go on.
            if waiters > 0 { condition.broadcast() }
            waiters += 1
            condition.wait()
            waiters -= 1
        }
    }

    /// Every call may have changed the value: wakes the waiters to look again.
    private func unlockAfterChange() {
        if waiters > 0 { condition.broadcast() }
        condition.unlock()
    }
}

extension Locked where Value: Sendable {
    /// A copy of the value, read with the lock held.
    public var current: Value {
        read { $0 }
    }
}
