@testable import CellarSupport
import COpenSSL
import Foundation
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    /// FIPS 180-4 / NIST CSRC example vectors.
    static let vectors: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ]

    @Test("published vectors, in one piece and in uneven pieces")
    func publishedVectors() throws {
        for (message, digest) in Self.vectors {
            let bytes = Array(message.utf8)
            #expect(try SHA256.hexHash(bytes) == digest)
            #expect(Hex.encode(try SHA256.hash(Data(bytes))) == digest)

            let hasher = try SHA256()
            for piece in unevenPieces(bytes, seed: 30, maximum: 7) {
                hasher.update(piece)
            }
            #expect(hasher.hexDigest() == digest)
            // Finalizing again gives the same digest.
            #expect(Hex.encode(hasher.finalize()) == digest)
        }
    }

    @Test("one million 'a', streamed in uneven pieces")
    func millionA() throws {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let hasher = try SHA256()
        for piece in unevenPieces(bytes, seed: 31, maximum: 100_003) {
            piece.withUnsafeBytes { hasher.update($0) }
        }
        let digest = hasher.finalize()
        #expect(digest.count == SHA256.digestSize)
        #expect(Hex.encode(digest) == expected)
        #expect(try SHA256.hexHash(bytes) == expected)
    }

    @Test("hex encodes and decodes")
    func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(Hex.decode("000fA0fF") == [0x00, 0x0F, 0xA0, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite("secure random")
struct SecureRandomTests {
    @Test("bytes have the asked length and differ between calls")
    func bytes() throws {
        #expect(try SecureRandom.bytes(count: 0) == [])
        let first = try SecureRandom.bytes(count: 32)
        let second = try SecureRandom.bytes(count: 32)
        #expect(first.count == 32)
        #expect(first != second)
    }

    @Test("the default password: 43 URI-safe characters, at least 256 bits")
    func defaultPassword() throws {
        let alphabet = Set(SecureRandom.uriSafeAlphabet)
        #expect(alphabet.count == 66)
        #expect(43 * log2(Double(alphabet.count)) >= 256)
        var seen: Set<String> = []
        for _ in 0..<50 {
            let password = try SecureRandom.password()
            #expect(password.count == 43)
            #expect(password.allSatisfy(alphabet.contains))
            seen.insert(password)
        }
        #expect(seen.count == 50)
    }

    @Test("a custom alphabet is used uniformly")
    func customAlphabet() throws {
        // 3 symbols: 162 characters carry 256.8 bits; 256 % 3 != 0 exercises rejection.
        var counts: [Character: Int] = [:]
        for _ in 0..<60 {
            let password = try SecureRandom.password(length: 200, alphabet: "xyz")
            #expect(password.count == 200)
            for character in password { counts[character, default: 0] += 1 }
        }
        #expect(Set(counts.keys) == ["x", "y", "z"])
        for (_, count) in counts {
            // 12,000 draws, 4,000 expected each; 5 sigma is about 260.
            #expect(abs(count - 4_000) < 400)
        }
        #expect(try SecureRandom.password(length: 256, alphabet: "01").count == 256)
    }

    @Test("a configuration with too little entropy is refused, naming both numbers")
    func weakConfiguration() throws {
        let error = try #require(throws: PasswordPolicyError.self) { try SecureRandom.password(length: 20) }
        #expect(error == .tooLittleEntropy(length: 20, alphabetSize: 66, bits: 20 * log2(66.0), minimumLength: 43))
        #expect(error.description.contains("20 characters"))
        #expect(error.description.contains("alphabet of 66"))
        #expect(error.description.contains("256"))
        #expect(error.description.contains("at least 43"))

        #expect(throws: PasswordPolicyError.self) { try SecureRandom.password(length: 255, alphabet: "01") }
        #expect(throws: PasswordPolicyError.self) { try SecureRandom.password(length: 0) }
    }

    @Test("unusable alphabets are refused")
    func badAlphabets() {
        #expect(throws: PasswordPolicyError.alphabetTooSmall(count: 1)) {
            try SecureRandom.password(length: 1000, alphabet: "a")
        }
        #expect(throws: PasswordPolicyError.repeatedCharacter("b")) {
            try SecureRandom.password(length: 1000, alphabet: "abcb")
        }
        #expect(throws: PasswordPolicyError.unsupportedCharacter("é")) {
            try SecureRandom.password(length: 1000, alphabet: "abé")
        }
        #expect(throws: PasswordPolicyError.unsupportedCharacter(" ")) {
            try SecureRandom.password(length: 1000, alphabet: "ab c")
        }
    }
}

@Suite("OpenSSL errors")
struct OpenSSLErrorTests {
    @Test("the description lists every entry and the operation")
    func description() {
        let error = OpenSSLError(
            operation: "initializing SHA-256",
            entries: [
                .init(code: 1, message: "error:0308010C:digital envelope routines::unsupported"),
                .init(code: 2, message: "error:03000086:digital envelope routines::initialization error"),
            ])
        #expect(
            error.description
                == "OpenSSL: initializing SHA-256 failed: error:0308010C:digital envelope routines::unsupported; "
                + "error:03000086:digital envelope routines::initialization error")
        #expect(OpenSSLError(operation: "x", entries: []).description.contains("no details"))
    }
}

@Suite("OpenSSL error queue")
struct OpenSSLErrorQueueTests {
    @Test("every queued error is collected, oldest first, and the queue is left empty")
    func drainsWholeQueue() throws {
        // Two failed fetches leave two entries on this thread's queue.
        #expect(EVP_MD_fetch(nil, "NO-SUCH-DIGEST-1", nil) == nil)
        #expect(EVP_MD_fetch(nil, "NO-SUCH-DIGEST-2", nil) == nil)
        let error = OpenSSLError.drainingQueue(operation: "fetching digests")
        #expect(error.entries.count >= 2)
        #expect(error.description.hasPrefix("OpenSSL: fetching digests failed: error:"))
        #expect(error.description.contains("NO-SUCH-DIGEST-1"))
        #expect(error.description.contains("NO-SUCH-DIGEST-2"))
        #expect(ERR_peek_error() == 0)
    }
}
