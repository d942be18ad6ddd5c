import Foundation
import Testing

/// PostgresClient is a libpq wrapper any program could use: the words a
/// person sees (advice, `fallback_application_name`) come from the caller.
/// pgcellar's Cellar layer supplies its own; this library must not know it.
@Suite("PostgresClient knows nothing of pgcellar")
struct IndependenceTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/PostgresClient")

    /// Words that belong to pgcellar, its scripts, its options and its files.
    static let forbidden = ["pgcellar", "scripts/test.sh", "--admin-dsn", "--dbname", "Secret manifest", "docs/"]

    @Test("no source file of PostgresClient mentions pgcellar, its scripts, options or docs")
    func noPgcellarWords() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        #expect(files.count >= 5, "found the sources: \(files.map(\.lastPathComponent))")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8).lowercased()
            for word in Self.forbidden where text.contains(word.lowercased()) {
                Issue.record("Sources/PostgresClient/\(file.lastPathComponent) mentions \"\(word)\"; pass it in from the Cellar layer instead")
            }
        }
    }
}
