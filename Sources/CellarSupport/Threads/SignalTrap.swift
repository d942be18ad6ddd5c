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
        let sources = signals.map { number in
            // dispatch_source_create(3): a signal source does not replace
            // the signal's handler, so the default action (ending the
            // process) would come first; the disposition must be SIG_IGN.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: Self.queue)
            source.setEventHandler { [weak self] in self?.caught(number) }
            return source
        }
        state.withLock { $0.sources = sources }
        for source in sources { source.resume() }
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
        // To the process, not this thread: libdispatch's threads block
        // signals, so raise(3) here would leave it pending.
        kill(getpid(), number)
    }

    private func restoreDefaults() {
        for number in signals { signal(number, SIG_DFL) }
    }
}
