/// A first-in first-out queue between threads that holds at most `capacity`
/// elements: a producer waits while it is full, a consumer while it is empty.
/// Memory stays bounded however much faster one side is than the other.
///
/// The producers ``close()`` it when they are done; the consumers then take
/// what is left and get nil. Either side ``fail(_:)``s it when it cannot go
/// on: every waiting thread wakes, and every later ``put(_:)`` and
/// ``take()`` throws that first error, so no thread waits for a partner that
/// is gone.
///
/// ```swift
/// let queue = BoundedQueue<Chunk>(capacity: 4)
/// // producer                       // consumers
/// do {                              do {
///     for chunk in chunks {             while let chunk = try queue.take() { try load(chunk) }
///         try queue.put(chunk)      } catch {
///     }                                 queue.fail(error)
///     queue.close()                     throw error
/// } catch {                         }
///     queue.fail(error)
///     throw error
/// }
/// ```
///
/// - Important: An element is handed over: the thread that puts it must not
///   touch it again, so an element that holds a class instance (a buffer)
///   is used by one thread at a time without being `Sendable`.
public final class BoundedQueue<Element>: Sendable {
    private struct State {
        /// Taken elements are nil until the array is compacted: a slot
        /// left holding one kept it (a 2 MiB chunk buffer) alive.
        var elements: [Element?] = []
        /// Where the first element is: taking from the front moves it on
        /// instead of shifting every element.
        var head = 0
        var closed = false
        var failure: (any Error)?

        var count: Int { elements.count - head }

        mutating func removeFirst() -> Element {
            let element = elements[head]!
            elements[head] = nil
            head += 1
            if head == elements.count {
                elements.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= elements.count {
                elements.removeFirst(head)
                head = 0
            }
            return element
        }
    }

    /// The most elements it holds at once.
    public let capacity: Int
    private let state = Locked(State())

    /// - Parameter capacity: The most elements held at once; at least 1.
    public init(capacity: Int) {
        precondition(capacity >= 1, "a bounded queue holds at least one element")
        self.capacity = capacity
    }

    /// Adds `element` at the end, waiting while the queue is full.
    ///
    /// - Throws: The error the queue failed with, if it has failed (before or
    ///   while waiting); `element` is then dropped.
    /// - Important: Putting into a closed queue is a programming error.
    public func put(_ element: Element) throws {
        try state.withLock(when: { $0.count < capacity || $0.failure != nil }) { state in
            if let failure = state.failure { throw failure }
            precondition(!state.closed, "put into a closed BoundedQueue")
            state.elements.append(element)
        }
    }

    /// Takes the first element, waiting while the queue is empty and open.
    ///
    /// - Returns: The element, or nil once the queue is closed and empty.
    /// - Throws: The error the queue failed with; elements still in it are dropped.
    public func take() throws -> Element? {
        try state.withLock(when: { $0.count > 0 || $0.closed || $0.failure != nil }) { state in
            if let failure = state.failure { throw failure }
            return state.count > 0 ? state.removeFirst() : nil
        }
    }

    /// Says no more elements will come: consumers take what is left, then nil.
    public func close() {
        state.withLock { $0.closed = true }
    }

    /// Fails the queue with `error`: waiting producers and consumers wake and
    /// throw it, and so does every later ``put(_:)`` and ``take()``. The
    /// elements still held are released. A second failure keeps the first error.
    public func fail(_ error: any Error) {
        state.withLock { state in
            if state.failure == nil { state.failure = error }
            state.elements.removeAll()
            state.head = 0
        }
    }

    /// The error the queue failed with, if it has.
    public var failure: (any Error)? {
        state.read { $0.failure }
    }
}
