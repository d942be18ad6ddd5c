#if canImport(Glibc)
import Glibc
#endif
import Cellar
import Foundation
import ObjectStore
import Testing

/// Backups into an S3 bucket: moto on loopback, authentication on
/// (scripts/dev-s3.sh), so every request's signature is checked.
@Suite("Backups into S3 (moto)", .serialized)
struct BackupS3Tests {
    @Test("two multipart backups, list, a prune with its plan, restore of repo:latest -j 2 by ranged GETs, a drill recorded in the bucket")
    func backupCycle() throws {
        let fixture = try BackupFixture(prefix: "bk_s3", rows: 5_000)
        defer { fixture.cleanUp() }
        try fixture.addIncompressibleRows(mebibytes: 12)
        let prefix = BackupS3.uniquePrefix("cycle")
        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix))
        let store = try BackupS3.store(prefix: prefix)

        let first = try fixture.pgcellar(["backup", "-c", fixture.configPath, "-j", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        try TestServer.withConnection(database: fixture.database) { try $0.execute("DELETE FROM notes WHERE id % 2 = 0") }
        // The second with credentials from AWS_* instead of the file.
        let credentials = try BackupS3.credentials()
        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix, credentialsFile: .some(nil)))
        let second = try fixture.pgcellar(["backup", "-c", fixture.configPath, "--no-prune"], environment: [
            "AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        ])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains(credentials.secretAccessKey))
        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix))

        let listed = try fixture.listed()
        try #require(listed.count == 2, "\(listed)")
        #expect(listed.map { $0["rows"] as? Int } == [5_000 + 1_250 + 12, 5_000 + 2_500 + 12])
        let newest = try #require(listed[0]["id"] as? String), oldest = try #require(listed[1]["id"] as? String)
        #expect((listed[0]["sizeBytes"] as? Int ?? 0) > 2 * S3Configuration.minimumAllowedPartSize, "the archive spans several parts")
        let keys = try store.list(prefix: "").map(\.key)
        #expect(keys == [
            "\(fixture.database)/\(oldest)/archive", "\(fixture.database)/\(oldest)/manifest.json",
            "\(fixture.database)/\(newest)/archive", "\(fixture.database)/\(newest)/manifest.json",
        ].sorted())
        // By its key: ids are to the second, and two backups a second apart
        // or less sort by their random suffix.
        #expect(try store.list(prefix: "").first { $0.key == "\(fixture.database)/\(oldest)/archive" }?.size
                    == Int64(listed[1]["sizeBytes"] as? Int ?? -1))

        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix), repositoryLines: ["keep: {last: 1}"])
        let dryRun = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath, "--dry-run"])
        #expect(dryRun.stdout.contains("keep   \(newest)") && dryRun.stdout.contains("would delete \(oldest)"), "\(dryRun.stdout)\(dryRun.stderr)")
        let prune = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath])
        #expect(prune.status == 0 && prune.stdout.contains("delete \(oldest)"), "\(prune.stdout)\(prune.stderr)")
        #expect(try store.list(prefix: "").allSatisfy { !$0.key.contains(oldest) }, "nothing of the pruned backup is left in the bucket")

        let restored = fixture.database + "_restored"
        defer { dropDatabase(restored) }
        let restore = try fixture.pgcellar(["restore", "-c", fixture.configPath, "repo:latest", "--create", "-j", "2",
                                            "--dbname", "\(try TestServer.dsn()) dbname=\(restored)"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try ExportTestSupport.dataChecksums(restored) == ExportTestSupport.dataChecksums(fixture.database))
        let verify = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:\(newest)", "--deep"])
        #expect(verify.status == 0 && verify.stdout.contains("the row digests and row counts of all"), "\(verify.stdout)\(verify.stderr)")
        let drill = try fixture.pgcellar(["drill", "-c", fixture.configPath, "repo:\(fixture.database)@latest", "--server", try TestServer.dsn()])
        #expect(drill.status == 0, "\(drill.stdout)\(drill.stderr)")
        #expect(try store.get(key: "\(fixture.database)/\(newest)/drill.json") != nil)
        #expect((try fixture.listed().first?["lastDrill"] as? [String: Any])?["passed"] as? Bool == true)
    }

    @Test("a wrong secret key, a missing bucket, no credentials: each fails naming what to fix; the secret never shows")
    func refusedRequests() throws {
        let fixture = try BackupFixture(prefix: "bk_s3bad", rows: 10)
        defer { fixture.cleanUp() }
        let prefix = BackupS3.uniquePrefix("refused")
        let credentials = try BackupS3.credentials()
        let wrongSecret = String(credentials.secretAccessKey.reversed())
        let wrongFile = fixture.directory + "/wrong-credentials"
        try "[default]\naws_access_key_id = \(credentials.accessKeyID)\naws_secret_access_key = \(wrongSecret)\n"
            .write(toFile: wrongFile, atomically: true, encoding: .utf8)

        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix, credentialsFile: .some(wrongFile)))
        let wrong = try fixture.pgcellar(["backup", "-c", fixture.configPath])
        #expect(wrong.status == 1 && wrong.stderr.contains("SignatureDoesNotMatch"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains(wrongSecret) && !wrong.stderr.contains(credentials.secretAccessKey))
        let listWrong = try fixture.pgcellar(["backups", "list", "-c", fixture.configPath])
        #expect(listWrong.status == 1 && listWrong.stderr.contains("SignatureDoesNotMatch"), "\(listWrong.stderr)")

        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix, bucket: "no-such-bucket-\(UInt32.random(in: 0...UInt32.max))"))
        let missing = try fixture.pgcellar(["backup", "-c", fixture.configPath])
        #expect(missing.status == 1 && missing.stderr.contains("NoSuchBucket"), "\(missing.stderr)")

        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix, credentialsFile: .some(nil)))
        let none = try fixture.pgcellar(["backups", "list", "-c", fixture.configPath], environment: [
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "", "HOME": fixture.directory,
        ])
        #expect(none.status == 1 && none.stderr.contains("no S3 credentials"), "\(none.stderr)")

        #expect(try BackupS3.store(prefix: prefix).list(prefix: "").isEmpty, "nothing was written")
    }

    @Test("SIGKILL at random points in 10 backups to S3 never lists a partial backup; the sweep aborts the uploads they left")
    func killedBackups() throws {
        let fixture = try BackupFixture(prefix: "bk_s3kill", rows: 1_000)
        defer { fixture.cleanUp() }
        try fixture.addIncompressibleRows(mebibytes: 12)
        let prefix = BackupS3.uniquePrefix("kill")
        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix))
        let store = try BackupS3.store(prefix: prefix)
        let started = Date()
        #expect(try fixture.pgcellar(["backup", "-c", fixture.configPath, "-q"]).status == 0)
        let duration = Date().timeIntervalSince(started)
        var verified = Set(try fixture.listed().compactMap { $0["id"] as? String })
        var killedAt: [Int] = []
        for _ in 0..<10 {
            killedAt.append(try fixture.killBackup(within: duration).delayMilliseconds)
            // Whatever is listed is complete: a new one verifies.
            for id in try fixture.listed().compactMap({ $0["id"] as? String }) where !verified.contains(id) {
                let verify = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:\(id)"])
                #expect(verify.status == 0, "killed at \(killedAt.last!) ms: repo:\(id) is listed but does not verify: \(verify.stderr)")
                verified.insert(id)
            }
        }
        let listedIDs = Set(try fixture.listed().compactMap { $0["id"] as? String })
        let orphans = try store.list(prefix: "").filter { object in !listedIDs.contains { object.key.contains("/\($0)/") } }
        // moto reports every multipart upload as initiated on 2010-11-10, so
        // the prune's sweep (default sweepAfter 24 h) takes the uploads the
        // kills left as a day old, as a real store would the next day.
        // Archives completed without a manifest are minutes old: they stay.
        try fixture.writeConfig(location: try BackupS3.location(prefix: prefix), repositoryLines: ["keep: {last: 100}"])
        let prune = try fixture.pgcellar(["backups", "prune", "-c", fixture.configPath])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(try store.sweepIncompleteUploads(prefix: "", olderThan: .zero) == 0, "no incomplete upload is left")
        #expect(try store.list(prefix: "").filter { object in !listedIDs.contains { object.key.contains("/\($0)/") } } == orphans,
                "objects younger than sweepAfter stay")
        // Once they are older than sweepAfter, they go too.
        Thread.sleep(forTimeInterval: 1.5)
        let repository = BackupRepository(store: store, sweepAfter: 1)
        let swept = try repository.sweep()
        #expect(swept.orphanedObjects == orphans.count)
        #expect(try repository.sweep() == BackupRepository.SweepResult(incompleteUploads: 0, orphanedObjects: 0), "a second sweep finds nothing")
        let remaining = try store.list(prefix: "").map(\.key)
        #expect(remaining.count == 2 * listedIDs.count, "only archives and manifests of listed backups remain: \(remaining)")
        #expect(Set(try fixture.listed().compactMap { $0["id"] as? String }) == listedIDs)
        print("S3: killed backups at \(killedAt) ms of a \(Int(duration * 1000)) ms backup; prune: \(prune.stderr.split(separator: "\n").filter { $0.contains("removed") }); then \(swept.orphanedObjects) orphaned objects swept")
    }
}
