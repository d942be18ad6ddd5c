import CellarSupport
import Foundation
import Testing

/// The age project's test vectors (C2SP CCTV, age/testdata), run when
/// PGCELLAR_AGE_TESTKIT names a directory holding them: they are data from
/// another repository and are not committed here.
@Suite("age testkit vectors", .enabled(if: ProcessInfo.processInfo.environment["PGCELLAR_AGE_TESTKIT"] != nil))
struct AgeTestkitTests {
    @Test("every X25519, header, HMAC and STREAM vector gives the expected result")
    func vectors() throws {
        let directory = ProcessInfo.processInfo.environment["PGCELLAR_AGE_TESTKIT"]!
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            let split = bytes.firstRange(of: Array("\n\n".utf8))!
            var fields: [String: [String]] = [:]
            for line in String(decoding: bytes[..<split.lowerBound], as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: ": ", maxSplits: 1).map(String.init)
                fields[parts[0], default: []].append(parts.count > 1 ? parts[1] : "")
            }
            // Passphrases, armor, compressed vectors and post-quantum recipients are not what pgcellar reads.
            guard fields["passphrase"] == nil, fields["armored"] == nil, fields["compressed"] == nil,
                  let keys = fields["identity"], keys.allSatisfy({ $0.hasPrefix("AGE-SECRET-KEY-1") }) else { continue }
            let file = Array(bytes[split.upperBound...])
            let expect = fields["expect"]![0]
            let identities = try keys.map { try AgeIdentity($0) }
            var outcome: String
            var plaintext: [UInt8] = []
            do {
                plaintext = try streamDecrypt(file, identities: identities)
                let source = try AgeDecryptingSource(source: MemoryRandomAccessSource(file), identities: identities)
                #expect(try source.read(at: 0, count: Int(try source.size())) == plaintext, "\(name)")
                outcome = "success"
            } catch let error as AgeError {
                outcome = error.kind == .noMatchingIdentity ? "no match" : error.kind == .damaged ? "payload failure" : "header failure"
                if error.message.contains("MAC does not match") { outcome = "HMAC failure" }
            }
            let accepted: Set<String> = expect == "HMAC failure" ? ["HMAC failure", "header failure"] : [expect]
            #expect(accepted.contains(outcome), "\(name): expected \(expect), got \(outcome)")
            if outcome == "success", let digest = fields["payload"]?.first {
                #expect(try SHA256.hexHash(plaintext) == digest, "\(name): wrong plaintext")
            }
            checked += 1
        }
        #expect(checked > 40)
    }
}
