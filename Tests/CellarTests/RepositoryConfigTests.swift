import Cellar
import Foundation
import Testing

private let base = """
    cluster: {host: db.example, user: postgres}
    database: {name: shop, owner: shop_admin}
    roles:
      - {name: shop_admin, profile: owner, secret: {name: s, namespace: n, file: s.yaml}}

    """
private let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

private func parse(_ repository: String) throws -> PgcellarConfig {
    try PgcellarConfig.parse(yaml: base + repository, source: "config/test.yaml")
}

private func issues(_ repository: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    do {
        _ = try parse(repository)
        Issue.record("expected a ConfigError", sourceLocation: sourceLocation)
        return []
    } catch let error as ConfigError {
        return error.description.split(separator: "\n").map(String.init)
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
        return []
    }
}

@Suite("Configuration: repository")
struct RepositoryConfigTests {
    @Test("no repository section: nil")
    func absent() throws {
        #expect(try parse("").repository == nil)
    }

    @Test("a directory with defaults")
    func path() throws {
        let config = try parse("repository:\n  path: backups\n")
        #expect(config.repository == RepositoryConfig(location: .path("backups")))
        #expect(config.repository?.sweepAfter == 86_400)
        #expect(config.resolvedPath("backups") == "config/backups")
    }

    @Test("the issue's example: s3, keep and encryption")
    func s3() throws {
        let config = try parse("""
            repository:
              s3: {endpoint: "https://minio.backup.svc:9000", bucket: pgcellar, prefix: beersystem/, region: us-east-1, forcePathStyle: true, caBundle: /etc/ca/ca.crt}
              keep: {last: 3, daily: 7, weekly: 4, monthly: 12}
              encryption: {recipients: ["\(recipient)"], required: true}
              sweepAfter: 12h

            """)
        #expect(config.repository == RepositoryConfig(
            location: .s3(S3Location(endpoint: "https://minio.backup.svc:9000", bucket: "pgcellar", prefix: "beersystem/",
                                     region: "us-east-1", forcePathStyle: true, caBundle: "/etc/ca/ca.crt")),
            keep: RetentionPolicy(last: 3, daily: 7, weekly: 4, monthly: 12),
            encryption: EncryptionConfig(recipients: [recipient], required: true),
            sweepAfter: 43_200))
    }

    @Test("where backups go: exactly one of path and s3")
    func location() {
        #expect(issues("repository:\n  keep: {last: 2}\n").contains { $0.hasPrefix("config/test.yaml: repository: needs path (a directory) or s3") })
        #expect(issues("repository:\n  path: /b\n  s3: {endpoint: \"https://x\", bucket: abc}\n")
            .contains { $0.contains("repository.s3: path and s3 both name the repository; give one") })
    }

    @Test("unknown keys are refused with a suggestion")
    func unknownKeys() {
        #expect(issues("repository:\n  path: /b\n  keep: {dayly: 3}\n").contains {
            $0.contains("repository.keep.dayly: unknown key (did you mean \"daily\"?)")
        })
        let typo = issues("repository:\n  paht: /b\n  keep: {dayly: 3}\n")
        #expect(!typo.contains { $0.contains("keeps no backup but the newest") }, "no follow-on error from the typo")
        #expect(typo.contains { $0.contains("repository.paht: unknown key (did you mean \"path\"?)") })
    }

    @Test("credentials and identities are refused where they do not belong")
    func secrets() {
        let s3 = issues("repository:\n  s3: {endpoint: \"https://x.example\", bucket: abc, secretAccessKey: hunter2}\n")
        #expect(s3.contains { $0.contains("repository.s3.secretAccessKey: credentials do not belong in the configuration file") })
        #expect(!s3.joined().contains("hunter2"), "the secret is never repeated")
        let identity = issues("repository:\n  path: /b\n  encryption: {recipients: [\"AGE-SECRET-KEY-1QQQ\"]}\n")
        #expect(identity.contains { $0.contains("repository.encryption.recipients[0]: this is an identity (a private key), not a recipient") })
    }

    @Test("bad values name the key and what to write")
    func badValues() {
        let found = issues("""
            repository:
              s3: {endpoint: "ftp://x", bucket: "Bad_Bucket", prefix: "/abs"}
              keep: {last: -1}
              encryption: {recipients: ["age1short"]}
              sweepAfter: 10s

            """)
        #expect(found.contains { $0.contains("repository.s3.endpoint: \"ftp://x\" is not an http(s):// URL") })
        #expect(found.contains { $0.contains("repository.s3.bucket: \"Bad_Bucket\" is not a bucket name") })
        #expect(found.contains { $0.contains("repository.s3.prefix: \"/abs\" must not start with /") })
        #expect(found.contains { $0.contains("repository.keep.last: -1 is negative") })
        #expect(found.contains { $0.contains("repository.encryption.recipients[0]: \"age1short\" is not an age X25519 recipient") })
        #expect(found.contains { $0.contains("repository.sweepAfter: must be at least 1m") })
    }

    @Test("keep that keeps nothing, and required encryption without recipients, are refused")
    func pointless() {
        #expect(issues("repository:\n  path: /b\n  keep: {last: 0}\n").contains { $0.contains("repository.keep: keeps no backup but the newest") })
        #expect(issues("repository:\n  path: /b\n  encryption: {required: true}\n").contains {
            $0.contains("repository.encryption.recipients: required: true with no recipients would refuse every backup")
        })
    }
}
