#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
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
///
/// No libdispatch signal source: on Linux one replaces the handler with its
/// own, which blocks the signal in whichever thread it lands on and forwards
/// it to libdispatch's manager thread; a process whose threads all end up
/// blocking it (the test runner, after a few signals) then lost signals. A
/// plain handler writes the signal's number to a pipe instead, and one
/// thread of pgcellar's own, which never blocks the trapped signals, reads
/// it and runs the cleanup.
public final class SignalTrap: Sendable {
    /// The signals that ask a command to stop: Ctrl-C, `kill`, a closed terminal.
    public static let interruptions: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private enum Phase {
        case armed
        /// A signal arrived: `cleanup` runs or ran, then the signal ends the process.
        case fired
        case cancelled
    }

    private let signals: [Int32]
    private let cleanup: @Sendable (Int32) -> Void
    private let phase = Locked(Phase.armed)

    /// Traps `signals` until ``cancel()``.
    ///
    /// - Parameters:
    ///   - signals: The signals to catch; ``interruptions`` unless given.
    ///   - cleanup: Run once, on another thread, with the first signal's number.
    public init(_ signals: [Int32] = SignalTrap.interruptions, cleanup: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        self.cleanup = cleanup
        SignalPipe.register(self)
        for number in signals { SignalPipe.install(number) }
    }

    /// Stops trapping: the signals have their default handling again, and
    /// `cleanup` will not run. Does nothing once a signal has arrived (the
    /// process is then ending) or after an earlier call.
    public func cancel() {
        let armed = phase.withLock { phase in
            guard phase == .armed else { return false }
            phase = .cancelled
            return true
        }
        guard armed else { return }
        SignalPipe.unregister(self)
        restoreDefaults()
    }

    /// On the signal pipe's thread: `number` arrived.
    fileprivate func caught(_ number: Int32) {
        guard signals.contains(number) else { return }
        let first: Bool = phase.withLock { phase in
            guard phase == .armed else { return false }
            phase = .fired
            return true
        }
        guard first else { return }
        cleanup(number)
        SignalPipe.unregister(self)
        restoreDefaults()
        // Sent to the process, the signal could land on a thread that
        // blocks it and stay pending; unblocked in this thread and raised
        // here, it takes its default course now.
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

/// The self-pipe behind ``SignalTrap``: the handler writes the signal's
/// number (write(2) is async-signal-safe), and one thread reads it and hands
/// it to the armed traps, one at a time.
private enum SignalPipe {
    private struct Registered: Sendable {
        weak var trap: SignalTrap?
    }

    private static let traps = Locked<[Registered]>([])

    /// The write end, for the handler: a plain global read once set.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    /// The pipe's write end, made (and its reading thread started) once,
    /// before any handler is installed.
    private static let started: Int32 = {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A full pipe drops a byte rather than block a handler.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        let readEnd = fds[0]
        let reader = Thread {
            // This thread never blocks a signal a trap may catch, so the
            // kernel always has a thread to deliver a trapped signal to.
            var set = sigset_t()
            sigfillset(&set)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                let armed = traps.withLock { traps in
                    traps.removeAll { $0.trap == nil }
                    return traps.compactMap(\.trap)
                }
                for trap in armed { trap.caught(Int32(byte)) }
            }
        }
        reader.name = "pgcellar-signals"
        reader.start()
        return fds[1]
    }()

    static func register(_ trap: SignalTrap) {
        writeEnd = started
        traps.withLock { $0.append(Registered(trap: trap)) }
    }

    static func unregister(_ trap: SignalTrap) {
        traps.withLock { traps in traps.removeAll { $0.trap == nil || $0.trap === trap } }
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
