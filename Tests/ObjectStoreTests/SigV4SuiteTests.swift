import Foundation
import Testing

@testable import ObjectStore

/// Signs every request of AWS's published SigV4 test suite (a subset, in
/// SigV4TestSuite/, see its README for the source) and compares the canonical
/// request and the Authorization header with AWS's.
@Suite struct SigV4SuiteTests {
    static let suiteDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("SigV4TestSuite")

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: suiteDirectory.path)) ?? []
        return names.filter { !$0.hasSuffix(".md") }.sorted()
    }

    struct Context: Decodable {
        struct Credentials: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var region: String
        var service: String
        var sign_body: Bool
        var timestamp: String
    }

    @Test func theSuiteIsPresent() {
        #expect(Self.cases.count >= 14)
    }

    @Test(arguments: cases)
    func signsLikeAWS(_ name: String) throws {
        let directory = Self.suiteDirectory.appendingPathComponent(name)
        func read(_ file: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        }
        let context = try JSONDecoder().decode(Context.self, from: Data(try read("context.json").utf8))
        let request = try parseRequest(try read("request.txt"))
        let signer = SigV4Signer(
            credentials: S3Credentials(
                accessKeyID: context.credentials.access_key_id,
                secretAccessKey: context.credentials.secret_access_key, sessionToken: context.credentials.token),
            region: context.region, service: context.service)
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))

        let signature = signer.sign(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            payloadHash: Digests.sha256Hex(Array(request.body.utf8)), sendPayloadHash: context.sign_body, date: date)

        #expect(signature.canonicalRequest == (try read("header-canonical-request.txt")))
        let expected = try read("header-signed-request.txt").split(separator: "\n")
            .first { $0.hasPrefix("Authorization:") }.map { String($0.dropFirst("Authorization:".count)) }
        let authorization = signature.headers.first { $0.name == "Authorization" }?.value
        #expect(authorization != nil && authorization == expected)
    }

    @Test func aWrongSecretChangesTheSignature() throws {
        func sign(_ secret: String) -> String? {
            SigV4Signer(
                credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret), region: "us-east-1",
                service: "s3"
            ).sign(
                method: "GET", path: "/b/k", query: [], headers: [("Host", "h")], payloadHash: "e3b0",
                sendPayloadHash: true, date: Date(timeIntervalSince1970: 0)
            ).headers.first { $0.name == "Authorization" }?.value
        }
        #expect(sign("one") != sign("two"))
    }

    @Test func queryStringsAreSortedAndEncoded() {
        #expect(SigV4Signer.canonicalQuery([("uploads", "")]) == "uploads=")
        #expect(
            SigV4Signer.canonicalQuery([("prefix", "a b/c+d"), ("list-type", "2"), ("continuation-token", "1/x=")])
                == "continuation-token=1%2Fx%3D&list-type=2&prefix=a%20b%2Fc%2Bd")
        #expect(SigV4Signer.encode("/bucket/dir/a b+c~.txt", keepingSlashes: true) == "/bucket/dir/a%20b%2Bc~.txt")
    }

    /// `GET /path?query HTTP/1.1`, header lines, an empty line, the body.
    private func parseRequest(_ text: String) throws -> (
        method: String, path: String, query: [(String, String)], headers: [(name: String, value: String)], body: String
    ) {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [(String, String)] = []
        if pathPart.count == 2 {
            for pair in pathPart[1].split(separator: "&") {
                let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(halves[0]).removingPercentEncoding ?? String(halves[0])
                let value = halves.count > 1 ? (String(halves[1]).removingPercentEncoding ?? String(halves[1])) : ""
                query.append((name, value))
            }
        }
        var headers: [(name: String, value: String)] = []
        while let line = lines.first, !line.isEmpty {
            lines.removeFirst()
            let colon = try #require(line.firstIndex(of: ":"))
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let body = lines.dropFirst().joined(separator: "\n")
        return (method, String(pathPart[0]), query, headers, body)
    }
}
