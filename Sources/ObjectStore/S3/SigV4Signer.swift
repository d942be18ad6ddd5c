import CellarSupport
import Foundation

/// AWS Signature Version 4 for request headers, written on OpenSSL's
/// HMAC-SHA-256 and checked against AWS's published test suite
/// (Tests/ObjectStoreTests/SigV4TestSuite).
///
/// libcurl's own `CURLOPT_AWS_SIGV4` is not used: Debian's 7.88 sends no
/// payload hash of its own and canonicalises some query strings wrongly.
struct SigV4Signer: Sendable {
    var credentials: S3Credentials
    var region: String
    var service: String

    /// The headers a request must carry to be signed, and what was signed.
    struct Signature {
        /// `x-amz-date`, `x-amz-security-token` (with a session token),
        /// `x-amz-content-sha256` (when asked) and `Authorization`.
        var headers: [(name: String, value: String)]
        var canonicalRequest: String
        var stringToSign: String
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - method: `GET`, `PUT`, ...
    ///   - path: The URI path, not yet encoded (`/bucket/some key`).
    ///   - query: The query parameters, not yet encoded, in any order.
    ///   - headers: Every header to sign, `host` included.
    ///   - payloadHash: The body's SHA-256 in lowercase hex.
    ///   - sendPayloadHash: Adds `x-amz-content-sha256`, which S3 requires.
    ///   - date: The signing time.
    func sign(
        method: String, path: String, query: [(String, String)], headers: [(name: String, value: String)],
        payloadHash: String, sendPayloadHash: Bool, date: Date
    ) -> Signature {
        let (amzDate, day) = Self.timestamps(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        if sendPayloadHash { added.append(("x-amz-content-sha256", payloadHash)) }

        // > To create the canonical headers list, convert all header names to
        // > lowercase and remove leading spaces and trailing spaces. Convert
        // > sequential spaces in the header value to a single space.
        var canonical: [String: String] = [:]
        for (name, value) in headers + added {
            let key = name.lowercased()
            let trimmed = Self.collapsingSpaces(value)
            canonical[key] = canonical[key].map { "\($0),\(trimmed)" } ?? trimmed
        }
        let names = canonical.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalHeaders = names.map { "\($0):\(canonical[$0]!)\n" }.joined()

        let canonicalRequest = [
            method,
            Self.encode(path, keepingSlashes: true),
            Self.canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, Digests.sha256Hex(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        var key = Digests.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), day)
        key = Digests.hmacSHA256(key: key, region)
        key = Digests.hmacSHA256(key: key, service)
        key = Digests.hmacSHA256(key: key, "aws4_request")
        let signature = Hex.encode(Digests.hmacSHA256(key: key, stringToSign))

        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            headers: added + [("Authorization", authorization)], canonicalRequest: canonicalRequest,
            stringToSign: stringToSign)
    }

    /// The query string in canonical form: each name and value URI-encoded,
    /// sorted by name then value, `name=value` joined with `&` (an empty
    /// value keeps its `=`: `uploads=`). The same string goes in the URL, so
    /// the server sees exactly what was signed.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0, keepingSlashes: false), encode($0.1, keepingSlashes: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// > URI encode every byte. UriEncode() must enforce the following rules:
    /// > URI encode every byte except the unreserved characters: 'A'-'Z',
    /// > 'a'-'z', '0'-'9', '-', '.', '_', and '~'. [...] Letters in the
    /// > hexadecimal value must be uppercase. [...] Encode the forward slash
    /// > character, '/', everywhere except in the object key name.
    static func encode(_ text: String, keepingSlashes: Bool) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlashes:
                result.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result.append("%")
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return result
    }

    private static func collapsingSpaces(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// `20150830T123600Z` and `20150830`, in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let day = "\(c.year ?? 1970)\(two(c.month))\(two(c.day))"
        return ("\(day)T\(two(c.hour))\(two(c.minute))\(two(c.second))Z", day)
    }
}
