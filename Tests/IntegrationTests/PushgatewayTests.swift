import Cellar
import Foundation
import Testing

/// `--pushgateway URL` on backup, prune and rotate, against a loopback
/// listener that plays the gateway.
@Suite("--pushgateway", .serialized)
struct PushgatewayTests {
    @Test("backup and prune POST their gauges to /metrics/job/pgcellar/database@base64/…; a gateway that fails is a warning, the backup stands")
    func backupAndPrune() throws {
        let fixture = try BackupFixture(prefix: "bk_push", rows: 100)
        defer { fixture.cleanUp() }
        let gateway = try LoopbackHTTPListener()
        defer { gateway.stop() }
        let group = "/metrics/job/pgcellar/database@base64/" + Data(fixture.database.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")

        let backup = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--pushgateway", gateway.url + "/"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let pushed = try #require(gateway.requests.first)
        #expect(gateway.requests.count == 1)
        #expect(pushed.method == "POST" && pushed.path == group, "\(pushed.method) \(pushed.path)")
        #expect(pushed.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = Dictionary(uniqueKeysWithValues: MetricsFile.parse(pushed.body).map { ($0.name, $0) })
        let success = try #require(samples["pgcellar_backup_last_success_timestamp_seconds"], "\(pushed.body)")
        #expect(success.labels.map(\.0) == ["database"] && success.labels.map(\.1) == [fixture.database])
        #expect(abs(success.value - Date().timeIntervalSince1970) < 120)
        #expect(samples["pgcellar_backup_rows"]?.value == 150)
        #expect(samples["pgcellar_backup_bytes"]?.value == Double(try fixture.listed().first?["sizeBytes"] as? Int ?? -1))
        #expect(pushed.body.contains("# TYPE pgcellar_backup_bytes gauge"))

        try fixture.writeConfig(repositoryLines: ["keep: {last: 1}"])
        let prune = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath, "--pushgateway", gateway.url])
        #expect(prune.status == 0, "\(prune.stderr)")
        let prunePush = try #require(gateway.requests.last)
        #expect(gateway.requests.count == 2 && prunePush.path == group)
        #expect(MetricsFile.parse(prunePush.body).contains { $0.name == "pgcellar_backups_kept" && $0.value == 1 }, "\(prunePush.body)")

        // The gateway answers 500: a warning, exit 0, the backup listed.
        gateway.answer(with: 500)
        let refused = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--no-prune", "--pushgateway", gateway.url])
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(refused.stderr.contains("warning: cannot push the metrics to the Pushgateway") && refused.stderr.contains("HTTP 500"), "\(refused.stderr)")
        #expect(try fixture.listed().count == 2)

        // Nobody listens: the same.
        gateway.stop()
        let unreachable = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--no-prune", "--pushgateway", gateway.url])
        #expect(unreachable.status == 0 && unreachable.stderr.contains("warning: cannot push the metrics"), "\(unreachable.stderr)")
        #expect(try fixture.listed().count == 3)

        // A failed backup pushes its failure (and no success).
        gateway.answer(with: 200)
        let second = try LoopbackHTTPListener()
        defer { second.stop() }
        try fixture.writeConfig(port: "1")
        let failed = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--pushgateway", second.url])
        #expect(failed.status == 1)
        let failure = MetricsFile.parse(try #require(second.requests.first).body).map(\.name)
        #expect(failure.contains("pgcellar_backup_last_failure_timestamp_seconds") && !failure.contains("pgcellar_backup_last_success_timestamp_seconds"), "\(failure)")
    }

    @Test("rotate pushes each role's last success")
    func rotate() throws {
        let fixture = try RotationFixture(prefix: "rot_push")
        defer { fixture.cleanUp() }
        let gateway = try LoopbackHTTPListener()
        defer { gateway.stop() }
        let rotated = try Pgcellar.run(["rotate", "-c", fixture.configPath, "--pushgateway", gateway.url])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let pushed = try #require(gateway.requests.first)
        #expect(pushed.method == "POST" && pushed.path.hasPrefix("/metrics/job/pgcellar/database@base64/"))
        let roles = MetricsFile.parse(pushed.body).filter { $0.name == "pgcellar_rotation_last_success_timestamp_seconds" }.map { $0.labels.map(\.1) }
        #expect(Set(roles) == [[fixture.database, fixture.owner], [fixture.database, fixture.app]], "\(pushed.body)")
    }

    @Test("a pushgateway URL with a password or not http(s) is a usage error")
    func badURL() throws {
        for url in ["http://user:secret@127.0.0.1:9091", "ftp://127.0.0.1", "127.0.0.1:9091", "http://127.0.0.1:9091/?x=1"] {
            let run = try Pgcellar.run(["backup", "-c", "/nonexistent.yaml", "--pushgateway", url])
            #expect(run.status == 64 && run.stderr.contains("--pushgateway"), "\(url): \(run.stderr)")
            #expect(!run.stderr.contains("secret") || !url.contains("secret"), "the password is not echoed: \(run.stderr)")
        }
    }
}
