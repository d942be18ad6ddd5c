import Cellar
import CellarSupport
import Foundation

/// One line on stderr, redrawn at most ten times a second: a bar with an
/// ETA when the total is known, then the caller's details. Only used when
/// stderr is a terminal; shared by export's and restore's progress.
final class ProgressLine: Sendable {
    private struct State {
        var started = Date()
        var lastDraw = Date.distantPast
        var drawn = false
    }

    /// Callbacks come from worker threads; the line is drawn with the lock
    /// held, so that two draws never interleave on the terminal.
    private let state = Locked(State())

    /// Starts the clock the ETA is measured from.
    func start() {
        state.withLock { $0.started = Date() }
    }

    /// Redraws unless the last draw was under 0.1 s ago.
    /// - Parameters:
    ///   - fraction: Done so far, 0...1, or nil when the total is unknown.
    ///   - details: The rest of the line, built only when it is drawn.
    func draw(fraction: Double?, details: () -> String) {
        state.withLock { state in
            let now = Date()
            guard now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
            state.lastDraw = now
            state.drawn = true
            FileHandle.standardError.write(Data(Self.line(fraction: fraction, started: state.started, now: now, details: details()).utf8))
        }
    }

    private static func line(fraction: Double?, started: Date, now: Date, details: String) -> String {
        var line = "\r"
        if let fraction {
            let width = 24
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "=", count: filled) + (filled < width ? ">" : "")
                + String(repeating: " ", count: max(0, width - filled - 1)) + "]"
            line += String(format: " %3d%%", Int(fraction * 100))
            var eta = "--:--"
            if fraction > 0.01 {
                let elapsed = now.timeIntervalSince(started)
                let remaining = Int(elapsed / fraction - elapsed)
                eta = String(format: "%d:%02d", remaining / 60, remaining % 60)
            }
            line += "  ETA \(eta)"
        }
        line += "  \(details) "
        return line
    }

    /// Clears the line.
    func finish() {
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            state.drawn = false
        }
    }

    /// A row count the way the line shows it: 950, 12k, 3.4M.
    static func count(_ value: Int) -> String {
        if value >= 1_000_000 { return String(format: "%.1fM", Double(value) / 1_000_000) }
        if value >= 10_000 { return String(format: "%.0fk", Double(value) / 1000) }
        return String(value)
    }
}

/// Export's progress: bytes copied against the catalogs' size estimate,
/// rows, archive size and an ETA.
final class TerminalProgress: ExportProgressObserver, Sendable {
    private let estimatedBytes = Locked<Int64>(1)
    private let line = ProgressLine()

    func dataPhaseStarted(tables: Int, estimatedBytes: Int64) {
        self.estimatedBytes.withLock { $0 = max(estimatedBytes, 1) }
        line.start()
    }

    func dataProgress(rows: Int, rawBytes: Int64, archiveBytes: UInt64) {
        let estimated = estimatedBytes.current
        // COPY text is usually a little larger than the heap; cap at 99% until done.
        let fraction = min(0.99, Double(rawBytes) / Double(estimated))
        line.draw(fraction: fraction) {
            "\(ByteCount.text(UInt64(max(rawBytes, 0)))) SQL  \(ProgressLine.count(rows)) rows  \(ByteCount.text(archiveBytes)) written"
        }
    }

    func finished() { line.finish() }
}
