import Foundation

/// A failed S3 operation: what was being done, on which bucket and key, the
/// store's error code, and what to do about it.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    /// S3's error codes, as a growable set of constants.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let signatureDoesNotMatch = Code(rawValue: "SignatureDoesNotMatch")
        public static let invalidAccessKeyID = Code(rawValue: "InvalidAccessKeyId")
        public static let accessDenied = Code(rawValue: "AccessDenied")
        public static let noSuchBucket = Code(rawValue: "NoSuchBucket")
        public static let noSuchKey = Code(rawValue: "NoSuchKey")
        public static let noSuchUpload = Code(rawValue: "NoSuchUpload")
        public static let slowDown = Code(rawValue: "SlowDown")
        public static let internalError = Code(rawValue: "InternalError")
        public static let requestTimeout = Code(rawValue: "RequestTimeout")
        public static let requestTimeTooSkewed = Code(rawValue: "RequestTimeTooSkewed")
        public static let entityTooSmall = Code(rawValue: "EntityTooSmall")
        public static let badDigest = Code(rawValue: "BadDigest")
        public static let expiredToken = Code(rawValue: "ExpiredToken")
        /// No response reached us (connection refused, reset, timed out).
        public static let transport = Code(rawValue: "Transport")
        /// Credentials could not be found or read.
        public static let credentials = Code(rawValue: "Credentials")
        /// The server's answer could not be understood.
        public static let malformedResponse = Code(rawValue: "MalformedResponse")
    }

    /// What was being done: `"PUT"`, `"upload part 3 of"`, `"list"`.
    public var operation: String
    /// `s3://bucket/key` (or the bucket alone).
    public var target: String
    public var code: Code
    public var httpStatus: Int?
    /// The server's message, or the transport's.
    public var message: String
    /// How many attempts were made (1 when the error was not retried).
    public var attempts: Int = 1
    /// For ``Code/transport``: whether libcurl's failure may pass (a reset)
    /// or will not (a bad certificate, an unknown host).
    var transportIsTransient = true

    public var description: String {
        var text = "\(operation) \(target) failed: \(code.rawValue)"
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        if !message.isEmpty { text += ": \(message)" }
        if attempts > 1 { text += " (after \(attempts) attempts)" }
        if let hint { text += " (\(hint))" }
        return text
    }

    /// What the person running pgcellar should do next.
    public var hint: String? {
        switch code {
        case .signatureDoesNotMatch:
            return "check AWS_SECRET_ACCESS_KEY, or the secret in the credentials file, and the repository's region"
        case .invalidAccessKeyID:
            return "check AWS_ACCESS_KEY_ID, or the access key in the credentials file"
        case .accessDenied:
            return "the access key's policy must allow s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the bucket"
        case .noSuchBucket:
            return "create the bucket, or correct repository.s3.bucket"
        case .requestTimeTooSkewed:
            return "this machine's clock is off; synchronise it"
        case .expiredToken:
            return "the session token expired; refresh AWS_SESSION_TOKEN"
        case .transport:
            return "check repository.s3.endpoint and that the store is reachable"
        case .slowDown:
            return "the store throttled the requests; lower the parts in flight or try later"
        default:
            return nil
        }
    }

    public init(operation: String, target: String, code: Code, httpStatus: Int? = nil, message: String) {
        self.operation = operation
        self.target = target
        self.code = code
        self.httpStatus = httpStatus
        self.message = message
    }

    static func credentials(_ message: String) -> S3Error {
        S3Error(operation: "find credentials for", target: "S3", code: .credentials, message: message)
    }

    /// Whether trying the same request again may succeed.
    var isTransient: Bool {
        switch code {
        case .transport:
            return transportIsTransient
        case .slowDown, .internalError, .requestTimeout:
            return true
        default:
            return httpStatus.map { $0 >= 500 || $0 == 429 } ?? false
        }
    }
}
