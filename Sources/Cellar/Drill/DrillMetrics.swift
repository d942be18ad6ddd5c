import CellarSupport
import Foundation

/// The Prometheus text exposition a drill leaves for node_exporter's
/// textfile collector (`--collector.textfile.directory`).
public enum DrillMetrics {
    /// The file's text for `report`. A failed drill keeps the last success's
    /// timestamp from `previous` (the file as it was), so an alert on its
    /// age fires; a drill that never succeeded writes none.
    public static func text(_ report: DrillReport, finishedAt: Date, previous: String?) -> String {
        let labels = "{database=\(labelValue(report.sourceDatabase))}"
        var lines: [String] = []
        let lastSuccess: Double? = report.passed ? finishedAt.timeIntervalSince1970 : previous.flatMap(lastSuccessTimestamp)
        if let lastSuccess {
            lines += [
                "# HELP pgcellar_drill_last_success_timestamp_seconds When a drill last restored the archive and found everything matching.",
                "# TYPE pgcellar_drill_last_success_timestamp_seconds gauge",
                "pgcellar_drill_last_success_timestamp_seconds\(labels) \(format(lastSuccess))",
            ]
        }
        lines += [
            "# HELP pgcellar_drill_duration_seconds How long the last drill took, restore and comparison and cleanup.",
            "# TYPE pgcellar_drill_duration_seconds gauge",
            "pgcellar_drill_duration_seconds\(labels) \(format(report.seconds))",
            "# HELP pgcellar_drill_rows Rows the last drill compared.",
            "# TYPE pgcellar_drill_rows gauge",
            "pgcellar_drill_rows\(labels) \(report.rows)",
            "# HELP pgcellar_drill_mismatches Differences the last drill found (a failure to restore counts as one).",
            "# TYPE pgcellar_drill_mismatches gauge",
            "pgcellar_drill_mismatches\(labels) \(report.mismatches.count + (report.failure == nil ? 0 : 1))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the file atomically (0644: the collector runs as another user).
    public static func write(_ report: DrillReport, to path: String, finishedAt: Date = Date()) throws {
        let previous = try? String(contentsOfFile: path, encoding: .utf8)
        try AtomicFile.write(text(report, finishedAt: finishedAt, previous: previous), to: path, mode: 0o644)
    }

    static func lastSuccessTimestamp(in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("pgcellar_drill_last_success_timestamp_seconds") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    private static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    /// A label value in the exposition format: `"` `\` and newline escaped.
    private static func labelValue(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
