import Foundation
import Yams

/// A Secret manifest that could not be read: every problem, each with its key path.
///
/// The description has one line per issue, each starting with the file:
/// `deploy/beersystem-stage-admin.secret.yaml: data.password: not valid base64 (line 14)`.
/// - Important: It never quotes a value from `data` or `stringData`.
public struct SecretManifestError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public var source: String
    public var issues: [YAMLIssue]

    public init(source: String, issues: [YAMLIssue]) {
        self.source = source
        self.issues = issues
    }

    public var description: String {
        issues.map { "\(source): \($0)" }.joined(separator: "\n")
    }

    public var errorDescription: String? { description }
}

extension SecretManifest {
    /// What an existing Secret manifest says: at least a username and a
    /// password; the rest when the file has it (a Secret that another tool,
    /// or a person, wrote may lack pgcellar's annotations).
    public struct Parsed: Sendable, Equatable {
        public var name: String
        public var namespace: String?
        /// `type`, when written (`kubernetes.io/basic-auth` for pgcellar's).
        public var type: String?
        public var username: String
        public var password: String
        public var host: String?
        public var port: Int?
        public var dbname: String?
        /// The `sslmode` parameter of `uri`.
        public var sslmode: String?
        /// `pgcellar.io/rotated-at`.
        public var rotatedAt: Date?
        /// `app.kubernetes.io/managed-by` is `pgcellar`.
        public var isManagedByPgcellar: Bool
        /// The annotations `pgcellar.io/role` and `pgcellar.io/database`.
        public var roleAnnotation: String?
        public var databaseAnnotation: String?

        public init(
            name: String, namespace: String? = nil, type: String? = nil, username: String, password: String,
            host: String? = nil, port: Int? = nil, dbname: String? = nil, sslmode: String? = nil,
            rotatedAt: Date? = nil, isManagedByPgcellar: Bool = false,
            roleAnnotation: String? = nil, databaseAnnotation: String? = nil
        ) {
            self.name = name
            self.namespace = namespace
            self.type = type
            self.username = username
            self.password = password
            self.host = host
            self.port = port
            self.dbname = dbname
            self.sslmode = sslmode
            self.rotatedAt = rotatedAt
            self.isManagedByPgcellar = isManagedByPgcellar
            self.roleAnnotation = roleAnnotation
            self.databaseAnnotation = databaseAnnotation
        }

        /// The manifest these values make, when the file has all of them;
        /// what pgcellar rendered reads back equal to what it rendered.
        public var manifest: SecretManifest? {
            guard let namespace, let host, let port, let dbname, let sslmode, let rotatedAt else { return nil }
            return SecretManifest(role: username, password: password, host: host, port: port, dbname: dbname,
                                  sslmode: sslmode, name: name, namespace: namespace, rotatedAt: rotatedAt)
        }
    }

    /// Reads a Secret manifest from a file.
    /// - Returns: `nil` when there is no file at `path` (no rotation has
    ///   written one yet).
    /// - Throws: ``SecretManifestError`` when the file exists but cannot be
    ///   read or is not a Secret with a username and a password.
    public static func load(path: String) throws -> Parsed? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SecretManifestError(source: path, issues: [YAMLIssue(keyPath: "", message: "cannot read the Secret manifest: \(error.localizedDescription)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SecretManifestError(source: path, issues: [YAMLIssue(keyPath: "", message: "the Secret manifest is not UTF-8 text")])
        }
        return try parse(yaml: text, source: path)
    }

    /// Reads a Secret manifest: `data` (base64) and `stringData`, which wins
    /// where both have a key, as the API server applies them.
    /// - Parameter source: The file's name, for error messages.
    /// - Throws: ``SecretManifestError``.
    public static func parse(yaml: String, source: String) throws -> Parsed {
        var reader = YAMLReader()
        let parsed = SecretManifestReader.read(yaml: yaml, reader: &reader)
        guard let parsed, !reader.hasIssues else {
            throw SecretManifestError(source: source, issues: reader.issues.isEmpty
                ? [YAMLIssue(keyPath: "", message: "not a Secret manifest")]
                : reader.issuesInDocumentOrder)
        }
        return parsed
    }
}

extension SecretManifest.Parsed: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let place = namespace.map { "\($0)/\(name)" } ?? name
        let rotated = rotatedAt.map { ", rotated \(SecretManifest.timestamp($0))" } ?? ""
        return "Secret \(place) for role \(displayQuoted(username))\(rotated) (password redacted)"
    }

    public var debugDescription: String { "SecretManifest.Parsed(\(description))" }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "name": name, "namespace": namespace as Any, "type": type as Any, "username": username,
            "password": "<redacted>", "host": host as Any, "port": port as Any, "dbname": dbname as Any,
            "sslmode": sslmode as Any, "rotatedAt": rotatedAt as Any, "isManagedByPgcellar": isManagedByPgcellar,
        ], displayStyle: .struct)
    }
}

// MARK: - The walk

private enum SecretManifestReader {
    static func read(yaml: String, reader: inout YAMLReader) -> SecretManifest.Parsed? {
        guard let root = reader.compose(yaml) else {
            if !reader.hasIssues { reader.report(.root, nil, "the file is empty; expected a Secret manifest") }
            return nil
        }
        // Kubernetes adds keys of its own (uid, resourceVersion, managedFields, …)
        // to a Secret read back with kubectl; any key is fine here.
        guard let top = reader.mapping(root, at: .root, allowed: nil) else { return nil }

        if let kind = reader.string("kind", in: top, required: true), kind != "Secret" {
            reader.report(top.path.key("kind"), top.value("kind"), "\(displayQuoted(kind)) is not a Secret")
        }
        if let apiVersion = reader.string("apiVersion", in: top, required: true), apiVersion != "v1" {
            reader.report(top.path.key("apiVersion"), top.value("apiVersion"), "\(displayQuoted(apiVersion)) is not v1, the version of Secret")
        }
        let type = reader.string("type", in: top)

        let metadata = reader.mapping("metadata", in: top, allowed: nil, required: true)
        let name = metadata.flatMap { reader.string("name", in: $0, required: true) }
        let namespace = metadata.flatMap { reader.string("namespace", in: $0) }
        let labels = metadata.flatMap { reader.mapping("labels", in: $0, allowed: nil, required: false) }
        let annotations = metadata.flatMap { reader.mapping("annotations", in: $0, allowed: nil, required: false) }
        let managedBy = labels.flatMap { reader.string(SecretManifest.managedByLabel, in: $0) }
        let roleAnnotation = annotations.flatMap { reader.string(SecretManifest.roleKey, in: $0) }
        let databaseAnnotation = annotations.flatMap { reader.string(SecretManifest.databaseKey, in: $0) }
        var rotatedAt: Date?
        if let annotations, let written = reader.string(SecretManifest.rotatedAtAnnotation, in: annotations) {
            rotatedAt = SecretManifest.parseTimestamp(written)
            if rotatedAt == nil {
                reader.report(annotations.path.key(SecretManifest.rotatedAtAnnotation), annotations.value(SecretManifest.rotatedAtAnnotation),
                              "\(displayQuoted(written)) is not an RFC 3339 time such as 2026-11-29T12:00:00Z")
            }
        }

        // data, then stringData over it; each value remembers where it came
        // from so that a later problem points at the right line.
        var values: [String: (value: String, path: YAMLPath, node: Node)] = [:]
        var unreadable: Set<String> = []
        if let data = reader.mapping("data", in: top, allowed: nil, required: false) {
            for (key, node) in data.entries.sorted(by: { $0.key < $1.key }) {
                let path = data.path.key(key)
                guard case let .scalar(scalar) = node, !node.isNull else {
                    reader.report(path, node, "expected a base64 string, found \(node.isNull ? "no value" : "a \(node.isMapping ? "mapping" : "list")")")
                    unreadable.insert(key)
                    continue
                }
                guard let bytes = Data(base64Encoded: scalar.string) else {
                    reader.report(path, node, "not valid base64")
                    unreadable.insert(key)
                    continue
                }
                guard let text = String(bytes: bytes, encoding: .utf8) else {
                    reader.report(path, node, "the decoded value is not UTF-8 text")
                    unreadable.insert(key)
                    continue
                }
                values[key] = (text, path, node)
            }
        }
        if let stringData = reader.mapping("stringData", in: top, allowed: nil, required: false) {
            for (key, node) in stringData.entries {
                let path = stringData.path.key(key)
                guard case let .scalar(scalar) = node, !node.isNull else {
                    reader.report(path, node, "expected a string, found \(node.isNull ? "no value" : "a \(node.isMapping ? "mapping" : "list")")")
                    unreadable.insert(key)
                    continue
                }
                values[key] = (scalar.string, path, node)
            }
        }
        if !top.contains("data"), !top.contains("stringData") {
            reader.report(top.path.key("data"), root, "missing; the Secret holds no credentials")
        }

        func required(_ key: String) -> String? {
            if let value = values[key] { return value.value }
            if !unreadable.contains(key), top.contains("data") || top.contains("stringData") {
                reader.report(YAMLPath.root.key("data").key(key), top.value("data") ?? top.value("stringData") ?? root,
                              "missing; the Secret has no \(key)")
            }
            return nil
        }
        let username = required("username")
        let password = required("password")
        var port: Int?
        if let written = values["port"] {
            port = Int(written.value)
            if port == nil || !(1...65535).contains(port!) {
                reader.report(written.path, written.node, "\(displayQuoted(written.value)) is not a TCP port")
                port = nil
            }
        }
        let sslmode = values["uri"].flatMap { sslmodeParameter(ofURI: $0.value) }

        guard let name, let username, let password else { return nil }
        return SecretManifest.Parsed(
            name: name, namespace: namespace, type: type, username: username, password: password,
            host: values["host"]?.value, port: port, dbname: values["dbname"]?.value, sslmode: sslmode,
            rotatedAt: rotatedAt, isManagedByPgcellar: managedBy == SecretManifest.managerName,
            roleAnnotation: roleAnnotation, databaseAnnotation: databaseAnnotation
        )
    }

    /// The `sslmode` query parameter of a `postgresql://` URI.
    static func sslmodeParameter(ofURI uri: String) -> String? {
        guard let question = uri.firstIndex(of: "?") else { return nil }
        for parameter in uri[uri.index(after: question)...].split(separator: "&") {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == "sslmode" {
                return ConnectionStringEscaping.percentDecoded(parts[1])
            }
        }
        return nil
    }
}

extension Node {
    fileprivate var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
