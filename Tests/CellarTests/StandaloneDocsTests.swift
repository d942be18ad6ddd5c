import Foundation
import Testing

/// The project stands alone (issue 12): its README and docs/ are the design of
/// record, and no link in them leads out of the repository, where a user of
/// the project has nothing (the first draft lived in ../shared/DESIGN.md).
@Suite("README and docs/ stand alone")
struct StandaloneDocsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md and every Markdown file in docs/, as (path from the root, text).
    static func documents() throws -> [(path: String, text: String)] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return try (["README.md"] + docs).map { path in
            (path, try String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8))
        }
    }

    /// The targets of `[text](target)` links, without their #fragment; web
    /// addresses left out.
    static func relativeLinks(in text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).compactMap { match in
            guard let found = Range(match.range(at: 1), in: text) else { return nil }
            let target = String(text[found])
            guard !target.contains("://"), !target.hasPrefix("mailto:"), !target.hasPrefix("#") else { return nil }
            return String(target.split(separator: "#", maxSplits: 1).first ?? "")
        }
    }

    @Test("the docs the README promises are there")
    func theDesignOfRecordIsInDocs() throws {
        let paths = try Self.documents().map(\.path)
        for required in ["docs/commands.md", "docs/configuration.md", "docs/archive-format.md", "docs/backups.md"] {
            #expect(paths.contains(required), "\(required) is missing")
        }
    }

    @Test("no link leads out of the repository, and every relative link finds its file")
    func everyLinkStaysInside() throws {
        let root = Self.packageRoot.standardizedFileURL.path
        var checked = 0
        for document in try Self.documents() {
            #expect(!document.text.contains("../shared"), "\(document.path) points at ../shared, outside the project")
            #expect(!document.text.contains("DESIGN.md"), "\(document.path) points at the first draft, DESIGN.md")
            let directory = Self.packageRoot.appendingPathComponent(document.path).deletingLastPathComponent()
            for link in Self.relativeLinks(in: document.text) where !link.isEmpty {
                let target = directory.appendingPathComponent(link).standardizedFileURL.path
                #expect(target.hasPrefix(root + "/"), "\(document.path) links to \(link), outside the project")
                #expect(FileManager.default.fileExists(atPath: target), "\(document.path) links to \(link), which does not exist")
                checked += 1
            }
        }
        #expect(checked > 5, "read only \(checked) links: the test reads the wrong files")
    }
}
