import Cellar
import Foundation
import Testing

/// docs/secret-manifests.md shows a Secret manifest as pgcellar writes it;
/// the example must be what the renderer makes of the values it names.
@Suite("docs/secret-manifests.md")
struct SecretManifestDocsTests {
    @Test("the example manifest is byte for byte what pgcellar renders")
    func exampleIsTheRendering() throws {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/secret-manifests.md").path
        let document = try String(contentsOfFile: path, encoding: .utf8)
        let heading = try #require(document.range(of: "## The file"))
        let start = try #require(document[heading.upperBound...].range(of: "```yaml\n"))
        let end = try #require(document[start.upperBound...].range(of: "```"))
        let example = String(document[start.upperBound..<end.lowerBound])

        let rotatedAt = try #require(SecretManifest.parseTimestamp("2026-11-29T16:00:03Z"))
        let manifest = SecretManifest(
            role: "beersystem_admin", password: "Example-password-0123456789-abcdefghijklmno",
            host: "postgres-rw.postgres.svc.cluster.local", port: 5432, dbname: "beersystem_stage",
            sslmode: "require", name: "beersystem-stage-admin", namespace: "beersystem", rotatedAt: rotatedAt)
        #expect(example == manifest.render())
        let parsed = try SecretManifest.parse(yaml: example, source: "docs/secret-manifests.md")
        #expect(parsed.manifest == manifest)
    }
}
