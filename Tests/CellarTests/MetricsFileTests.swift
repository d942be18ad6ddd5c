import Cellar
import Foundation
import Testing

@Suite("Metrics file: Prometheus text exposition for the textfile collector")
struct MetricsFileTests {
    private func scratch() -> String {
        let directory = NSTemporaryDirectory() + "pgc-metrics-\(UInt32.random(in: 0...UInt32.max))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("renders HELP, TYPE and samples, grouped and sorted, labels escaped")
    func render() {
        let text = MetricsFile.render([
            MetricSample("pgcellar_backup_bytes", labels: [("database", "shop")], 1234),
            MetricSample("pgcellar_backup_duration_seconds", labels: [("database", "a\"b\\c\nd")], 1.5),
        ])
        #expect(text == """
            # HELP pgcellar_backup_bytes Bytes stored by the last successful backup.
            # TYPE pgcellar_backup_bytes gauge
            pgcellar_backup_bytes{database="shop"} 1234
            # HELP pgcellar_backup_duration_seconds How long the last backup ran.
            # TYPE pgcellar_backup_duration_seconds gauge
            pgcellar_backup_duration_seconds{database="a\\"b\\\\c\\nd"} 1.5

            """)
    }

    @Test("a failing run carries the previous last_success forward and keeps other series")
    func carryForward() throws {
        let path = scratch() + "/pgcellar.prom"
        try MetricsFile.update(path: path, with: [
            MetricSample("pgcellar_backup_last_success_timestamp_seconds", labels: [("database", "shop")], 1_760_000_000),
            MetricSample("pgcellar_backup_bytes", labels: [("database", "shop")], 42),
            MetricSample("pgcellar_backup_last_success_timestamp_seconds", labels: [("database", "other")], 1_700_000_000),
        ])
        try MetricsFile.update(path: path, with: [
            MetricSample("pgcellar_backup_last_failure_timestamp_seconds", labels: [("database", "shop")], 1_760_086_400),
        ])
        let samples = MetricsFile.read(path: path)
        #expect(samples.count == 4)
        #expect(samples.contains(MetricSample("pgcellar_backup_last_success_timestamp_seconds", labels: [("database", "shop")], 1_760_000_000)))
        #expect(samples.contains(MetricSample("pgcellar_backup_last_failure_timestamp_seconds", labels: [("database", "shop")], 1_760_086_400)))
        #expect(samples.contains(MetricSample("pgcellar_backup_bytes", labels: [("database", "shop")], 42)))

        // A success replaces only its own series.
        try MetricsFile.update(path: path, with: [
            MetricSample("pgcellar_backup_last_success_timestamp_seconds", labels: [("database", "shop")], 1_760_090_000),
        ])
        let after = MetricsFile.read(path: path)
        #expect(after.filter { $0.name == "pgcellar_backup_last_success_timestamp_seconds" }.map(\.value).sorted() == [1_700_000_000, 1_760_090_000])
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o644, "node_exporter must be able to read it")
    }

    @Test("labels with quotes and backslashes survive a write and a read")
    func escapingRoundTrip() throws {
        let path = scratch() + "/m.prom"
        let sample = MetricSample("pgcellar_backup_rows", labels: [("database", "we\"ird\\na,me=x")], 7)
        try MetricsFile.update(path: path, with: [sample])
        #expect(MetricsFile.read(path: path) == [sample])
    }

    @Test("a missing or unreadable previous file is replaced")
    func garbage() throws {
        let path = scratch() + "/m.prom"
        try "not metrics at all\n{{{\n".write(toFile: path, atomically: true, encoding: .utf8)
        try MetricsFile.update(path: path, with: [MetricSample("pgcellar_backup_rows", labels: [("database", "x")], 1)])
        #expect(MetricsFile.read(path: path).count == 1)
    }
}
