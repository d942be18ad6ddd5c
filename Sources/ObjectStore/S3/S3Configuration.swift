import Foundation

/// Where an ``S3Store`` keeps its objects and how it talks to the store.
public struct S3Configuration: Sendable {
    /// `https://host[:port]` (or `http://` for a store on loopback).
    public var endpoint: String
    public var bucket: String
    /// Prepended to every key, e.g. `beersystem/`; may be empty.
    public var prefix: String
    /// The signing region (`us-east-1` for most non-AWS stores).
    public var region: String
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`;
    /// MinIO, Ceph RGW and Garage usually need it.
    public var forcePathStyle: Bool
    /// A PEM file of CA certificates to trust for the endpoint instead of the
    /// system's (a private CA).
    public var caBundle: String?
    /// How many parts of one upload are sent at once. Peak memory of an
    /// upload is (partsInFlight + 1) × part size: the parts being sent and
    /// the one being filled.
    public var partsInFlight: Int = 4
    /// The smallest part size; S3 refuses parts below 5 MiB (but the last).
    public var minimumPartSize: Int = S3Configuration.minimumAllowedPartSize
    /// How often a request is tried before its error is reported.
    public var maxAttempts: Int = 5
    /// The wait before the first retry; it doubles each time, up to 10 s.
    public var initialBackoff: Duration = .milliseconds(250)

    /// S3's limits: parts of at least 5 MiB (but the last), at most 10,000 parts.
    public static let minimumAllowedPartSize = 5 * 1024 * 1024
    public static let maximumPartCount = 10_000
    public static let maximumPartSize = 5 * 1024 * 1024 * 1024

    public init(
        endpoint: String, bucket: String, prefix: String = "", region: String = "us-east-1",
        forcePathStyle: Bool = false, caBundle: String? = nil
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.forcePathStyle = forcePathStyle
        self.caBundle = caBundle
    }

    /// The part size for an upload of about `expectedSize` bytes: large
    /// enough that 10,000 parts hold it with room to spare (the estimate,
    /// `pg_database_size`, can be low), in whole MiB, at least
    /// ``minimumPartSize``.
    public func partSize(forExpectedSize expectedSize: Int64?) -> Int {
        let mebibyte = 1024 * 1024
        guard let expectedSize, expectedSize > 0 else {
            // Unknown size: 16 MiB parts hold 156 GiB.
            return max(minimumPartSize, 16 * mebibyte)
        }
        // Room for twice the estimate in 10,000 parts.
        let needed = Int((expectedSize * 2 + Int64(Self.maximumPartCount) - 1) / Int64(Self.maximumPartCount))
        let rounded = (needed + mebibyte - 1) / mebibyte * mebibyte
        return min(Self.maximumPartSize, max(minimumPartSize, rounded))
    }

    /// The scheme, host and port of ``endpoint``, checked.
    func parsedEndpoint() throws -> (scheme: String, host: String, port: Int?) {
        guard let components = URLComponents(string: endpoint),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/",
            components.query == nil
        else {
            throw S3Error(
                operation: "configure", target: "s3://\(bucket)", code: .init(rawValue: "InvalidEndpoint"),
                message: "repository.s3.endpoint \"\(endpoint)\" is not of the form https://host[:port] (no path, no query)")
        }
        return (scheme, host, components.port)
    }
}
