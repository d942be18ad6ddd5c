import Foundation
import ObjectStore

// MARK: - Pushgateway

/// A Prometheus Pushgateway that `backup`, `backups prune` and `rotate`
/// push their gauges to (`--pushgateway URL`), for a pod too short-lived to
/// be scraped.
///
/// Samples go as text exposition by POST to
/// `URL/metrics/job/pgcellar/database@base64/<name>`. POST, not PUT:
/// the gateway then replaces only the metrics of the same names in that
/// group, so a failed backup's push (last failure, duration) leaves the
/// last success that an earlier push set, as the metrics file carries it
/// forward, and backups, prunes and rotations of one database share a group.
public struct Pushgateway: Sendable, CustomStringConvertible {
    /// `http(s)://host[:port][/path]`, without a trailing slash.
    public let base: String

    /// - Throws: ``MetricsError`` when `url` is not an http(s) URL with a
    ///   host, or carries a user, password, query or fragment (credentials
    ///   never go in argv).
    public init(_ url: String) throws {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty else {
            throw MetricsError("--pushgateway \(displayQuoted(url)) is not an http(s):// URL such as http://pushgateway.monitoring.svc:9091")
        }
        guard components.user == nil && components.password == nil else {
            throw MetricsError("--pushgateway must not carry a user or password (it would show in the process list); give the gateway's URL alone")
        }
        guard components.query == nil && components.fragment == nil else {
            throw MetricsError("--pushgateway \(displayQuoted(url)) has a query or fragment; give the gateway's base URL, pgcellar adds /metrics/job/pgcellar/…")
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    public var description: String { base }

    /// The group's URL: `job=pgcellar` and the database, each label value
    /// base64url-encoded so that any name (slashes included) fits the path.
    public func groupURL(database: String) -> String {
        base + "/metrics/job/pgcellar/database@base64/" + Self.base64URL(database)
    }

    /// Pushes `samples` (text exposition, as the metrics file holds them).
    ///
    /// - Throws: ``MetricsError`` naming the gateway when it cannot be reached
    ///   or refuses the push.
    public func push(_ samples: [MetricSample], database: String) throws {
        do {
            try PlainHTTP.send("POST", url: groupURL(database: database), contentType: "text/plain; version=0.0.4; charset=utf-8",
                               body: Array(MetricsFile.render(samples).utf8))
        } catch let error as PlainHTTP.Failure {
            throw MetricsError("cannot push the metrics to the Pushgateway: \(error)")
        }
    }

    /// RFC 4648 §5 without padding (an empty value is `=`, as the gateway wants).
    static func base64URL(_ text: String) -> String {
        guard !text.isEmpty else { return "=" }
        var encoded = Data(text.utf8).base64EncodedString()
        encoded = encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while encoded.hasSuffix("=") { encoded.removeLast() }
        return encoded
    }
}

/// A metrics file or push that failed; the work it reports on is not affected.
public struct MetricsError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
