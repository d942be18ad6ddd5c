#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Set by SIGUSR1's handler: whichever thread the kernel delivers it to.
private let testPauseContinued = Atomic<Bool>(false)

/// Test-only pause points outside rotation (destroy, restore), with the
/// same contract as ``RotationPauseHook``: with
/// `PGCELLAR_TEST_PAUSE_AT=<point>` in the environment, the process prints
/// `pgcellar-test: paused at <point>` on stderr when it gets there and waits
/// for a signal, so an end-to-end test can signal or SIGKILL it at exactly
/// that step, or let it go on with SIGUSR1. A comma-separated list pauses at
/// each point named, so a test can act at two steps of one run. Without the
/// variable a point costs one look-up.
///
/// - Important: For tests only: a run that reaches its pause point hangs
///   until it is signalled.
public enum TestPause {
    public static let continuedMarker = "pgcellar-test: continued at "
    private static let pauseAt = Set((ProcessInfo.processInfo.environment[RotationPauseHook.environmentVariable] ?? "")
        .split(separator: ",").map(String.init))

    /// Reached `point`: pauses the calling thread until SIGUSR1 when it is one asked for.
    public static func reached(_ point: String) {
        guard pauseAt.contains(point) else { return }
        // The kernel may deliver SIGUSR1 to any thread, so pause() here could
        // sleep through it: the handler sets a flag that this thread polls.
        testPauseContinued.store(false, ordering: .sequentiallyConsistent)
        signal(SIGUSR1) { _ in testPauseContinued.store(true, ordering: .sequentiallyConsistent) }
        // libdispatch leaves most signals blocked in the threads it touched,
        // the main thread included: unblocked here, SIGUSR1 reaches this one.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        FileHandle.standardError.write(Data((RotationPauseHook.marker + point + "\n").utf8))
        while !testPauseContinued.load(ordering: .sequentiallyConsistent) { usleep(10_000) }
        FileHandle.standardError.write(Data((continuedMarker + point + "\n").utf8))
    }
}
