import CellarSupport
import Foundation
import Testing

/// Exports encrypted with age (docs/encryption.md): stock tools restore
/// them, and so does pgcellar restore with --identity.
@Suite("encrypted exports", .serialized)
struct EncryptedExportTests {
    @Test("export --recipient, then age -d | zstd -dc | psql restores it; restore --identity -j 2 too; a wrong key fails cleanly")
    func encryptedRoundTrip() throws {
        let source = try RestoreSources.source("chinook")
        let directory = NSTemporaryDirectory() + "pgcellar-age-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = try AgeIdentity.generate(), other = try AgeIdentity.generate()
        try identity.identityFileText().write(toFile: directory + "/key.txt", atomically: true, encoding: .utf8)
        try other.identityFileText().write(toFile: directory + "/other.txt", atomically: true, encoding: .utf8)
        let archive = directory + "/export.sql.zst.age"

        let export = try Pgcellar.run(["export", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: source.database),
                                       "-o", archive, "--recipient", identity.recipient.description, "-q"])
        try #require(export.status == 0, "export failed: \(export.stderr)")
        let head = try FileDescriptorInput(path: archive).read(at: 0, count: 22)
        #expect(head == Array("age-encryption.org/v1\n".utf8))
        let expected = try DatabaseFingerprint.of(source.database)

        // Stock tools only.
        let stock = TestServer.uniqueName("age_stock")
        defer { dropDatabase(stock) }
        _ = try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(stock)) TEMPLATE template0") }
        try ExportTestSupport.shell("age -d -i '\(directory)/key.txt' '\(archive)' | zstd -dc | \(ExportTestSupport.pgBinary("psql")) -X -q -v ON_ERROR_STOP=1 -d \(try ExportTestSupport.shellConninfo(stock)) >/dev/null")
        #expect(try DatabaseFingerprint.of(stock) == expected)

        // pgcellar restore from the encrypted file, two connections.
        let restored = TestServer.uniqueName("age_restored")
        defer { dropDatabase(restored) }
        let restore = try Pgcellar.run(["restore", archive, "--identity", directory + "/key.txt", "-j", "2", "--create",
                                        "--dbname", TestServer.conninfo(user: RestoreSources.user, database: restored)])
        try #require(restore.status == 0, "restore failed: \(restore.stderr)")
        #expect(try DatabaseFingerprint.of(restored) == expected)

        // verify and list through the environment variable; from stdin too.
        let verify = try Pgcellar.run(["verify", archive], environment: ["PGCELLAR_AGE_IDENTITY_FILE": directory + "/key.txt"])
        #expect(verify.status == 0 && verify.stdout.contains(": OK:"), "\(verify.stderr)")
        let list = try Pgcellar.run(["list", "-", "--identity", directory + "/key.txt"], stdin: try Data(contentsOf: URL(fileURLWithPath: archive)))
        #expect(list.status == 0 && list.stdout.contains("TABLE public album"), "\(list.stderr)")

        // A wrong or missing identity: a clear error, nothing created.
        let refused = TestServer.uniqueName("age_refused")
        defer { dropDatabase(refused) }
        for extra in [["--identity", directory + "/other.txt"], []] {
            let result = try Pgcellar.run(["restore", archive, "--create", "--dbname", TestServer.conninfo(user: RestoreSources.user, database: refused)] + extra)
            #expect(result.status == 1)
            #expect(result.stderr.contains("--identity FILE"), "\(result.stderr)")
            #expect(try !databaseExists(refused))
        }
    }
}

@Suite("encryption options")
struct EncryptionOptionTests {
    @Test("a bad --recipient is a usage error naming what is wrong, before anything connects")
    func badRecipient() throws {
        let result = try Pgcellar.run(["export", "--dbname", "nowhere", "-o", NSTemporaryDirectory() + "never.age",
                                       "--recipient", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("starts with age1"), "\(result.stderr)")
    }

    @Test("an identity file that holds no key fails naming the file and line, without echoing it")
    func badIdentityFile() throws {
        let directory = NSTemporaryDirectory() + "pgcellar-age-id-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = try AgeIdentity.generate()
        let plain = MemoryByteSink()
        let sink = try AgeEncryptingSink(wrapping: plain, recipients: [identity.recipient])
        try sink.write(Array("not an archive".utf8))
        try sink.finish()
        try Data(plain.bytes).write(to: URL(fileURLWithPath: directory + "/x.age"))
        try "# a comment\nAGE-SECRET-KEY-1NOTAKEY\n".write(toFile: directory + "/bad.txt", atomically: true, encoding: .utf8)
        let result = try Pgcellar.run(["list", directory + "/x.age", "--identity", directory + "/bad.txt"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.txt line 2"), "\(result.stderr)")
        #expect(!result.stderr.contains("NOTAKEY"), "\(result.stderr)")
    }
}
