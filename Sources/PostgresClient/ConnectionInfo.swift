import Foundation
internal import CLibPQ

/// A conninfo string or URI taken apart by libpq (`PQconninfoParse`), to tell
/// which host, database and user it names without connecting — and without
/// ever exposing its password.
public struct ConnectionInfo: Sendable, CustomStringConvertible {
    /// Every keyword that was set, passwords (`password`, `sslpassword`) excluded.
    public private(set) var options: [String: String]
    public let hasPassword: Bool

    /// - Throws: `ClientError` with libpq's message for a malformed string.
    public init(_ conninfo: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            let reason = errorMessage.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "out of memory"
            throw ClientError("invalid connection string: \(reason)")
        }
        defer { PQconninfoFree(parsed) }
        var options: [String: String] = [:]
        var hasPassword = false
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                let key = String(cString: keyword)
                if key == "password" {
                    hasPassword = true
                } else if key != "sslpassword" {  // the client key's passphrase: never shown either
                    options[key] = String(cString: value)
                }
            }
            option += 1
        }
        self.options = options
        self.hasPassword = hasPassword
    }

    public var database: String? { options["dbname"] }
    public var host: String? { options["host"] }
    public var port: String? { options["port"] }
    public var user: String? { options["user"] }

    public var description: String {
        options.keys.sorted().map { "\($0)=\(options[$0]!)" }.joined(separator: " ")
            + (hasPassword ? " password=<redacted>" : "")
    }
}
