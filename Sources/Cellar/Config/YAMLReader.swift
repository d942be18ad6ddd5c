import Foundation
import Yams

// Codable's decoding errors name neither the file nor the line and read like
// stack traces ("typeMismatch(Swift.Int, Swift.DecodingError.Context(...))").
// pgcellar's files are read by walking the node tree that `Yams.compose`
// builds, which keeps every value's key path and position, so that each
// problem can be reported where the user will look for it, and all of them at once.

// MARK: - Key paths

/// Where a value sits in a document: `roles[0].secret.name`.
struct YAMLPath: CustomStringConvertible, Sendable {
    private(set) var description: String

    static let root = YAMLPath(description: "")

    func key(_ key: String) -> YAMLPath {
        let shown = key.unicodeScalars.allSatisfy(Self.isPlainKeyScalar) && !key.isEmpty ? key : displayQuoted(key)
        return YAMLPath(description: description.isEmpty ? shown : description + "." + shown)
    }

    func index(_ index: Int) -> YAMLPath {
        YAMLPath(description: description + "[\(index)]")
    }

    private static func isPlainKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-" || scalar == "/")
    }
}

/// `value` in double quotes, with quotes, backslashes and control characters
/// escaped, so that what a message shows is unambiguous.
func displayQuoted(_ value: String) -> String {
    var result = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            result += "\\u{\(String(scalar.value, radix: 16))}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

/// `a, b or c`.
func displayList(_ items: [String], conjunction: String = "or") -> String {
    switch items.count {
    case 0: return ""
    case 1: return items[0]
    default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items[items.count - 1]
    }
}

// MARK: - A mapping whose keys have been checked

/// The entries of one YAML mapping, after unknown and duplicate keys were reported.
struct YAMLMapping {
    let path: YAMLPath
    let node: Node
    /// The known keys present, with their nodes.
    private(set) var entries: [String: Node] = [:]

    init(path: YAMLPath, node: Node, entries: [String: Node]) {
        self.path = path
        self.node = node
        self.entries = entries
    }

    /// The value of `key`, or `nil` when the key is absent or its value is null
    /// (`key:`, `key: ~`, `key: null`): an optional key written without a value
    /// takes its default, as in Kubernetes manifests.
    func value(_ key: String) -> Node? {
        guard let node = entries[key], !node.isNull else { return nil }
        return node
    }

    /// Whether the key is written at all, even with a null value.
    func contains(_ key: String) -> Bool { entries[key] != nil }
}

extension Node {
    /// A plain `~`, `null`, empty value (YAML's null), not a quoted one.
    var isNull: Bool {
        guard case let .scalar(scalar) = self, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var isQuoted: Bool {
        guard case let .scalar(scalar) = self else { return false }
        return scalar.style == .singleQuoted || scalar.style == .doubleQuoted
    }

    /// What the node is, for "expected …, found …" messages. Never call this
    /// for a value that may be secret.
    var foundDescription: String {
        // Not a switch: Yams 6 adds a case (aliases) that Yams 5 does not have.
        if case .mapping = self { return "a mapping" }
        if case .sequence = self { return "a list" }
        guard case let .scalar(scalar) = self else { return "an alias" }
        if isNull { return "no value" }
        if isQuoted { return "the string \(displayQuoted(scalar.string))" }
        if scalar.style == .literal || scalar.style == .folded { return "a block string" }
        return displayQuoted(scalar.string)
    }
}

// MARK: - The reader

/// Reads typed values out of a node tree, collecting every problem it meets.
struct YAMLReader {
    private(set) var issues: [YAMLIssue] = []

    var hasIssues: Bool { !issues.isEmpty }

    /// The issues sorted by line, as a person reads the file; those without
    /// a line (the file as a whole) first.
    var issuesInDocumentOrder: [YAMLIssue] {
        issues.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
    }

    mutating func report(_ path: YAMLPath, _ node: Node?, _ message: String) {
        issues.append(YAMLIssue(keyPath: path.description, line: node?.mark?.line, column: node?.mark?.column, message: message))
    }

    /// Parses YAML text into its node tree, or reports the syntax error with
    /// its position.
    mutating func compose(_ yaml: String) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            issues.append(Self.issue(for: error))
            return nil
        } catch {
            issues.append(YAMLIssue(keyPath: "", message: "not valid YAML: \(error)"))
            return nil
        }
    }

    private static func issue(for error: YamlError) -> YAMLIssue {
        func issue(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> YAMLIssue {
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return YAMLIssue(keyPath: "", line: mark.line, column: mark.column, message: message)
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return issue(problem, context, mark)
        case let .reader(problem, offset, _, _):
            let at = offset.map { " at byte \($0)" } ?? ""
            return YAMLIssue(keyPath: "", message: "cannot read the YAML text\(at): \(problem)")
        default:
            // Yams 6 refuses duplicate keys while composing, with a case that
            // Yams 5 lacks (so it is read by reflection) and a context that
            // holds the whole document, which must not end up in a message.
            // With Yams 5 the walker reports duplicates, with their key path.
            guard let payload = Mirror(reflecting: error).children.first else {
                return YAMLIssue(keyPath: "", message: "not valid YAML: \(error)")
            }
            let fields = Mirror(reflecting: payload.value)
            if payload.label == "duplicatedKeysInMapping",
               let duplicates = fields.descendant("duplicates") as? [String],
               let context = fields.descendant("context") as? YamlError.Context {
                return YAMLIssue(keyPath: "", line: context.mark.line, column: context.mark.column,
                                 message: "duplicate key \(duplicates.map(displayQuoted).joined(separator: ", ")) in one mapping")
            }
            return YAMLIssue(keyPath: "", message: "not valid YAML (\(payload.label ?? "unknown error"))")
        }
    }

    // MARK: Containers

    /// Checks that `node` is a mapping whose keys are strings, each once and
    /// each one of `allowed`; reports the others.
    /// - Parameters:
    ///   - allowed: The keys the mapping may have; `nil` for any.
    ///   - forbidden: keys that are errors with a message of their own (a
    ///     `password` key tells where passwords belong instead).
    mutating func mapping(
        _ node: Node,
        at path: YAMLPath,
        allowed: [String]?,
        forbidden: [String: String] = [:]
    ) -> YAMLMapping? {
        guard case let .mapping(mapping) = node else {
            let keys = allowed.map { " with keys \(displayList($0, conjunction: "and"))" } ?? ""
            report(path, node, "expected a mapping\(keys), found \(node.foundDescription)")
            return nil
        }
        var entries: [String: Node] = [:]
        var seen: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case let .scalar(keyScalar) = keyNode else {
                report(path, keyNode, "keys must be strings, found \(keyNode.foundDescription) as a key")
                continue
            }
            let key = keyScalar.string
            let keyPath = path.key(key)
            if let first = seen[key] {
                let firstLine = first.mark.map { " (first at line \($0.line))" } ?? ""
                report(keyPath, keyNode, "duplicate key\(firstLine)")
                continue
            }
            seen[key] = keyNode
            if let message = forbidden[key] {
                report(keyPath, keyNode, message)
            } else if let allowed, !allowed.contains(key) {
                var message = "unknown key"
                if let suggestion = Self.suggestion(for: key, among: allowed) {
                    message += " (did you mean \(suggestion)?)"
                }
                let section = path.description.isEmpty ? "the file" : path.description
                message += "; \(section) takes \(displayList(allowed, conjunction: "and"))"
                report(keyPath, keyNode, message)
            } else {
                entries[key] = value
            }
        }
        return YAMLMapping(path: path, node: node, entries: entries)
    }

    /// The mapping under `key`, checked as ``mapping(_:at:allowed:forbidden:)`` does.
    mutating func mapping(
        _ key: String,
        in parent: YAMLMapping,
        allowed: [String]?,
        forbidden: [String: String] = [:],
        required: Bool
    ) -> YAMLMapping? {
        guard let node = present(key, in: parent, required: required) else { return nil }
        return mapping(node, at: parent.path.key(key), allowed: allowed, forbidden: forbidden)
    }

    /// The elements of the list under `key`.
    mutating func sequence(_ key: String, in parent: YAMLMapping, required: Bool) -> [Node]? {
        guard let node = present(key, in: parent, required: required) else { return nil }
        guard case let .sequence(sequence) = node else {
            report(parent.path.key(key), node, "expected a list, found \(node.foundDescription)")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// The text of the scalar under `key`, as written (YAML types are not
    /// applied: `namespace: 2024` is the string "2024").
    mutating func string(_ key: String, in parent: YAMLMapping, required: Bool = false) -> String? {
        guard let node = present(key, in: parent, required: required) else { return nil }
        return string(node, at: parent.path.key(key))
    }

    mutating func string(_ node: Node, at path: YAMLPath) -> String? {
        guard case let .scalar(scalar) = node, !node.isNull else {
            report(path, node, "expected a string, found \(node.foundDescription)")
            return nil
        }
        return scalar.string
    }

    /// A decimal integer written without quotes.
    mutating func int(_ key: String, in parent: YAMLMapping, required: Bool = false) -> Int? {
        guard let node = present(key, in: parent, required: required) else { return nil }
        let path = parent.path.key(key)
        guard case let .scalar(scalar) = node, !node.isQuoted else {
            let hint = node.isQuoted ? " (remove the quotes)" : ""
            report(path, node, "expected an integer, found \(node.foundDescription)\(hint)")
            return nil
        }
        let text = scalar.string
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            report(path, node, "expected an integer, found \(node.foundDescription)")
            return nil
        }
        guard let value = Int(text) else {
            report(path, node, "\(displayQuoted(text)) is too large")
            return nil
        }
        return value
    }

    /// `true` or `false`, unquoted. YAML 1.1's `yes`, `no`, `on` and `off` are
    /// refused: whether they are booleans depends on the reader.
    mutating func bool(_ key: String, in parent: YAMLMapping, required: Bool = false) -> Bool? {
        guard let node = present(key, in: parent, required: required) else { return nil }
        if case let .scalar(scalar) = node, !node.isQuoted {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        report(parent.path.key(key), node, "expected true or false, found \(node.foundDescription)")
        return nil
    }

    /// A list of strings; `[]` or an absent key is empty.
    mutating func stringList(_ key: String, in parent: YAMLMapping, required: Bool = false) -> [(value: String, node: Node)]? {
        guard let elements = sequence(key, in: parent, required: required) else { return nil }
        let path = parent.path.key(key)
        var result: [(String, Node)] = []
        for (index, element) in elements.enumerated() {
            if let value = string(element, at: path.index(index)) { result.append((value, element)) }
        }
        return result
    }

    // MARK: Helpers

    /// The node under `key`, reporting it as missing when it is required.
    private mutating func present(_ key: String, in parent: YAMLMapping, required: Bool) -> Node? {
        if let node = parent.value(key) { return node }
        if required {
            let written = parent.entries[key]
            report(parent.path.key(key), written ?? parent.node, written == nil ? "missing required key" : "missing value (the key is required)")
        }
        return nil
    }

    /// A key the user probably meant: same letters up to case, `_` and `-`
    /// (`connection_limit` for `connectionLimit`), or one or two typos away.
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        func folded(_ text: String) -> [Character] {
            Array(text.lowercased().filter { $0 != "_" && $0 != "-" })
        }
        let target = folded(key)
        var best: (key: String, distance: Int)?
        for candidate in allowed {
            let distance = editDistance(target, folded(candidate))
            if distance <= min(2, max(1, candidate.count / 3)), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best.map { displayQuoted($0.key) }
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit
    /// (`nmae` is one typo away from `name`).
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
