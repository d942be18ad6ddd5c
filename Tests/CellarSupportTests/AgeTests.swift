import CellarSupport
import Foundation
import Testing

/// Bytes in memory read at any offset, for decrypting without a file.
final class MemoryRandomAccessSource: RandomAccessSource, @unchecked Sendable {
    // @unchecked Sendable: immutable after init.
    let bytes: [UInt8]
    let name: String
    init(_ bytes: [UInt8], name: String = "memory") { self.bytes = bytes; self.name = name }
    func size() throws -> UInt64 { UInt64(bytes.count) }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard offset + UInt64(count) <= bytes.count else { throw AgeError(.damaged, "read past the end") }
        return Array(bytes[Int(offset)..<(Int(offset) + count)])
    }
}

func ageEncrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient], pieces: Int = 70_000) throws -> [UInt8] {
    let memory = MemoryByteSink()
    let sink = try AgeEncryptingSink(wrapping: memory, recipients: recipients)
    var offset = 0
    while offset < plaintext.count {
        let end = min(offset + pieces, plaintext.count)
        try sink.write(plaintext[offset..<end])
        offset = end
    }
    try sink.finish()
    return memory.bytes
}

func streamDecrypt(_ ciphertext: [UInt8], identities: [AgeIdentity], fingerprints: [String] = []) throws -> [UInt8] {
    let stream = try AgeDecryptingStream(source: MemoryByteSource(ciphertext), name: "test input", identities: identities,
                                         recipientFingerprints: fingerprints)
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 10_000)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
        if count == 0 { return out }
        out += buffer[..<count]
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

let ageSizes = [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 200_000]

@Suite("age encryption")
struct AgeTests {
    @Test("what is encrypted decrypts to the same bytes, at any offset and as a stream", arguments: ageSizes)
    func roundTrip(_ size: Int) throws {
        let identity = try AgeIdentity.generate()
        let plaintext = randomBytes(size, seed: UInt64(size))
        let ciphertext = try ageEncrypt(plaintext, to: [identity.recipient])
        #expect(ciphertext.starts(with: Array("age-encryption.org/v1\n".utf8)))
        let source = try AgeDecryptingSource(source: MemoryRandomAccessSource(ciphertext), identities: [identity])
        #expect(try source.size() == UInt64(size))
        #expect(try source.read(at: 0, count: size) == plaintext)
        if size > 70_000 {
            // A range spanning a chunk boundary, read from several threads at once.
            let expected = Array(plaintext[65_000..<140_000])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                #expect((try? source.read(at: 65_000, count: 75_000)) == expected)
            }
        }
        #expect(try streamDecrypt(ciphertext, identities: [identity]) == plaintext)
        // Chunks: 64 KiB + 16 each, the last one shorter (or one empty chunk).
        let header = ciphertext.count - 16 - (size + 16 * max(1, (size + 65_535) / 65_536))
        #expect(header > 0 && header < 300)
    }

    @Test("any of several recipients can decrypt")
    func multipleRecipients() throws {
        let first = try AgeIdentity.generate(), second = try AgeIdentity.generate()
        let plaintext = randomBytes(1000, seed: 7)
        let ciphertext = try ageEncrypt(plaintext, to: [first.recipient, second.recipient])
        #expect(try streamDecrypt(ciphertext, identities: [second]) == plaintext)
        #expect(try streamDecrypt(ciphertext, identities: [first]) == plaintext)
    }

    @Test("a wrong or missing identity fails naming the recipients and the --identity option")
    func wrongIdentity() throws {
        let right = try AgeIdentity.generate(), wrong = try AgeIdentity.generate()
        let ciphertext = try ageEncrypt(randomBytes(100, seed: 1), to: [right.recipient])
        for identities in [[wrong], []] {
            let error = #expect(throws: AgeError.self) {
                try AgeDecryptingSource(source: MemoryRandomAccessSource(ciphertext), identities: identities,
                                        recipientFingerprints: [right.recipient.fingerprint])
            }
            #expect(error?.kind == .noMatchingIdentity)
            let text = error?.description ?? ""
            #expect(text.contains(right.recipient.fingerprint), "\(text)")
            #expect(text.contains("--identity FILE") && text.contains("PGCELLAR_AGE_IDENTITY_FILE"), "\(text)")
            #expect(!text.contains(wrong.secretKeyText))
            #expect(throws: AgeError.self) { try streamDecrypt(ciphertext, identities: identities) }
        }
    }

    @Test("a flipped byte, a truncated file or trailing bytes fail and yield no plaintext",
          arguments: ["header", "payload", "last-byte", "cut-at-chunk", "cut-mid-chunk", "appended"])
    func tampering(_ damage: String) throws {
        let identity = try AgeIdentity.generate()
        var ciphertext = try ageEncrypt(randomBytes(3 * 65_536 + 10, seed: 3), to: [identity.recipient])
        let headerEnd = ciphertext.firstRange(of: Array("\n--- ".utf8))!.upperBound
        switch damage {
        case "header": ciphertext[30] ^= 0x01
        case "payload": ciphertext[headerEnd + 60 + 16 + 70_000] ^= 0x80
        case "last-byte": ciphertext[ciphertext.count - 1] ^= 0x01
        case "cut-at-chunk": ciphertext.removeLast(10 + 16)
        case "cut-mid-chunk": ciphertext.removeLast(5)
        default: ciphertext += [0]
        }
        #expect(throws: AgeError.self) {
            let source = try AgeDecryptingSource(source: MemoryRandomAccessSource(ciphertext), identities: [identity])
            _ = try source.read(at: 0, count: Int(try source.size()))
        }
        #expect(throws: AgeError.self) { try streamDecrypt(ciphertext, identities: [identity]) }
    }

    @Test("recipients and identities parse, print and reject bad input clearly")
    func keys() throws {
        let identity = try AgeIdentity.generate()
        let text = identity.recipient.description
        #expect(text.hasPrefix("age1") && text.count == 62)
        #expect(try AgeRecipient(text) == identity.recipient)
        #expect(try AgeIdentity(identity.secretKeyText).recipient == identity.recipient)
        #expect(identity.recipient.fingerprint.count == 16)
        #expect(!identity.description.contains(identity.secretKeyText))
        var typo = Array(text)
        typo[20] = typo[20] == "q" ? "p" : "q"
        let checksum = #expect(throws: AgeError.self) { try AgeRecipient(String(typo)) }
        #expect(checksum?.message.contains("checksum") == true)
        let ssh = #expect(throws: AgeError.self) { try AgeRecipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI") }
        #expect(ssh?.message.contains("starts with age1") == true)
        #expect(throws: AgeError.self) { try AgeIdentity("AGE-SECRET-KEY-1QQQQ") }
    }

    // MARK: - Interoperability with the age command (Debian package age)

    static let ageTool = "/usr/bin/age"

    @Test("age -d decrypts what pgcellar encrypts", arguments: [0, 65_536, 200_000])
    func ageDecryptsOurs(_ size: Int) throws {
        try requireAge()
        try withTemporaryDirectory { directory in
            let identity = try AgeIdentity.generate()
            try writeFile(directory + "/key.txt", Array(identity.identityFileText().utf8))
            let plaintext = randomBytes(size, seed: 11)
            try writeFile(directory + "/file.age", try ageEncrypt(plaintext, to: [identity.recipient]))
            let result = try runProcess(Self.ageTool, ["-d", "-i", directory + "/key.txt", directory + "/file.age"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == plaintext)
        }
    }

    @Test("pgcellar decrypts what age -r encrypts, to a key from age-keygen", arguments: [0, 65_536, 200_000])
    func weDecryptAges(_ size: Int) throws {
        try requireAge()
        try withTemporaryDirectory { directory in
            let keygen = try runProcess("/usr/bin/age-keygen", ["-o", directory + "/key.txt"])
            try #require(keygen.status == 0, "\(keygen.standardError)")
            let identities = try AgeIdentity.parseIdentityFile(path: directory + "/key.txt")
            let publicKey = try runProcess("/usr/bin/age-keygen", ["-y", directory + "/key.txt"])
            let recipient = String(decoding: publicKey.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(identities.map(\.recipient.description) == [recipient])
            let plaintext = randomBytes(size, seed: 12)
            try writeFile(directory + "/plain", plaintext)
            let encrypt = try runProcess(Self.ageTool, ["-r", recipient, "-o", directory + "/file.age", directory + "/plain"])
            try #require(encrypt.status == 0, "\(encrypt.standardError)")
            let file = try FileDescriptorInput(path: directory + "/file.age")
            let source = try AgeDecryptingSource(source: file, identities: identities)
            #expect(try source.read(at: 0, count: Int(try source.size())) == plaintext)
            let ciphertext = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/file.age")))
            #expect(try streamDecrypt(ciphertext, identities: identities) == plaintext)
        }
    }

    @Test("age -d refuses a flipped byte and a wrong identity for pgcellar's output too")
    func ageRejectsDamage() throws {
        try requireAge()
        try withTemporaryDirectory { directory in
            let identity = try AgeIdentity.generate(), other = try AgeIdentity.generate()
            try writeFile(directory + "/key.txt", Array(identity.identityFileText().utf8))
            try writeFile(directory + "/other.txt", Array(other.identityFileText().utf8))
            var ciphertext = try ageEncrypt(randomBytes(100_000, seed: 13), to: [identity.recipient])
            try writeFile(directory + "/file.age", ciphertext)
            #expect(try runProcess(Self.ageTool, ["-d", "-i", directory + "/other.txt", directory + "/file.age"]).status != 0)
            ciphertext[ciphertext.count - 100] ^= 1
            try writeFile(directory + "/file.age", ciphertext)
            #expect(try runProcess(Self.ageTool, ["-d", "-i", directory + "/key.txt", directory + "/file.age"]).status != 0)
        }
    }

    func requireAge() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.ageTool),
                     "the age command is missing: run scripts/test.sh (or apt-get install age)")
    }
}
