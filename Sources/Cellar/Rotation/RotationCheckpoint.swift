#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The points of a rotation at which a crash leaves a different state
/// behind, in the order a rotation passes them.
public enum RotationCheckpoint: String, Sendable, CaseIterable {
    /// The journal is on disk; the server has not been asked anything.
    case beforeAlter = "before-alter"
    /// `ALTER ROLE` ran; its transaction is not committed.
    case beforeCommit = "before-commit"
    /// The new verifier is committed; the login is not verified yet.
    case afterAlter = "after-alter"
    /// The new password logged in; the Secret is not written yet.
    case afterVerify = "after-verify"
    /// The new Secret is written and fsynced under its temporary name, not
    /// yet renamed over the old one.
    case duringSecretWrite = "during-secret-write"
    /// The Secret is in place; the journal is not removed yet.
    case afterSecretWrite = "after-secret-write"
}

/// Test-only crash hook: with `PGCELLAR_TEST_PAUSE_AT=<checkpoint>` in the
/// environment, the process prints `pgcellar-test: paused at <checkpoint>`
/// on stderr when it gets there and waits for a signal, so an end-to-end
/// test can SIGKILL it at exactly that step. Without the variable a
/// checkpoint costs one comparison: production runs are not slowed.
///
/// - Important: For tests only. Never set it in a CronJob: the run would hang
///   (holding the role's advisory lock) until killed.
public struct RotationPauseHook: Sendable {
    public static let environmentVariable = "PGCELLAR_TEST_PAUSE_AT"
    public static let marker = "pgcellar-test: paused at "

    /// The checkpoint to stop at; nil in production.
    public let pauseAt: RotationCheckpoint?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        pauseAt = environment[Self.environmentVariable].flatMap(RotationCheckpoint.init(rawValue:))
    }

    public init(pauseAt: RotationCheckpoint?) {
        self.pauseAt = pauseAt
    }

    /// Reached `checkpoint`: pauses forever when it is the one asked for.
    public func reached(_ checkpoint: RotationCheckpoint) {
        guard checkpoint == pauseAt else { return }
        let line = Self.marker + checkpoint.rawValue + "\n"
        FileHandle.standardError.write(Data(line.utf8))
        while true { pause() }
    }
}
