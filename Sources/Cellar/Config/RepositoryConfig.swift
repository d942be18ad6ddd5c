import Foundation
import Yams

// MARK: - repository:

/// Where backups go and how long they stay: `repository:` in the file
/// (docs/backups.md).
public struct RepositoryConfig: Sendable, Equatable {
    /// Where the objects are kept.
    public enum Location: Sendable, Equatable {
        /// `path:` a directory, PVC or NFS mount; see ``PgcellarConfig/resolvedPath(_:)``.
        case path(String)
        /// `s3:` an S3-compatible bucket.
        case s3(S3Location)
    }

    public var location: Location
    /// `keep:`; `nil` keeps every backup (prune refuses to run).
    public var keep: RetentionPolicy?
    /// `encryption:`; `nil` writes plaintext backups.
    public var encryption: EncryptionConfig?
    /// How old an abandoned upload (a temporary file, an incomplete multipart
    /// upload) must be before `backup` and `prune` remove it, in seconds;
    /// default 24 h, so a concurrent backup is never cut off.
    public var sweepAfter: TimeInterval

    public static let defaultSweepAfter: TimeInterval = 86_400

    public init(location: Location, keep: RetentionPolicy? = nil, encryption: EncryptionConfig? = nil,
                sweepAfter: TimeInterval = RepositoryConfig.defaultSweepAfter) {
        self.location = location
        self.keep = keep
        self.encryption = encryption
        self.sweepAfter = sweepAfter
    }
}

/// `repository.s3:` an S3-compatible bucket. Credentials are not here: they
/// come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
/// or the file ``credentialsFile`` names.
public struct S3Location: Sendable, Equatable {
    /// `https://host[:port]` (or `http://` for a store on loopback).
    public var endpoint: String
    public var bucket: String
    /// Prepended to every key, as written (`beersystem/`); default empty.
    public var prefix: String
    /// Default `us-east-1`.
    public var region: String
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`;
    /// default false. MinIO, Ceph and moto usually need true.
    public var forcePathStyle: Bool
    /// An AWS shared credentials file (`[default]` profile), as written.
    public var credentialsFile: String?
    /// PEM certificates that sign the endpoint's TLS certificate, as written.
    public var caBundle: String?

    public init(endpoint: String, bucket: String, prefix: String = "", region: String = "us-east-1",
                forcePathStyle: Bool = false, credentialsFile: String? = nil, caBundle: String? = nil) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.forcePathStyle = forcePathStyle
        self.credentialsFile = credentialsFile
        self.caBundle = caBundle
    }
}

/// `repository.encryption:` age recipients, and whether plaintext is refused.
public struct EncryptionConfig: Sendable, Equatable {
    /// X25519 public keys, `age1…`, in file order.
    public var recipients: [String]
    /// Refuse to write a backup that is not encrypted; default false.
    public var required: Bool

    public init(recipients: [String], required: Bool = false) {
        self.recipients = recipients
        self.required = required
    }
}

// MARK: - Reading

/// Reads `repository:`; every problem goes to the reader, as for the other
/// sections.
enum RepositoryConfigReader {
    static let keys = ["path", "s3", "keep", "encryption", "sweepAfter"]
    static let s3Keys = ["endpoint", "bucket", "prefix", "region", "forcePathStyle", "credentialsFile", "caBundle"]
    static let keepKeys = ["last", "hourly", "daily", "weekly", "monthly", "yearly"]
    static let encryptionKeys = ["recipients", "required"]

    static let credentialsMessage =
        "credentials do not belong in the configuration file; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (from a Secret) or name a credentials file in credentialsFile"
    static let identityMessage =
        "the identity (private key) never goes in the configuration; only recipients (age1… public keys) do, and restore takes --identity FILE"

    static func read(_ section: YAMLMapping, _ reader: inout YAMLReader) -> RepositoryConfig? {
        let start = reader.issues.count
        var location: RepositoryConfig.Location?
        let hasPath = section.value("path") != nil
        let hasS3 = section.value("s3") != nil
        if hasPath && hasS3 {
            ConfigBuilder.report("s3", in: section, "path and s3 both name the repository; give one", &reader)
        } else if !hasPath && !hasS3 {
            reader.report(section.path, section.node, "needs path (a directory) or s3 (a bucket) to say where backups go")
        } else if let path = reader.string("path", in: section) {
            if ConfigBuilder.checkText(path, "path", in: section, &reader) { location = .path(path) }
        } else if let s3 = reader.mapping("s3", in: section, allowed: s3Keys,
                                          forbidden: ["accessKeyId": credentialsMessage, "secretAccessKey": credentialsMessage,
                                                      "sessionToken": credentialsMessage],
                                          required: true) {
            location = readS3(s3, &reader).map { .s3($0) }
        }
        let keep = reader.mapping("keep", in: section, allowed: keepKeys, required: false).flatMap { readKeep($0, &reader) }
        let encryption = reader.mapping("encryption", in: section, allowed: encryptionKeys,
                                        forbidden: ["identity": identityMessage], required: false)
            .flatMap { readEncryption($0, &reader) }
        var sweepAfter = RepositoryConfig.defaultSweepAfter
        if let written = reader.string("sweepAfter", in: section) {
            do {
                let seconds = try parseDurationSpec(written)
                if seconds >= 60 {
                    sweepAfter = seconds
                } else {
                    ConfigBuilder.report("sweepAfter", in: section, "must be at least 1m, or a backup still running could lose its upload; 24h is the default", &reader)
                }
            } catch {
                ConfigBuilder.report("sweepAfter", in: section, "\(error)", &reader)
            }
        }
        guard reader.issues.count == start, let location else { return nil }
        return RepositoryConfig(location: location, keep: keep, encryption: encryption, sweepAfter: sweepAfter)
    }

    static func readS3(_ section: YAMLMapping, _ reader: inout YAMLReader) -> S3Location? {
        let start = reader.issues.count
        let endpoint = reader.string("endpoint", in: section, required: true)
        if let endpoint, ConfigBuilder.checkText(endpoint, "endpoint", in: section, &reader) {
            let lower = endpoint.lowercased()
            if !(lower.hasPrefix("https://") || lower.hasPrefix("http://")) || URL(string: endpoint)?.host == nil {
                ConfigBuilder.report("endpoint", in: section, "\(displayQuoted(endpoint)) is not an http(s):// URL such as https://s3.eu-west-1.amazonaws.com", &reader)
            } else if URL(string: endpoint)?.user != nil {
                ConfigBuilder.report("endpoint", in: section, credentialsMessage, &reader)
            }
        }
        let bucket = reader.string("bucket", in: section, required: true)
        if let bucket, let problem = bucketProblem(bucket) { ConfigBuilder.report("bucket", in: section, problem, &reader) }
        let prefix = reader.string("prefix", in: section)
        if let prefix, prefix.hasPrefix("/") || prefix.contains("//") || prefix.contains("\0") {
            ConfigBuilder.report("prefix", in: section, "\(displayQuoted(prefix)) must not start with / or contain // (keys would have empty parts)", &reader)
        }
        let region = reader.string("region", in: section)
        if let region { ConfigBuilder.checkText(region, "region", in: section, &reader) }
        let forcePathStyle = reader.bool("forcePathStyle", in: section)
        let credentialsFile = reader.string("credentialsFile", in: section)
        if let credentialsFile { ConfigBuilder.checkText(credentialsFile, "credentialsFile", in: section, &reader) }
        let caBundle = reader.string("caBundle", in: section)
        if let caBundle { ConfigBuilder.checkText(caBundle, "caBundle", in: section, &reader) }
        guard reader.issues.count == start, let endpoint, let bucket else { return nil }
        return S3Location(endpoint: endpoint, bucket: bucket, prefix: prefix ?? "", region: region ?? "us-east-1",
                          forcePathStyle: forcePathStyle ?? false, credentialsFile: credentialsFile, caBundle: caBundle)
    }

    /// S3's bucket naming rules, the parts a typo breaks.
    static func bucketProblem(_ bucket: String) -> String? {
        let allowed = bucket.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }
        guard (3...63).contains(bucket.count), allowed,
              let first = bucket.unicodeScalars.first, let last = bucket.unicodeScalars.last,
              first != "-" && first != ".", last != "-" && last != "." else {
            return "\(displayQuoted(bucket)) is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        }
        return nil
    }

    static func readKeep(_ section: YAMLMapping, _ reader: inout YAMLReader) -> RetentionPolicy? {
        let start = reader.issues.count
        var values: [String: Int] = [:]
        for key in keepKeys {
            guard let value = reader.int(key, in: section) else { continue }
            if value < 0 {
                ConfigBuilder.report(key, in: section, "\(value) is negative; write how many backups to keep, 0 or more", &reader)
            } else {
                values[key] = value
            }
        }
        guard reader.issues.count == start else { return nil }
        let policy = RetentionPolicy(last: values["last"] ?? 0, hourly: values["hourly"] ?? 0, daily: values["daily"] ?? 0,
                                     weekly: values["weekly"] ?? 0, monthly: values["monthly"] ?? 0, yearly: values["yearly"] ?? 0)
        // A misspelt key has its own error; "keeps nothing" would only add noise.
        let allKeysKnown: Bool
        if case let .mapping(written) = section.node { allKeysKnown = written.count == section.entries.count } else { allKeysKnown = true }
        if policy.keepsOnlyTheNewest && allKeysKnown {
            reader.report(section.path, section.node,
                          "keeps no backup but the newest; give at least one of \(displayList(keepKeys, conjunction: "or")) above 0, or remove keep to keep every backup")
            return nil
        }
        return policy
    }

    static func readEncryption(_ section: YAMLMapping, _ reader: inout YAMLReader) -> EncryptionConfig? {
        let start = reader.issues.count
        var recipients: [String] = []
        if let written = reader.stringList("recipients", in: section) {
            let path = section.path.key("recipients")
            for (index, (recipient, node)) in written.enumerated() {
                if recipient.hasPrefix("AGE-SECRET-KEY-") {
                    reader.report(path.index(index), node, "this is an identity (a private key), not a recipient; \(identityMessage)")
                } else if !(recipient.hasPrefix("age1") && recipient.count == 62
                            && recipient.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) })) {
                    reader.report(path.index(index), node, "\(displayQuoted(recipient)) is not an age X25519 recipient (age1 followed by 58 lowercase letters and digits, as age-keygen -y prints)")
                } else if recipients.contains(recipient) {
                    reader.report(path.index(index), node, "listed twice")
                } else {
                    recipients.append(recipient)
                }
            }
        }
        let required = reader.bool("required", in: section) ?? false
        if reader.issues.count == start, required, recipients.isEmpty {
            ConfigBuilder.report("recipients", in: section, "required: true with no recipients would refuse every backup; list the age1… public keys to encrypt to", &reader, node: section.node)
        }
        guard reader.issues.count == start else { return nil }
        return EncryptionConfig(recipients: recipients, required: required)
    }
}
