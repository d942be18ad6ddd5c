#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Test-only pause points outside rotation (destroy, restore), with the
/// same contract as ``RotationPauseHook``: with
/// `PGCELLAR_TEST_PAUSE_AT=<point>` in the environment, the process prints
/// `pgcellar-test: paused at <point>` on stderr when it gets there and waits
/// for a signal, so an end-to-end test can signal or SIGKILL it at exactly
/// that step, or let it go on with SIGUSR1. Without the variable a point
/// costs one comparison.
///
/// - Important: For tests only: a run that reaches its pause point hangs
///   until it is signalled.
public enum TestPause {
    public static let continuedMarker = "pgcellar-test: continued at "
    private static let pauseAt = ProcessInfo.processInfo.environment[RotationPauseHook.environmentVariable]

    /// Reached `point`: pauses the calling thread for good when it is the one asked for.
    public static func reached(_ point: String) {
        guard point == pauseAt else { return }
        // SIGUSR1 runs this empty handler, which ends pause().
        signal(SIGUSR1) { _ in }
        FileHandle.standardError.write(Data((RotationPauseHook.marker + point + "\n").utf8))
        pause()
        FileHandle.standardError.write(Data((continuedMarker + point + "\n").utf8))
    }
}
