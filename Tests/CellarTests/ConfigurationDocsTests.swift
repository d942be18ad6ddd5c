import Foundation
import Testing
@testable import Cellar

/// docs/configuration.md is the design of record for the configuration file:
/// every key the reader accepts is described there, and its example loads.
@Suite("docs/configuration.md")
struct ConfigurationDocsTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/configuration.md").path

    static func document() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Every key path the reader accepts, written as the document writes them.
    static let keyPaths: [String] = {
        func under(_ prefix: String, _ keys: [String]) -> [String] { keys.map { prefix + $0 } }
        return ConfigBuilder.topLevelKeys
            + under("cluster.", ConfigBuilder.clusterKeys)
            + under("database.", ConfigBuilder.databaseKeys)
            + under("roles[].", ConfigBuilder.roleKeys)
            + under("roles[].secret.", ConfigBuilder.secretKeys)
            + under("rotation.", ConfigBuilder.rotationKeys)
            + under("repository.", RepositoryConfigReader.keys)
            + under("repository.s3.", RepositoryConfigReader.s3Keys)
            + under("repository.keep.", RepositoryConfigReader.keepKeys)
            + under("repository.encryption.", RepositoryConfigReader.encryptionKeys)
    }()

    @Test("every key the configuration reader accepts is described", arguments: keyPaths)
    func keyIsDocumented(_ keyPath: String) throws {
        let document = try Self.document()
        #expect(document.contains("`\(keyPath)`"), "docs/configuration.md does not describe \(keyPath)")
    }

    @Test("the complete example loads, with every section and the documented defaults for what it leaves out")
    func exampleLoads() throws {
        let document = try Self.document()
        let heading = try #require(document.range(of: "## A complete example"))
        let rest = document[heading.upperBound...]
        let start = try #require(rest.range(of: "```yaml\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        let yaml = String(rest[start.upperBound..<end.lowerBound])
        let config = try PgcellarConfig.parse(yaml: yaml, source: "docs/configuration.md", baseDirectory: "/etc/pgcellar")
        #expect(config.roles.map(\.name) == ["beersystem_admin", "beersystem_app", "beersystem_reporting"])
        #expect(config.roles[2].login == false && config.roles[2].secret == nil)
        #expect(config.roles[1].login, "login defaults to true")
        #expect(config.secretManifest(for: config.roles[1], password: "x", rotatedAt: Date())?.port == 6432)
        #expect(config.resolvedSSLRootCert == "/etc/pgcellar/ca.crt")
        #expect(config.effectiveRotation.validFor == TimeInterval(45 * 86_400))
        #expect(config.effectiveRotation.alphabet == RotationConfig.unreservedAlphabet)
        #expect(config.repository?.keep == RetentionPolicy(last: 3, daily: 7, weekly: 4, monthly: 12))
        #expect(config.repository?.encryption?.required == true)
    }
}
