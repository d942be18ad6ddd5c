import CellarSupport
import Foundation

// MARK: - Metric samples

/// One sample of a gauge in Prometheus's text exposition format:
/// `pgcellar_backup_bytes{database="shop"} 123456`.
public struct MetricSample: Sendable, Equatable {
    public var name: String
    /// Label names and values, written in this order.
    public var labels: [(String, String)]
    public var value: Double

    public init(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }

    public static func == (lhs: MetricSample, rhs: MetricSample) -> Bool {
        lhs.series == rhs.series && lhs.value == rhs.value
    }

    /// The name and labels, as written: what identifies the series.
    var series: String {
        guard !labels.isEmpty else { return name }
        let written = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
        return "\(name){\(written)}"
    }

    var line: String {
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return "\(series) \(text)"
    }

    /// > label_value can be any sequence of UTF-8 characters, but the
    /// > backslash (\), double-quote ("), and line feed (\n) characters have
    /// > to be escaped as \\, \", and \n, respectively.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

// MARK: - MetricsFile

/// A metrics file for node_exporter's textfile collector, replaced
/// atomically (`AtomicFile`, mode 0644 so the collector can read it).
///
/// Each run writes its samples over those of the file it replaces and keeps
/// the others: a failing backup writes its `last_failure` and carries the
/// previous `last_success` forward, because a short-lived pod has no
/// counters that survive it.
public enum MetricsFile {
    /// What each gauge means, for its `# HELP` line.
    public static let help: [String: String] = [
        "pgcellar_backup_last_success_timestamp_seconds": "When the last successful backup finished (Unix time).",
        "pgcellar_backup_last_failure_timestamp_seconds": "When the last failed backup gave up (Unix time).",
        "pgcellar_backup_duration_seconds": "How long the last backup ran.",
        "pgcellar_backup_bytes": "Bytes stored by the last successful backup.",
        "pgcellar_backup_rows": "Rows exported by the last successful backup (0 when encrypted: counts stay inside the ciphertext).",
        "pgcellar_prune_last_success_timestamp_seconds": "When the last successful prune finished (Unix time).",
        "pgcellar_prune_last_failure_timestamp_seconds": "When the last failed prune gave up (Unix time).",
        "pgcellar_backups_kept": "Backups left in the repository after the last prune.",
        "pgcellar_rotation_last_success_timestamp_seconds": "When the role's password was last rotated successfully (Unix time).",
        "pgcellar_rotation_last_failure_timestamp_seconds": "When the last rotation of the role's password failed (Unix time).",
    ]

    /// Writes `samples` into the file at `path`, keeping the samples of the
    /// series it does not set.
    ///
    /// - Throws: `FileError` when the file cannot be written; a previous
    ///   file that cannot be read is replaced (its samples are lost, not
    ///   trusted).
    public static func update(path: String, with samples: [MetricSample]) throws {
        var merged = read(path: path)
        let setting = Set(samples.map(\.series))
        merged.removeAll { setting.contains($0.series) }
        merged.append(contentsOf: samples)
        try AtomicFile.write(render(merged), to: path, mode: 0o644)
    }

    /// The text exposition of `samples`: grouped by name (sorted), each
    /// group with its `# HELP` and `# TYPE` lines.
    public static func render(_ samples: [MetricSample]) -> String {
        var text = ""
        let byName = Dictionary(grouping: samples, by: \.name)
        for name in byName.keys.sorted() {
            text += "# HELP \(name) \(help[name] ?? name)\n"
            text += "# TYPE \(name) gauge\n"
            for sample in byName[name]!.sorted(by: { $0.series < $1.series }) {
                text += sample.line + "\n"
            }
        }
        return text
    }

    /// The samples of an existing file; empty when there is none or it
    /// cannot be read. Lines that are not samples are skipped.
    public static func read(path: String) -> [MetricSample] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// The samples of a text exposition (a metrics file, a push).
    public static func parse(_ text: String) -> [MetricSample] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                  let value = Double(line[line.index(after: space)...]) else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                return MetricSample(String(series), value)
            }
            guard series.hasSuffix("}") else { return nil }
            let labels = parseLabels(series[series.index(after: brace)..<series.index(before: series.endIndex)])
            return labels.map { MetricSample(String(series[..<brace]), labels: $0, value) }
        }
    }

    private static func parseLabels(_ text: Substring) -> [(String, String)]? {
        var labels: [(String, String)] = []
        var rest = text
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            var closed = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    value.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    value.append(character)
                }
            }
            guard closed else { return nil }
            labels.append((name, value))
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return labels
    }
}
