#if canImport(Glibc)
import Glibc
#endif
import Cellar
import Foundation
import Testing

@Suite("Backups into a directory repository", .serialized)
struct BackupTests {
    @Test("two backups, list, a prune with its plan, and a restore of repo:latest that matches the source")
    func backupListPruneRestore() throws {
        let fixture = try BackupFixture(prefix: "bk_cycle")
        defer { fixture.cleanUp() }
        let restored = fixture.database + "_restored"
        defer { dropDatabase(restored) }

        let first = try fixture.pgcellar(["backup", "-c", fixture.configPath])
        #expect(first.status == 0, "\(first.stderr)")
        try TestServer.withConnection(database: fixture.database) { try $0.execute("INSERT INTO items SELECT g, 'late ' || g, 1 FROM generate_series(100001, 100500) g") }
        let second = try fixture.pgcellar(["backup", "-c", fixture.configPath, "-j", "2"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("pgcellar: backed up \(fixture.database) as "), "\(second.stderr)")

        let listed = try fixture.listed()
        try #require(listed.count == 2, "\(listed)")
        #expect(listed.map { $0["rows"] as? Int } == [3_500, 3_000], "newest first, with the rows of each")
        #expect(listed.allSatisfy { $0["database"] as? String == fixture.database && $0["encrypted"] as? Bool == false })
        #expect(listed.allSatisfy { ($0["sizeBytes"] as? Int ?? 0) > 0 && $0["lastDrill"] is NSNull })
        let newest = try #require(listed[0]["id"] as? String), oldest = try #require(listed[1]["id"] as? String)
        #expect(try fixture.repositoryFiles() == [
            "\(fixture.database)/\(oldest)/archive", "\(fixture.database)/\(oldest)/manifest.json",
            "\(fixture.database)/\(newest)/archive", "\(fixture.database)/\(newest)/manifest.json",
        ].sorted())

        let text = try fixture.pgcellar(["backups", "list", "-c", fixture.configPath])
        #expect(text.stdout.split(separator: "\n").count == 3, "a header and one line per backup:\n\(text.stdout)")
        #expect(text.stdout.contains(newest) && text.stdout.contains("3500") && text.stdout.contains("never"))

        // Prune without keep is refused; with keep {last: 1} the plan says why.
        let noKeep = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath])
        #expect(noKeep.status != 0 && noKeep.stderr.contains("has no repository.keep"), "\(noKeep.stderr)")
        try fixture.writeConfig(repositoryLines: ["keep: {last: 1}"])
        let dryRun = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("keep   \(newest)") && dryRun.stdout.contains("(newest, last 1)"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("would delete \(oldest)"), "\(dryRun.stdout)")
        #expect(try fixture.listed().count == 2, "a dry run deletes nothing")
        let prune = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath])
        #expect(prune.status == 0 && prune.stdout.contains("delete \(oldest)"), "\(prune.stdout)\(prune.stderr)")
        #expect(try fixture.listed().map { $0["id"] as? String } == [newest])
        #expect(!fixture.repositoryFiles().contains { $0.contains(oldest) }, "nothing of the pruned backup is left")

        // repo: references where a file is accepted.
        let verify = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:latest", "--deep"])
        #expect(verify.status == 0 && verify.stdout.contains("OK: export of \(fixture.database)"), "\(verify.stdout)\(verify.stderr)")
        let toc = try fixture.pgcellar(["list", "-c", fixture.configPath, "repo:\(newest)"])
        #expect(toc.status == 0 && toc.stdout.contains("TABLE DATA public items"), "\(toc.stdout)\(toc.stderr)")
        let restore = try fixture.pgcellar(["restore", "-c", fixture.configPath, "repo:\(fixture.database)@latest", "--create", "-j", "2",
                                            "--dbname", "\(try TestServer.dsn()) dbname=\(restored)"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try ExportTestSupport.dataChecksums(restored) == ExportTestSupport.dataChecksums(fixture.database))

        let missing = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:20000101T000000Z-000000"])
        #expect(missing.status != 0 && missing.stderr.contains("has no backup with id 20000101T000000Z-000000"), "\(missing.stderr)")
        let noConfig = try fixture.pgcellar(["verify", "repo:latest"])
        #expect(noConfig.status == 64 && noConfig.stderr.contains("add -c FILE"), "\(noConfig.stderr)")
    }

    @Test("a drill result recorded beside the manifest shows in backups list")
    func drillRecord() throws {
        let fixture = try BackupFixture(prefix: "bk_drill", rows: 10)
        defer { fixture.cleanUp() }
        #expect(try fixture.pgcellar(["backup", "-c", fixture.configPath, "-q"]).status == 0)
        let config = try PgcellarConfig.load(path: fixture.configPath)
        try RepositorySource.recordDrill(DrillRecord(drilledAt: Date(), passed: false, mismatches: ["public.items: 9 rows, expected 10"]),
                                         reference: "repo:latest", config: config)
        let drill = try #require(fixture.listed().first?["lastDrill"] as? [String: Any])
        #expect(drill["passed"] as? Bool == false)
        #expect(drill["mismatches"] as? [String] == ["public.items: 9 rows, expected 10"])
        #expect(try fixture.pgcellar(["backups", "list", "-c", fixture.configPath]).stdout.contains("FAILED"))
    }

    @Test("metrics: success writes every gauge; a failure adds last_failure and carries last_success forward")
    func metrics() throws {
        let fixture = try BackupFixture(prefix: "bk_metrics", rows: 100)
        defer { fixture.cleanUp() }
        let metrics = fixture.directory + "/pgcellar.prom"
        let ok = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--metrics-file", metrics])
        #expect(ok.status == 0, "\(ok.stderr)")
        let label = [("database", fixture.database)]
        let afterSuccess = MetricsFile.read(path: metrics)
        let success = try #require(afterSuccess.first { $0.name == "pgcellar_backup_last_success_timestamp_seconds" })
        #expect(success.labels.map(\.1) == [fixture.database])
        #expect(abs(success.value - Date().timeIntervalSince1970) < 120)
        #expect(afterSuccess.contains(MetricSample("pgcellar_backup_rows", labels: label, 150)))
        let bytes = try #require(afterSuccess.first { $0.name == "pgcellar_backup_bytes" })
        #expect(bytes.value == Double(try fixture.listed().first?["sizeBytes"] as? Int ?? -1))
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("# TYPE pgcellar_backup_last_success_timestamp_seconds gauge"))

        // The same database through a port where nothing listens: the backup fails.
        try fixture.writeConfig(port: "1")
        let failed = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--metrics-file", metrics])
        #expect(failed.status == 1 && failed.stderr.contains("backup of \(fixture.database) failed"), "\(failed.stderr)")
        let afterFailure = MetricsFile.read(path: metrics)
        #expect(afterFailure.contains(success), "last_success is carried forward")
        #expect(afterFailure.contains(bytes))
        let failure = try #require(afterFailure.first { $0.name == "pgcellar_backup_last_failure_timestamp_seconds" })
        #expect(failure.value >= success.value)
        #expect(try fixture.listed().count == 1)
    }

    @Test("SIGKILL at random points in 10 backups never lists a partial backup; the next prune cleans up")
    func killedBackups() throws {
        let fixture = try BackupFixture(prefix: "bk_kill", rows: 60_000)
        defer { fixture.cleanUp() }
        // One complete run to learn how long a backup takes.
        let started = Date()
        #expect(try fixture.pgcellar(["backup", "-c", fixture.configPath, "-q"]).status == 0)
        let duration = Date().timeIntervalSince(started)
        var completed = 1
        var killedAt: [Int] = []
        for _ in 0..<10 {
            let (delay, process) = try fixture.killBackup(within: duration)
            killedAt.append(delay)
            if process.terminationReason == .exit && process.terminationStatus == 0 { completed += 1 }

            // Whatever is listed is complete: its archive verifies.
            let listed = try fixture.listed()
            #expect(listed.count >= completed && listed.count <= completed + 1, "killed at \(killedAt.last!) ms: \(listed.count) listed, \(completed) completed")
            completed = listed.count
            for backup in listed {
                let id = try #require(backup["id"] as? String)
                let verify = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:\(id)"])
                #expect(verify.status == 0, "killed at \(killedAt.last!) ms: repo:\(id) is listed but does not verify: \(verify.stderr)")
            }
        }
        let listedIDs = Set(try fixture.listed().compactMap { $0["id"] as? String })
        let leftovers = fixture.repositoryFiles().filter { file in !listedIDs.contains { file.contains("/\($0)/") } }
        // What the kills left, a day later, goes with the next prune.
        try fixture.ageRepository()
        try fixture.writeConfig(repositoryLines: ["keep: {last: 100}"])
        let prune = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath])
        #expect(prune.status == 0, "\(prune.stderr)")
        if !leftovers.isEmpty {
            #expect(prune.stderr.contains("removed what killed backups left"), "\(leftovers)\n\(prune.stderr)")
        }
        let remaining = fixture.repositoryFiles()
        #expect(remaining.count == 2 * listedIDs.count, "only archives and manifests of listed backups remain: \(remaining); kills at \(killedAt) ms")
        #expect(Set(try fixture.listed().compactMap { $0["id"] as? String }) == listedIDs)
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: fixture.repository + "/" + fixture.database)) ?? []
        #expect(Set(directories) == listedIDs, "no empty directories are left")
        print("killed backups at \(killedAt) ms of a \(Int(duration * 1000)) ms backup; \(leftovers.count) leftovers swept")
    }
}
