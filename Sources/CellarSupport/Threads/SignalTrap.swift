#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// Catches SIGINT, SIGTERM and SIGHUP while a command does something it must
/// undo when interrupted (a temporary file, a database it created): the
/// first such signal runs `cleanup` once, then the process ends by that
/// signal under default handling, as it would have without the trap (a
/// shell sees 128 + the signal's number).
///
/// ```swift
/// let trap = SignalTrap { _ in unlink(temporaryPath) }
/// defer { trap.cancel() }
/// try writeTheFile()
/// ```
///
/// `cleanup` runs on a thread of its own while the command's threads go on;
/// a second signal, of any of the trapped kinds, does not run it again.
/// Once ``cancel()`` has returned it does not run at all, and the signals
/// have their default handling again.
public final class SignalTrap: Sendable {
    /// The signals that ask a command to stop: Ctrl-C, `kill`, a closed terminal.
    public static let interruptions: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private enum Phase {
        case armed
        /// A signal arrived: `cleanup` runs or ran, then the signal ends the process.
        case fired
        case cancelled
    }

    private struct State {
        var phase = Phase.armed
        var sources: [any DispatchSourceSignal] = []
    }

    /// A serial queue of its own, not `.global()`: libdispatch gives such a
    /// queue a thread even when every thread of the global pool is busy (a
    /// test process running blocking work there starved the handler).
    private static let queue = DispatchQueue(label: "pgcellar-signals")

    private let signals: [Int32]
    private let cleanup: @Sendable (Int32) -> Void
    private let state = Locked(State())

    /// Traps `signals` until ``cancel()``.
    ///
    /// - Parameters:
    ///   - signals: The signals to catch; ``interruptions`` unless given.
    ///   - cleanup: Run once, on another thread, with the first signal's number.
    public init(_ signals: [Int32] = SignalTrap.interruptions, cleanup: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        self.cleanup = cleanup
        // Two paths, because where the kernel delivers a signal depends on
        // the threads' masks. A thread that does not block it runs the
        // handler, which tells the signal pipe's reader; when every thread
        // blocks it (libdispatch blocks signals in the threads it touches,
        // in pgcellar the main thread too), it stays pending and
        // libdispatch's signal source reads it. The first to arrive counts.
        SignalPipe.register(self)
        let sources = signals.map { number in
            // dispatch_source_create(3): a signal source does not replace
            // the signal's handler, so the default action (ending the
            // process) would come first: the handler replaces it.
            SignalPipe.install(number)
            let source = DispatchSource.makeSignalSource(signal: number, queue: Self.queue)
            source.setEventHandler { [weak self] in self?.caught(number) }
            return source
        }
        state.withLock { $0.sources = sources }
        for source in sources { source.resume() }
    }

    /// From the signal pipe: `number` arrived, for whichever traps catch it.
    fileprivate func delivered(_ number: Int32) {
        if signals.contains(number) { caught(number) }
    }

    /// Stops trapping: the signals have their default handling again, and
    /// `cleanup` will not run. Does nothing once a signal has arrived (the
    /// process is then ending) or after an earlier call.
    public func cancel() {
        let sources: [any DispatchSourceSignal] = state.withLock { state in
            guard state.phase == .armed else { return [] }
            state.phase = .cancelled
            defer { state.sources = [] }
            return state.sources
        }
        guard !sources.isEmpty else { return }
        for source in sources { source.cancel() }
        restoreDefaults()
    }

    private func caught(_ number: Int32) {
        let first: Bool = state.withLock { state in
            guard state.phase == .armed else { return false }
            state.phase = .fired
            return true
        }
        guard first else { return }
        cleanup(number)
        let sources = state.withLock { state in
            defer { state.sources = [] }
            return state.sources
        }
        for source in sources { source.cancel() }
        restoreDefaults()
        // Every thread may block it (see init): sent to the process, the
        // signal could stay pending for good. Unblocked in this thread and
        // raised here, it takes its default course now.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
    }

    private func restoreDefaults() {
        for number in signals { signal(number, SIG_DFL) }
    }
}

/// The self-pipe behind ``SignalTrap``'s handler: the handler writes the
/// signal's number (write(2) is async-signal-safe), and a read source on the
/// trap's queue hands it to the armed traps.
private enum SignalPipe {
    private struct Registered: Sendable {
        weak var trap: SignalTrap?
    }

    private static let traps = Locked<[Registered]>([])

    /// The pipe, made (and its reader started) before any handler is installed.
    static let descriptors: (read: Int32, write: Int32) = {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (-1, -1) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A full pipe drops a byte rather than block a handler.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        let reader = DispatchSource.makeReadSource(fileDescriptor: fds[0], queue: DispatchQueue(label: "pgcellar-signal-pipe"))
        reader.setEventHandler {
            var bytes = [UInt8](repeating: 0, count: 64)
            let count = read(fds[0], &bytes, bytes.count)
            guard count > 0 else { return }
            let armed = traps.withLock { traps in
                traps.removeAll { $0.trap == nil }
                return traps.compactMap(\.trap)
            }
            for number in bytes[..<count] {
                for trap in armed { trap.delivered(Int32(number)) }
            }
        }
        reader.resume()
        return (fds[0], fds[1])
    }()

    /// The write end, for the handler: a plain global read, no lazy initialization.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    static func register(_ trap: SignalTrap) {
        writeEnd = descriptors.write
        traps.withLock { $0.append(Registered(trap: trap)) }
    }

    static func install(_ number: Int32) {
        var action = sigaction()
        #if canImport(Darwin)
        action.__sigaction_u.__sa_handler = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(SignalPipe.writeEnd, &byte, 1)
        }
        #else
        action.__sigaction_handler.sa_handler = { number in
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(SignalPipe.writeEnd, &byte, 1)
        }
        #endif
        sigemptyset(&action.sa_mask)
        // Other threads' system calls go on rather than fail with EINTR.
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }
}
