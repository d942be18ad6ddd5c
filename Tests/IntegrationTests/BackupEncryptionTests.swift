import Cellar
import CellarSupport
import Foundation
import Testing

/// `repository.encryption`: backups encrypted with age to the configured
/// recipients (docs/backups.md, "Encryption").
@Suite("Encrypted backups", .serialized)
struct BackupEncryptionTests {
    @Test("an encrypted backup: plaintext manifest without contents, repo: reads with --identity, age -d | zstd -dc | psql restores it")
    func encryptedBackup() throws {
        let fixture = try BackupFixture(prefix: "bk_age", rows: 3_000)
        defer { fixture.cleanUp() }
        let identity = try AgeIdentity.generate(), other = try AgeIdentity.generate()
        let key = fixture.directory + "/key.txt", otherKey = fixture.directory + "/other.txt"
        try AtomicFile.write(identity.identityFileText(), to: key, mode: 0o600)
        try AtomicFile.write(other.identityFileText(), to: otherKey, mode: 0o600)
        try fixture.writeConfig(repositoryLines: ["encryption: {recipients: [\(identity.recipient)], required: true}"])

        let backup = try fixture.pgcellar(["backup", "-c", fixture.configPath])
        try #require(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stderr.contains("(encrypted)"), "\(backup.stderr)")
        let listed = try #require(try fixture.listed().first)
        let id = try #require(listed["id"] as? String)
        #expect(listed["encrypted"] as? Bool == true)
        #expect(listed["recipientFingerprints"] as? [String] == [identity.recipient.fingerprint])
        #expect(listed["rows"] is NSNull && listed["tables"] is NSNull)

        // The stored object is an age file; the manifest names no table and no count.
        let archive = fixture.repository + "/\(fixture.database)/\(id)/archive"
        #expect(try FileDescriptorInput(path: archive).read(at: 0, count: 22) == Array("age-encryption.org/v1\n".utf8))
        let manifest = try String(contentsOfFile: fixture.repository + "/\(fixture.database)/\(id)/manifest.json", encoding: .utf8)
        for secret in ["items", "notes", "\"rows\"", "\"tables\"", "3000", "contents"] {
            #expect(!manifest.contains(secret), "the plaintext manifest shows \(secret):\n\(manifest)")
        }
        #expect(manifest.contains(identity.recipient.fingerprint))
        #expect(!manifest.contains(identity.recipient.description), "fingerprints, not the keys")

        // Stock tools restore the stored object.
        let stock = fixture.database + "_stock"
        defer { dropDatabase(stock) }
        try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(stock)) TEMPLATE template0") }
        _ = try ExportTestSupport.shell("age -d -i '\(key)' '\(archive)' | zstd -dc | \(ExportTestSupport.pgBinary("psql")) -X -q -v ON_ERROR_STOP=1 -d \(try ExportTestSupport.shellConninfo(stock)) >/dev/null")
        let expected = try ExportTestSupport.dataChecksums(fixture.database)
        #expect(try ExportTestSupport.dataChecksums(stock) == expected)

        // No identity, or the wrong one: fails naming the fingerprint needed; nothing created.
        let restored = fixture.database + "_restored"
        defer { dropDatabase(restored) }
        let dbname = "\(try TestServer.dsn()) dbname=\(restored)"
        for extra in [[], ["--identity", otherKey]] {
            let refused = try fixture.pgcellar(["restore", "-c", fixture.configPath, "repo:latest", "--create", "--dbname", dbname] + extra)
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains(identity.recipient.fingerprint) && refused.stderr.contains("--identity FILE"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("AGE-SECRET-KEY"))
            #expect(try !databaseExists(restored))
        }

        // The right identity: restore -j 2, verify --deep, list and drill.
        let restore = try fixture.pgcellar(["restore", "-c", fixture.configPath, "repo:\(id)", "--identity", key, "--create", "-j", "2", "--dbname", dbname])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try ExportTestSupport.dataChecksums(restored) == expected)
        let verify = try fixture.pgcellar(["verify", "-c", fixture.configPath, "repo:latest", "--deep"], environment: ["PGCELLAR_AGE_IDENTITY_FILE": key])
        #expect(verify.status == 0 && verify.stdout.contains("OK: export of \(fixture.database)"), "\(verify.stdout)\(verify.stderr)")
        let toc = try fixture.pgcellar(["list", "-c", fixture.configPath, "repo:latest", "--identity", key])
        #expect(toc.status == 0 && toc.stdout.contains("TABLE DATA public items"), "\(toc.stderr)")
        let drill = try fixture.pgcellar(["drill", "-c", fixture.configPath, "repo:latest", "--identity", key, "--server", try TestServer.dsn()])
        #expect(drill.status == 0, "\(drill.stdout)\(drill.stderr)")
        let drilled = try #require(try fixture.listed().first?["lastDrill"] as? [String: Any])
        #expect(drilled["passed"] as? Bool == true)
    }

    @Test("required: true without recipients is refused before anything is written")
    func requiredWithoutRecipients() throws {
        let fixture = try BackupFixture(prefix: "bk_agereq", rows: 10)
        defer { fixture.cleanUp() }
        try fixture.writeConfig(repositoryLines: ["encryption: {recipients: [], required: true}"])
        let run = try fixture.pgcellar(["backup", "-c", fixture.configPath])
        #expect(run.status != 0 && run.stderr.contains("required: true with no recipients"), "\(run.stderr)")
        #expect(fixture.repositoryFiles().isEmpty)
    }
}
