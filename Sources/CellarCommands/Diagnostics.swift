import CellarSupport
import Foundation
import Logging

/// Diagnostics go to stderr, data to stdout (STYLE.md, "The command line").
public enum Diagnostics {
    private static let once = BootstrapOnce()

    /// Installs the stderr log handler once per process.
    public static func bootstrap(level: Logger.Level) {
        once.run {
            LoggingSystem.bootstrap { label in
                var handler = StderrLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// Whether stderr is a terminal (colour and progress bars only then).
    public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes one line to stderr, unbuffered.
    public static func printError(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// swift-log's bootstrap may run only once; tests run many commands in-process.
private final class BootstrapOnce: Sendable {
    private let done = Locked(false)

    /// Runs `body` the first time only; a second caller waits until it is done.
    func run(_ body: () -> Void) {
        done.withLock { done in
            guard !done else { return }
            done = true
            body()
        }
    }
}

/// `pgcellar: level: message [key=value ...]` on stderr.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var text = "pgcellar: "
        if event.level >= .warning { text += "\(event.level): " }
        text += event.message.description
        if !merged.isEmpty {
            text += " " + merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        }
        Diagnostics.printError(text)
    }
}
