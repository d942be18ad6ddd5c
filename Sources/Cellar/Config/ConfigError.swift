import Foundation

/// One problem found in a YAML file: where it is and what is wrong.
public struct YAMLIssue: Sendable, Equatable, CustomStringConvertible {
    /// The key path of the offending value, as `roles[0].secret.name`; empty
    /// for a problem with the document as a whole (a syntax error).
    public var keyPath: String
    /// 1-based line and column (columns count Unicode scalars, as libyaml does).
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(keyPath: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.keyPath = keyPath
        self.line = line
        self.column = column
        self.message = message
    }

    /// `roles[0].profile: "admin" is not one of owner, readwrite, readonly (line 12)`,
    /// or `line 3, column 7: …` for a problem without a key path.
    public var description: String {
        if keyPath.isEmpty {
            guard let line else { return message }
            let at = column.map { "line \(line), column \($0)" } ?? "line \(line)"
            return "\(at): \(message)"
        }
        guard let line else { return "\(keyPath): \(message)" }
        return "\(keyPath): \(message) (line \(line))"
    }
}

/// Everything wrong with a configuration file, found before anything connects.
///
/// The description has one line per issue, each starting with the file:
/// `config/beersystem-stage.yaml: roles[0].profile: "admin" is not one of owner, readwrite, readonly (line 12)`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The file, as the user named it.
    public var source: String
    /// In document order; never empty.
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
