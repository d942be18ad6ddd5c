import CellarSupport
import Foundation

/// An ``ObjectStore`` in an S3-compatible bucket (AWS, MinIO, Ceph RGW,
/// Garage, R2), spoken over libcurl and signed with SigV4.
///
/// Every method blocks; call them from threads of their own (see
/// `WorkerPool`), not from Swift's cooperative pool. Safe to use from
/// several threads at once: each request takes an easy handle of its own
/// from a pool.
public final class S3Store: ObjectStore {
    public let configuration: S3Configuration
    let signer: SigV4Signer
    let handles: CurlHandlePool
    let scheme: String
    let host: String
    let port: Int?

    /// - Parameters:
    ///   - configuration: The endpoint, bucket, prefix, region and tuning.
    ///   - credentials: From ``S3Credentials/resolve(environment:file:profile:)``.
    /// - Throws: ``S3Error`` when the endpoint is not a URL of the form
    ///   `https://host[:port]`, or the bucket name is empty.
    public init(configuration: S3Configuration, credentials: S3Credentials) throws {
        let (scheme, host, port) = try configuration.parsedEndpoint()
        guard !configuration.bucket.isEmpty, !configuration.bucket.contains("/") else {
            throw S3Error(
                operation: "configure", target: "s3://\(configuration.bucket)", code: .init(rawValue: "InvalidBucketName"),
                message: "repository.s3.bucket must be a bucket name, without slashes")
        }
        precondition(configuration.partsInFlight >= 1 && configuration.maxAttempts >= 1)
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: credentials, region: configuration.region, service: "s3")
        self.handles = CurlHandlePool(caBundle: configuration.caBundle)
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public var description: String {
        "s3://\(configuration.bucket)/\(configuration.prefix)"
    }

    /// The key in the bucket: the store's prefix, then `key`.
    func bucketKey(_ key: String) -> String {
        configuration.prefix + key
    }

    /// `s3://bucket/prefix/key`, for messages.
    func target(_ key: String?) -> String {
        guard let key else { return "s3://\(configuration.bucket)" }
        return "s3://\(configuration.bucket)/\(bucketKey(key))"
    }

    // MARK: - ObjectStore

    public func makeUpload(key: String, expectedSize: Int64?) throws -> any ObjectUpload {
        S3Upload(store: self, key: key, partSize: configuration.partSize(forExpectedSize: expectedSize))
    }

    public func put(key: String, bytes: [UInt8]) throws {
        _ = try send("PUT", method: "PUT", key: key, body: bytes, contentMD5: true)
    }

    public func get(key: String) throws -> [UInt8]? {
        do {
            return try send("GET", method: "GET", key: key).body
        } catch let error as S3Error where error.code == .noSuchKey {
            return nil
        }
    }

    public func open(key: String) throws -> any RandomAccessSource {
        let response = try send("HEAD", method: "HEAD", key: key)
        guard let length = response.headers["content-length"].flatMap({ UInt64($0) }) else {
            throw S3Error(
                operation: "HEAD", target: target(key), code: .malformedResponse, httpStatus: response.status,
                message: "the answer has no Content-Length")
        }
        return S3ObjectReader(store: self, key: key, size: length)
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var continuation: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", bucketKey(prefix))]
            if let continuation { query.append(("continuation-token", continuation)) }
            let response = try send("list", method: "GET", key: nil, query: query)
            let document = try parse(response, operation: "list", key: prefix, root: "ListBucketResult")
            for entry in document.children("Contents") {
                guard let key = entry.value("Key"), key.hasPrefix(configuration.prefix),
                    let size = entry.value("Size").flatMap({ Int64($0) })
                else {
                    throw S3Error(
                        operation: "list", target: target(prefix), code: .malformedResponse,
                        message: "an entry has no Key or Size, or a key outside the prefix")
                }
                let modified = entry.value("LastModified").flatMap(S3Store.parseTimestamp) ?? Date(timeIntervalSince1970: 0)
                objects.append(ObjectInfo(key: String(key.dropFirst(configuration.prefix.count)), size: size, lastModified: modified))
            }
            continuation = document.value("IsTruncated") == "true" ? document.value("NextContinuationToken") : nil
        } while continuation != nil
        return objects.sorted { $0.key < $1.key }
    }

    public func delete(key: String) throws {
        do {
            _ = try send("DELETE", method: "DELETE", key: key)
        } catch let error as S3Error where error.code == .noSuchKey {
            return
        }
    }

    // MARK: - Helpers

    /// Parses an XML answer whose root element must be `root`.
    func parse(_ response: HTTPResponse, operation: String, key: String?, root: String) throws -> XMLNode {
        guard let document = XMLNode.parse(response.body), document.name == root else {
            throw S3Error(
                operation: operation, target: target(key), code: .malformedResponse, httpStatus: response.status,
                message: "expected a \(root) document, got \(response.body.count) bytes that are not one")
        }
        return document
    }

    /// Reads S3's timestamps: `2026-12-05T06:09:34.000Z`, with or without
    /// fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
