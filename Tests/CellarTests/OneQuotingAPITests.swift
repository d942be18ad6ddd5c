import Foundation
import Testing

/// SQL is quoted in one place, PostgresClient (`SQLQuoting`,
/// `Connection.escapeIdentifier`/`escapeLiteral`, and `QualifiedName.sql`
/// on top of them): a second quoting helper once let a setting's value into
/// SQL unquoted. This reads the sources and fails when one comes back.
@Suite("One quoting API")
struct OneQuotingAPITests {
    /// Every Swift file under Sources/, outside PostgresClient, with its text.
    static func sourcesOutsidePostgresClient() throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: root.path])
        }
        var files: [(String, String)] = []
        for case let relative as String in walker where relative.hasSuffix(".swift") && !relative.hasPrefix("PostgresClient/") {
            files.append((relative, try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)))
        }
        return files
    }

    /// `path:line: text` of each line matching `pattern`, but for a line of
    /// a file in `allowed` that holds the text given for that file.
    static func matches(_ pattern: String, allowing allowed: [String: String] = [:]) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        var found: [String] = []
        for (path, text) in try sourcesOutsidePostgresClient() {
            for (number, line) in text.components(separatedBy: "\n").enumerated() {
                if let allowedText = allowed[path], line.contains(allowedText) { continue }
                let range = NSRange(line.startIndex..., in: line)
                if regex.firstMatch(in: line, range: range) != nil { found.append("\(path):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        return found
    }

    @Test("the sources are there to read")
    func sourcesFound() throws {
        let files = try Self.sourcesOutsidePostgresClient()
        #expect(files.contains { $0.path == "Cellar/Export/SchemaCatalog.swift" }, "the test reads the wrong folder")
    }

    @Test("no quoting helper outside PostgresClient (quoteIdent, sqlLiteral, escape...)")
    func noQuotingHelpers() throws {
        // Escaping that is not SQL: ~/.pgpass lines, Prometheus label values.
        let found = try Self.matches(#"func\s+(quote\w*|\w*[Ll]iteral\w*|\w*[Ee]scape\w*)\s*[<(]"#, allowing: [
            "Cellar/Kubernetes/ConnectionStrings.swift": "func pgpassEscaped(",
            "Cellar/Metrics/MetricsFile.swift": "static func escape(",
        ])
        #expect(found.isEmpty, "quote through PostgresClient's SQLQuoting or Connection instead:\n\(found.joined(separator: "\n"))")
    }

    @Test("no quotes doubled by hand outside PostgresClient")
    func noHandDoubledQuotes() throws {
        // QualifiedName.description quotes for messages, never for SQL.
        let found = try Self.matches(#"replacingOccurrences\(of: "(\\"|')", with: "(\\"\\"|'')"\)"#,
                                     allowing: ["Cellar/Support/QualifiedName.swift": "text.replacingOccurrences(of: \"\\\"\", with: \"\\\"\\\"\")"])
        #expect(found.isEmpty, "quote through PostgresClient's SQLQuoting or Connection instead:\n\(found.joined(separator: "\n"))")
    }

    @Test("no schema-qualified name built from two quoted parts: QualifiedName.sql or SQLQuoting.qualified")
    func noHandBuiltQualifiedNames() throws {
        let found = try Self.matches(#"(escapeIdentifier|identifier)\([^()]*\)\)\.\\\("#)
        #expect(found.isEmpty, "use QualifiedName.sql or SQLQuoting.qualified:\n\(found.joined(separator: "\n"))")
    }
}
