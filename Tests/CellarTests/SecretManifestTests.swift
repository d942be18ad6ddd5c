import Foundation
import Testing
import Yams
@testable import Cellar

// MARK: - Helpers

/// 2026-11-29T12:00:00Z
private let rotationTime = Date(timeIntervalSince1970: 1_795_953_600)

private func manifest(
    role: String = "beersystem_admin",
    password: String = "s3cr3t-Pa55word~",
    host: String = "postgres-rw.postgres.svc.cluster.local",
    port: Int = 5432,
    dbname: String = "beersystem_stage",
    sslmode: String = "require"
) -> SecretManifest {
    SecretManifest(role: role, password: password, host: host, port: port, dbname: dbname, sslmode: sslmode,
                   name: "beersystem-stage-admin", namespace: "beersystem", rotatedAt: rotationTime)
}

/// The rendered manifest as a generic YAML value, as kubectl would read it.
private func loadYAML(_ text: String) throws -> [String: Any] {
    try #require(try Yams.load(yaml: text) as? [String: Any])
}

private func decodedData(_ document: [String: Any]) throws -> [String: String] {
    let data = try #require(document["data"] as? [String: Any])
    var decoded: [String: String] = [:]
    for (key, value) in data {
        let text = try #require(value as? String, "data.\(key) is not a string")
        let bytes = try #require(Data(base64Encoded: text), "data.\(key) is not base64")
        guard let decodedText = String(bytes: bytes, encoding: .utf8) else {
            Issue.record("data.\(key) is not UTF-8")
            continue
        }
        decoded[key] = decodedText
    }
    return decoded
}

private func manifestError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> SecretManifestError? {
    do {
        let parsed = try SecretManifest.parse(yaml: yaml, source: "deploy/app.secret.yaml")
        Issue.record("expected an error, got \(parsed)", sourceLocation: sourceLocation)
        return nil
    } catch let error as SecretManifestError {
        return error
    } catch {
        Issue.record("expected a SecretManifestError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - Rendering

@Suite("Secret manifests: rendering")
struct SecretManifestRenderTests {
    @Test("a Secret that kubectl and CloudNativePG's consumers read")
    func renderedShape() throws {
        let document = try loadYAML(manifest().render())
        #expect(document["apiVersion"] as? String == "v1")
        #expect(document["kind"] as? String == "Secret")
        #expect(document["type"] as? String == "kubernetes.io/basic-auth")

        let metadata = try #require(document["metadata"] as? [String: Any])
        #expect(metadata["name"] as? String == "beersystem-stage-admin")
        #expect(metadata["namespace"] as? String == "beersystem")
        let labels = try #require(metadata["labels"] as? [String: Any])
        #expect(labels["app.kubernetes.io/managed-by"] as? String == "pgcellar")
        #expect(labels["pgcellar.io/role"] as? String == "beersystem_admin")
        #expect(labels["pgcellar.io/database"] as? String == "beersystem_stage")
        let annotations = try #require(metadata["annotations"] as? [String: Any])
        // A string, not a timestamp that a YAML reader turns into a date.
        #expect(annotations["pgcellar.io/rotated-at"] as? String == "2026-11-29T12:00:00Z")
        #expect(annotations["pgcellar.io/role"] as? String == "beersystem_admin")
        #expect(annotations["pgcellar.io/database"] as? String == "beersystem_stage")

        let password = "s3cr3t-Pa55word~"
        #expect(try decodedData(document) == [
            "username": "beersystem_admin",
            "password": password,
            "host": "postgres-rw.postgres.svc.cluster.local",
            "port": "5432",
            "dbname": "beersystem_stage",
            "uri": "postgresql://beersystem_admin:\(password)@postgres-rw.postgres.svc.cluster.local:5432/beersystem_stage?sslmode=require",
            "jdbc-uri": "jdbc:postgresql://postgres-rw.postgres.svc.cluster.local:5432/beersystem_stage?user=beersystem_admin&password=\(password)&sslmode=require",
            "pgpass": "postgres-rw.postgres.svc.cluster.local:5432:beersystem_stage:beersystem_admin:\(password)\n",
        ])
    }

    @Test("every value is a quoted string; the text is the same every time")
    func deterministicQuotedText() throws {
        let text = manifest().render()
        #expect(text == manifest().render())
        let expectedHead = """
        apiVersion: v1
        kind: Secret
        type: kubernetes.io/basic-auth
        metadata:
          name: "beersystem-stage-admin"
          namespace: "beersystem"
          labels:
            app.kubernetes.io/managed-by: "pgcellar"
            pgcellar.io/database: "beersystem_stage"
            pgcellar.io/role: "beersystem_admin"
          annotations:
            pgcellar.io/database: "beersystem_stage"
            pgcellar.io/role: "beersystem_admin"
            pgcellar.io/rotated-at: "2026-11-29T12:00:00Z"
        data:
          dbname: "YmVlcnN5c3RlbV9zdGFnZQ=="
        """
        #expect(text.contains(expectedHead), "\(text)")
        #expect(text.contains("  port: \"NTQzMg==\"\n"))
        let dataKeys = text.components(separatedBy: "\ndata:\n")[1].split(separator: "\n").map { $0.split(separator: ":")[0].trimmingCharacters(in: .whitespaces) }
        #expect(dataKeys == ["dbname", "host", "jdbc-uri", "password", "pgpass", "port", "uri", "username"])
    }

    @Test("user and password are percent-encoded in uri and jdbc-uri")
    func percentEncoding() throws {
        let user = "app@user:/?#%"
        let password = "p@ss:w/o?r#d%é日"
        let secret = manifest(role: user, password: password, dbname: "beer db")
        let encodedUser = "app%40user%3A%2F%3F%23%25"
        let encodedPassword = "p%40ss%3Aw%2Fo%3Fr%23d%25%C3%A9%E6%97%A5"
        #expect(secret.uri == "postgresql://\(encodedUser):\(encodedPassword)@postgres-rw.postgres.svc.cluster.local:5432/beer%20db?sslmode=require")
        #expect(secret.jdbcURI == "jdbc:postgresql://postgres-rw.postgres.svc.cluster.local:5432/beer%20db?user=\(encodedUser)&password=\(encodedPassword)&sslmode=require")

        // What a URI parser makes of it is what went in.
        let components = try #require(URLComponents(string: secret.uri))
        #expect(components.user == user)
        #expect(components.password == password)
        #expect(components.port == 5432)
        #expect(ConnectionStringEscaping.percentDecoded(encodedPassword) == password)

        let data = try decodedData(loadYAML(secret.render()))
        #expect(data["uri"] == secret.uri)
        #expect(data["username"] == user)
        #expect(data["password"] == password)
    }

    @Test("unreserved characters are left alone, everything else is encoded")
    func unreservedSet() {
        #expect(ConnectionStringEscaping.percentEncoded(RotationConfig.unreservedAlphabet) == RotationConfig.unreservedAlphabet)
        #expect(ConnectionStringEscaping.percentEncoded(" !\"$&'()*+,;=[]") == "%20%21%22%24%26%27%28%29%2A%2B%2C%3B%3D%5B%5D")
    }

    @Test("pgpass escapes : and \\ as libpq reads them")
    func pgpassEscaping() {
        let secret = manifest(role: "a:b", password: #"p:w\d"#, host: "::1", dbname: #"x\y"#)
        #expect(secret.pgpassLine == #"\:\:1:5432:x\\y:a\:b:p\:w\\d"# + "\n")
        #expect(secret.uri.hasPrefix("postgresql://a%3Ab:p%3Aw%5Cd@[::1]:5432/x%5Cy?"))
    }

    @Test("role and database names that are not label values get no label, only the annotation")
    func labelValues() throws {
        let secret = manifest(role: "Beer \"Admin\"", dbname: String(repeating: "d", count: 64))
        let metadata = try #require(loadYAML(secret.render())["metadata"] as? [String: Any])
        let labels = try #require(metadata["labels"] as? [String: Any])
        #expect(labels["pgcellar.io/role"] == nil)
        #expect(labels["pgcellar.io/database"] == nil)
        #expect(labels["app.kubernetes.io/managed-by"] as? String == "pgcellar")
        let annotations = try #require(metadata["annotations"] as? [String: Any])
        #expect(annotations["pgcellar.io/role"] as? String == "Beer \"Admin\"")
    }

    @Test("the password never appears in a description")
    func redaction() throws {
        let password = "hunter2-do-not-print"
        let secret = manifest(password: password)
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, String(describing: secret), String(reflecting: secret), "\(secret)", dumped] {
            #expect(!text.contains(password), "\(text)")
        }
        #expect(secret.description.contains("beersystem/beersystem-stage-admin"))

        let parsed = try SecretManifest.parse(yaml: secret.render(), source: "x.yaml")
        var dumpedParsed = ""
        dump(parsed, to: &dumpedParsed)
        for text in [parsed.description, parsed.debugDescription, String(reflecting: parsed), dumpedParsed] {
            #expect(!text.contains(password), "\(text)")
        }
    }

    @Test("the Secret for a configured role takes the secret section's overrides")
    func fromConfig() throws {
        let config = try PgcellarConfig.parse(yaml: """
        cluster: {host: db.example, user: postgres, sslmode: verify-full}
        database: {name: app, owner: app_admin}
        roles:
          - name: app_admin
            profile: owner
            secret: {name: app-admin, namespace: apps, file: a.yaml, host: pooler.apps, port: 6432}
        """, source: "test.yaml")
        let secret = try #require(config.secretManifest(for: config.roles[0], password: "pw", rotatedAt: rotationTime))
        #expect(secret == SecretManifest(role: "app_admin", password: "pw", host: "pooler.apps", port: 6432, dbname: "app",
                                         sslmode: "verify-full", name: "app-admin", namespace: "apps", rotatedAt: rotationTime))
    }
}

// MARK: - Reading back

@Suite("Secret manifests: reading")
struct SecretManifestParseTests {
    @Test("render, then parse, gives the same manifest", arguments: [
        manifest(),
        manifest(role: "Beer \"Admin\"\n\u{2028}é", password: "p@ss:w/o?r#d%\\é日\"'", host: "::1", port: 1, dbname: "db:x", sslmode: "verify-full"),
        SecretManifest(role: "r", password: "p", host: "h", port: 65535, dbname: "d", sslmode: "disable",
                       name: "n", namespace: "ns", rotatedAt: Date(timeIntervalSince1970: 1_795_953_600.75)),
    ])
    func roundTrip(original: SecretManifest) throws {
        let parsed = try SecretManifest.parse(yaml: original.render(), source: "deploy/x.secret.yaml")
        #expect(parsed.manifest == original)
        #expect(parsed.password == original.password)
        #expect(parsed.username == original.role)
        #expect(parsed.rotatedAt == original.rotatedAt)
        #expect(parsed.type == "kubernetes.io/basic-auth")
        #expect(parsed.isManagedByPgcellar)
        #expect(parsed.roleAnnotation == original.role)
        #expect(parsed.databaseAnnotation == original.dbname)
    }

    @Test("stringData is read too, and wins over data")
    func stringData() throws {
        let parsed = try SecretManifest.parse(yaml: """
        apiVersion: v1
        kind: Secret
        metadata:
          name: app-admin
          creationTimestamp: null
        data:
          username: \(Data("old_user".utf8).base64EncodedString())
          password: \(Data("old".utf8).base64EncodedString())
        stringData:
          password: new
          port: "5433"
          uri: postgresql://old_user:new@db:5433/app?sslmode=verify-ca
        """, source: "x.yaml")
        #expect(parsed.username == "old_user")
        #expect(parsed.password == "new")
        #expect(parsed.port == 5433)
        #expect(parsed.sslmode == "verify-ca")
        #expect(parsed.namespace == nil)
        #expect(parsed.rotatedAt == nil)
        #expect(!parsed.isManagedByPgcellar)
        #expect(parsed.manifest == nil)
    }

    @Test("a missing file is no Secret yet, not an error")
    func missingFile() throws {
        #expect(try SecretManifest.load(path: "/nonexistent/app.secret.yaml") == nil)
    }

    @Test("a file that is written and read back")
    func loadFromFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgcellar-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("app.secret.yaml").path
        try manifest().render().write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try SecretManifest.load(path: path)?.manifest == manifest())
    }

    @Test("errors name the file and the key, never the values")
    func errors() {
        let badBase64 = manifestError("""
        apiVersion: v1
        kind: Secret
        metadata: {name: app}
        data:
          username: YXBw
          password: "not base64!"
        """)
        #expect(badBase64?.description == "deploy/app.secret.yaml: data.password: not valid base64 (line 6)")

        let wrongKind = manifestError("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app}
        stringData: {username: app, password: hunter2}
        """)
        #expect(wrongKind?.description == "deploy/app.secret.yaml: kind: \"ConfigMap\" is not a Secret (line 2)")

        let noPassword = manifestError("""
        apiVersion: v1
        kind: Secret
        metadata: {name: app}
        data: {username: YXBw}
        """)
        #expect(noPassword?.description == "deploy/app.secret.yaml: data.password: missing; the Secret has no password (line 4)")

        let badTime = manifestError("""
        apiVersion: v1
        kind: Secret
        metadata:
          name: app
          annotations:
            pgcellar.io/rotated-at: yesterday
        stringData: {username: app, password: hunter2, port: "54321x"}
        """)
        #expect(badTime?.issues.map(\.description) == [
            "metadata.annotations.\"pgcellar.io/rotated-at\": \"yesterday\" is not an RFC 3339 time such as 2026-11-29T12:00:00Z (line 6)",
            "stringData.port: \"54321x\" is not a TCP port (line 7)",
        ])
        #expect(badTime?.description.contains("hunter2") == false)

        let syntax = manifestError("apiVersion: v1\nkind: [Secret\n")
        #expect(syntax?.issues.first?.line != nil)
        #expect(syntax?.description.hasPrefix("deploy/app.secret.yaml: line ") == true)
    }
}
