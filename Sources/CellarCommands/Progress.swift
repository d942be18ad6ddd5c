import Cellar
import Foundation

/// A one-line progress bar on stderr (only used when stderr is a terminal):
/// bytes copied against the catalogs' size estimate, rows, archive size and
/// an ETA. Redrawn at most ten times a second.
final class TerminalProgress: ExportProgressObserver, @unchecked Sendable {
    // @unchecked Sendable: all state is guarded by `lock`; callbacks come
    // from the export's worker threads.
    private let lock = NSLock()
    private var estimatedBytes: Int64 = 0
    private var tables = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    func dataPhaseStarted(tables: Int, estimatedBytes: Int64) {
        lock.lock()
        defer { lock.unlock() }
        self.tables = tables
        self.estimatedBytes = max(estimatedBytes, 1)
        started = Date()
    }

    func dataProgress(rows: Int, rawBytes: Int64, archiveBytes: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        // COPY text is usually a little larger than the heap; cap at 99% until done.
        let fraction = min(0.99, Double(rawBytes) / Double(estimatedBytes))
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let elapsed = now.timeIntervalSince(started)
        var eta = "--:--"
        if fraction > 0.01 {
            let remaining = Int(elapsed / fraction - elapsed)
            eta = String(format: "%d:%02d", remaining / 60, remaining % 60)
        }
        let line = String(format: "\r[%@] %3d%%  %@ SQL  %@ rows  %@ written  ETA %@ ",
                          bar, Int(fraction * 100), ByteCount.text(UInt64(max(rawBytes, 0))),
                          Self.count(rows), ByteCount.text(archiveBytes), eta)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finished() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    static func count(_ value: Int) -> String {
        if value >= 1_000_000 { return String(format: "%.1fM", Double(value) / 1_000_000) }
        if value >= 10_000 { return String(format: "%.0fk", Double(value) / 1000) }
        return String(value)
    }
}
