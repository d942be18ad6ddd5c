import Cellar
import Foundation
import Testing

@Suite("rotate --metrics-file", .serialized)
struct RotationMetricsTests {
    @Test("a rotation writes each role's last success; a fresh run keeps them; a failed run adds last failure")
    func rotationMetrics() throws {
        let fixture = try RotationFixture(prefix: "rot_metrics")
        defer { fixture.cleanUp() }
        let metrics = fixture.directory + "/rotation.prom"

        let rotated = try Pgcellar.run(["rotate", "-c", fixture.configPath, "--metrics-file", metrics])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let first = MetricsFile.read(path: metrics)
        for role in [fixture.owner, fixture.app] {
            let sample = try #require(first.first {
                $0.name == "pgcellar_rotation_last_success_timestamp_seconds" && $0.labels.map(\.1) == [fixture.database, role]
            }, "no success gauge for \(role) in \(first)")
            #expect(abs(sample.value - Date().timeIntervalSince1970) < 120)
        }

        // Fresh Secrets: nothing rotates, the gauges stay as they were.
        let fresh = try Pgcellar.run(["rotate", "-c", fixture.configPath, "--if-older-than", "30d", "--metrics-file", metrics])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(MetricsFile.read(path: metrics).sorted { $0.series < $1.series } == first.sorted { $0.series < $1.series })

        // No server: every role's rotation fails; the successes are carried forward.
        let broken = fixture.directory + "/broken.yaml"
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "port: \(TestServer.port)", with: "port: 1")
        try text.write(toFile: broken, atomically: true, encoding: .utf8)
        let failed = try Pgcellar.run(["rotate", "-c", broken, "--metrics-file", metrics])
        #expect(failed.status != 0)
        let after = MetricsFile.read(path: metrics)
        for sample in first { #expect(after.contains(sample), "\(sample.series) carried forward") }
        #expect(after.filter { $0.name == "pgcellar_rotation_last_failure_timestamp_seconds" }.count == 2, "\(after)")
    }
}

extension MetricSample {
    var series: String { name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") }
}
