import Foundation

/// An access key for S3, from the environment or an AWS credentials file.
///
/// Its `description` names the access key ID only: the secret and the
/// session token never reach a message or a log.
public struct S3Credentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "access key \(accessKeyID)\(sessionToken == nil ? "" : " with a session token")"
    }

    /// Where a store found its credentials, for messages.
    public enum Source: Sendable, Equatable {
        case environment
        case file(path: String, profile: String)
    }

    /// The credentials AWS tools would use: `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN`) when set, else the
    /// profile of a credentials file.
    ///
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - file: The credentials file the configuration names; when nil,
    ///     `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials` if it exists.
    ///   - profile: The profile; when nil, `AWS_PROFILE` or `default`.
    /// - Throws: ``S3Error`` naming what is missing and where it was looked for.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        file: String? = nil, profile: String? = nil
    ) throws -> (S3Credentials, Source) {
        let id = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if file == nil, let id, let secret {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return (S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token), .environment)
        }
        if file == nil, (id == nil) != (secret == nil) {
            throw S3Error.credentials(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (only \(id == nil ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") is)")
        }
        let profile = profile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let path: String
        if let file {
            path = file
        } else if let shared = environment["AWS_SHARED_CREDENTIALS_FILE"], !shared.isEmpty {
            path = shared
        } else if let home = environment["HOME"], FileManager.default.fileExists(atPath: home + "/.aws/credentials") {
            path = home + "/.aws/credentials"
        } else {
            throw S3Error.credentials(
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a credentials file in the repository configuration")
        }
        return (try fromFile(path: path, profile: profile), .file(path: path, profile: profile))
    }

    /// Reads one profile of an AWS credentials file (INI: `[profile]`, then
    /// `aws_access_key_id = ...`, `aws_secret_access_key = ...`,
    /// `aws_session_token = ...`).
    public static func fromFile(path: String, profile: String) throws -> S3Credentials {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw S3Error.credentials("cannot read the S3 credentials file \(path): \(error.localizedDescription)")
        }
        var section: String?
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // The config file's spelling, `[profile name]`, is accepted too.
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                section = name
                continue
            }
            guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], !id.isEmpty,
            let secret = values["aws_secret_access_key"], !secret.isEmpty
        else {
            throw S3Error.credentials(
                "the S3 credentials file \(path) has no profile [\(profile)] with aws_access_key_id and aws_secret_access_key")
        }
        let token = values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}
