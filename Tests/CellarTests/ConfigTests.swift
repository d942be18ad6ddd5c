import Foundation
import Testing
@testable import Cellar

// MARK: - Helpers

/// The repository's root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A valid configuration in which one line can be replaced, so that each test
/// shows only what it is about.
private func configYAML(
    cluster: String = """
    cluster:
      host: db.example
      user: postgres
    """,
    database: String = """
    database:
      name: app_stage
      owner: app_admin
    """,
    roles: String = """
    roles:
      - name: app_admin
        profile: owner
        secret:
          name: app-stage-admin
          namespace: app
          file: deploy/app-stage-admin.secret.yaml
    """,
    extra: String = ""
) -> String {
    [cluster, database, roles, extra].joined(separator: "\n") + "\n"
}

private func parse(_ yaml: String, source: String = "config/test.yaml") throws -> PgcellarConfig {
    try PgcellarConfig.parse(yaml: yaml, source: source)
}

/// The error that parsing `yaml` throws; records a failure when it succeeds.
private func configError(_ yaml: String, source: String = "config/test.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        let config = try PgcellarConfig.parse(yaml: yaml, source: source)
        Issue.record("expected a ConfigError, got \(config)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The description line of the issue at `keyPath`.
private func line(_ error: ConfigError?, _ keyPath: String) -> String? {
    error?.description.split(separator: "\n").map(String.init).first { $0.hasPrefix("config/test.yaml: \(keyPath): ") }
}

// MARK: - The seed file

@Suite("Configuration: the seed file")
struct SeedConfigTests {
    @Test("config/beersystem-stage.yaml loads to the data model's values")
    func seedFileLoads() throws {
        let path = repositoryRoot.appendingPathComponent("config/beersystem-stage.yaml").path
        let config = try PgcellarConfig.load(path: path)
        let configDirectory = repositoryRoot.appendingPathComponent("config").path

        #expect(config == PgcellarConfig(
            cluster: ClusterConfig(
                host: "postgres-rw.postgres.svc.cluster.local", port: 5432, user: "postgres",
                sslmode: "require", dbname: "postgres", sslrootcert: nil
            ),
            database: DatabaseConfig(
                name: "beersystem_stage", owner: "beersystem_admin", encoding: "UTF8", locale: "en_US.UTF-8",
                template: "template0", connectionLimit: -1, extensions: []
            ),
            roles: [
                RoleConfig(
                    name: "beersystem_admin", login: true, profile: .owner, connectionLimit: nil,
                    secret: SecretConfig(
                        name: "beersystem-stage-admin", namespace: "beersystem",
                        file: "deploy/beersystem-stage-admin.secret.yaml"
                    )
                ),
            ],
            rotation: nil,
            source: path,
            baseDirectory: configDirectory
        ))
        #expect(config.ownerRole?.name == "beersystem_admin")
        #expect(config.resolvedSecretPath(for: config.roles[0]) == configDirectory + "/deploy/beersystem-stage-admin.secret.yaml")
        #expect(config.effectiveRotation == RotationConfig(passwordLength: 43, alphabet: RotationConfig.unreservedAlphabet, validFor: nil))
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        #expect {
            try PgcellarConfig.load(path: "/nonexistent/pgcellar.yaml")
        } throws: { error in
            "\(error)" == "/nonexistent/pgcellar.yaml: cannot read the configuration: no such file"
        }
    }
}

// MARK: - Values and defaults

@Suite("Configuration: values")
struct ConfigValueTests {
    @Test("omitted keys take their defaults")
    func defaults() throws {
        let config = try parse(configYAML())
        #expect(config.cluster == ClusterConfig(host: "db.example", port: 5432, user: "postgres", sslmode: "require", dbname: "postgres"))
        #expect(config.database == DatabaseConfig(name: "app_stage", owner: "app_admin", encoding: "UTF8", locale: nil,
                                                  template: "template0", connectionLimit: -1, extensions: []))
        #expect(config.roles[0].login)
        #expect(config.roles[0].connectionLimit == nil)
        #expect(config.rotation == nil)
        #expect(config.baseDirectory == "config")
    }

    @Test("every key, written out")
    func everyKey() throws {
        let config = try parse(configYAML(
            cluster: """
            cluster:
              host: db.example
              port: 6432
              user: admin
              sslmode: verify-full
              dbname: maintenance
              sslrootcert: certs/ca.crt
            """,
            database: """
            database:
              name: app_stage
              owner: app_admin
              encoding: LATIN1
              locale: C
              template: template1
              connectionLimit: 20
              extensions: [uuid-ossp, pgcrypto]
            """,
            roles: """
            roles:
              - name: app_admin
                login: false
                profile: owner
                connectionLimit: 5
              - name: app_user
                profile: readonly
                secret:
                  name: app-user
                  namespace: app
                  file: /etc/secrets/app-user.yaml
                  host: pooler.example
                  port: 5433
                  sslmode: verify-ca
            """,
            extra: """
            rotation:
              passwordLength: 64
              alphabet: "abcdefghijklmnopqrstuvwxyz0123456789"
              validFor: 30d
            """
        ))
        #expect(config.cluster == ClusterConfig(host: "db.example", port: 6432, user: "admin", sslmode: "verify-full",
                                                dbname: "maintenance", sslrootcert: "certs/ca.crt"))
        #expect(config.resolvedSSLRootCert == "config/certs/ca.crt")
        #expect(config.database == DatabaseConfig(name: "app_stage", owner: "app_admin", encoding: "LATIN1", locale: "C",
                                                  template: "template1", connectionLimit: 20, extensions: ["uuid-ossp", "pgcrypto"]))
        #expect(config.roles == [
            RoleConfig(name: "app_admin", login: false, profile: .owner, connectionLimit: 5, secret: nil),
            RoleConfig(name: "app_user", login: true, profile: .readonly, connectionLimit: nil, secret: SecretConfig(
                name: "app-user", namespace: "app", file: "/etc/secrets/app-user.yaml",
                host: "pooler.example", port: 5433, sslmode: "verify-ca"
            )),
        ])
        #expect(config.resolvedSecretPath(for: config.roles[1]) == "/etc/secrets/app-user.yaml")
        #expect(config.resolvedSecretPath(for: config.roles[0]) == nil)
        #expect(config.rotation == RotationConfig(passwordLength: 64, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", validFor: 30 * 86_400))
    }

    @Test("names that need quoting in SQL are valid", arguments: [
        "BeerSystem_Admin", "beer admin", "beer\"admin", "beer'admin", "bière_admin", "select",
    ])
    func awkwardNames(name: String) throws {
        let yamlName = "\"" + name.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        let config = try parse(configYAML(
            database: """
            database:
              name: \(yamlName)
              owner: \(yamlName)
            """,
            roles: """
            roles:
              - name: \(yamlName)
                profile: owner
                secret: {name: app-admin, namespace: app, file: admin.yaml}
            """
        ))
        #expect(config.roles[0].name == name)
        #expect(config.database.name == name)
        #expect(config.database.owner == name)
    }

    @Test("a 63-byte identifier is valid")
    func longestIdentifier() throws {
        let name = String(repeating: "a", count: 61) + "é"  // 61 + 2 bytes
        let config = try parse(configYAML(database: """
        database:
          name: \(name)
          owner: app_admin
        """))
        #expect(config.database.name.utf8.count == 63)
    }

    @Test("encodings are accepted as PostgreSQL spells them and normalized", arguments: [
        ("utf8", "UTF8"), ("UTF-8", "UTF8"), ("Unicode", "UTF8"), ("latin1", "LATIN1"), ("ISO-8859-1", "LATIN1"),
        ("win1252", "WIN1252"), ("Windows-1252", "WIN1252"), ("sql_ascii", "SQL_ASCII"), ("euc_jp", "EUC_JP"),
    ])
    func encodings(written: String, canonical: String) throws {
        let config = try parse(configYAML(database: """
        database:
          name: app_stage
          owner: app_admin
          encoding: \(written)
          locale: C
        """))
        #expect(config.database.encoding == canonical)
    }

    @Test("relative secret paths resolve against the configuration's directory")
    func secretPaths() throws {
        let yaml = configYAML()
        #expect(try PgcellarConfig.parse(yaml: yaml, source: "config/test.yaml").resolvedSecretPath(for: parse(yaml).roles[0])
            == "config/deploy/app-stage-admin.secret.yaml")
        #expect(try PgcellarConfig.parse(yaml: yaml, source: "test.yaml").resolvedSecretPath(for: parse(yaml).roles[0])
            == "deploy/app-stage-admin.secret.yaml")
        #expect(try PgcellarConfig.parse(yaml: yaml, source: "/etc/pgcellar/test.yaml").resolvedSecretPath(for: parse(yaml).roles[0])
            == "/etc/pgcellar/deploy/app-stage-admin.secret.yaml")
        #expect(try PgcellarConfig.parse(yaml: yaml, source: "<stdin>", baseDirectory: "/srv").resolvedPath("./x.yaml") == "/srv/x.yaml")
    }
}

// MARK: - Errors

@Suite("Configuration: errors name the file and the key")
struct ConfigErrorTests {
    @Test("an unknown top-level key")
    func unknownTopLevelKey() {
        let error = configError(configYAML(extra: "databse:\n  name: x\n"))
        let message = line(error, "databse")
        #expect(message?.contains("unknown key (did you mean \"database\"?)") == true, "\(String(describing: error))")
        #expect(message?.contains("the file takes cluster, database, roles, rotation and repository") == true)
        #expect(message?.hasSuffix("(line 14)") == true)
    }

    @Test("unknown keys in nested sections")
    func unknownNestedKeys() {
        let error = configError(configYAML(
            database: """
            database:
              name: app_stage
              owner: app_admin
              connection_limit: 5
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret:
                  nmae: app-stage-admin
                  name: app-stage-admin
                  namespace: app
                  file: deploy/app-stage-admin.secret.yaml
            """
        ))
        #expect(line(error, "database.connection_limit")?.contains("unknown key (did you mean \"connectionLimit\"?)") == true,
                "\(String(describing: error))")
        #expect(line(error, "roles[0].secret.nmae")?.contains("unknown key (did you mean \"name\"?); roles[0].secret takes name, namespace, file, host, port and sslmode") == true)
        #expect(error?.issues.count == 2)
    }

    @Test("wrong types, YAML's quirks included")
    func wrongTypes() {
        let error = configError(configYAML(
            cluster: """
            cluster:
              host: db.example
              port: "abc"
              user: postgres
            """,
            database: """
            database:
              name: app_stage
              owner: app_admin
              connectionLimit: "5"
              extensions: uuid-ossp
            """,
            roles: """
            roles:
              - name: app_admin
                login: yes
                profile: owner
                secret: deploy/admin.yaml
            """
        ))
        #expect(line(error, "cluster.port") == "config/test.yaml: cluster.port: expected an integer, found the string \"abc\" (remove the quotes) (line 3)")
        #expect(line(error, "database.connectionLimit")?.contains("expected an integer, found the string \"5\"") == true)
        #expect(line(error, "database.extensions")?.contains("expected a list, found \"uuid-ossp\"") == true)
        #expect(line(error, "roles[0].login")?.contains("expected true or false, found \"yes\"") == true)
        #expect(line(error, "roles[0].secret")?.contains("expected a mapping with keys name, namespace, file, host, port and sslmode, found \"deploy/admin.yaml\"") == true)
        #expect(error?.issues.count == 5, "\(String(describing: error))")
    }

    @Test("unquoted values that are not integers", arguments: ["abc", "5432.0", "0x1538", "[5432]", "{a: 1}", "true"])
    func notAnInteger(value: String) {
        let error = configError(configYAML(cluster: """
        cluster:
          host: db.example
          port: \(value)
          user: postgres
        """))
        #expect(line(error, "cluster.port")?.contains("expected an integer") == true, "\(String(describing: error))")
    }

    @Test("an optional key without a value takes its default")
    func nullValue() throws {
        let config = try parse(configYAML(cluster: """
        cluster:
          host: db.example
          port: ~
          sslmode:
          user: postgres
        """))
        #expect(config.cluster.port == 5432)
        #expect(config.cluster.sslmode == "require")
    }

    @Test("a section of the wrong kind")
    func sectionOfWrongKind() {
        let error = configError(configYAML(cluster: "cluster: [db.example]", roles: "roles:\n  name: app_admin\n"))
        #expect(line(error, "cluster")?.contains("expected a mapping with keys host, port, user, sslmode, dbname and sslrootcert, found a list") == true,
                "\(String(describing: error))")
        #expect(line(error, "roles")?.contains("expected a list, found a mapping") == true)
    }

    @Test("missing required keys")
    func missingKeys() {
        let error = configError("""
        cluster:
          port: 5432
        database:
          name:
        roles: []
        """)
        #expect(line(error, "cluster.host")?.contains("missing required key") == true, "\(String(describing: error))")
        #expect(line(error, "cluster.user")?.contains("missing required key") == true)
        #expect(line(error, "database.name")?.contains("missing value") == true)
        #expect(line(error, "database.owner")?.contains("missing required key") == true)

        let empty = configError("")
        #expect(empty?.description == "config/test.yaml: the file is empty; it needs cluster, database and roles")

        let noSections = configError("rotation: {}\n")
        #expect(line(noSections, "cluster")?.contains("missing required key") == true)
        #expect(line(noSections, "database")?.contains("missing required key") == true)
        #expect(line(noSections, "roles")?.contains("missing required key") == true)
    }

    @Test("empty names")
    func emptyNames() {
        let error = configError(configYAML(
            database: """
            database:
              name: ""
              owner: app_admin
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret: {name: app-admin, namespace: app, file: a.yaml}
              - name: ''
                profile: readonly
                secret: {name: "", namespace: app, file: b.yaml}
            """
        ))
        #expect(line(error, "database.name")?.contains("must not be empty") == true, "\(String(describing: error))")
        #expect(line(error, "roles[1].name")?.contains("must not be empty") == true)
        #expect(line(error, "roles[1].secret.name")?.contains("must not be empty") == true)
    }

    @Test("identifiers longer than 63 bytes, counted in UTF-8")
    func longIdentifiers() {
        let ascii = String(repeating: "a", count: 64)
        let multibyte = String(repeating: "é", count: 32)  // 32 characters, 64 bytes
        #expect(multibyte.count <= 63 && multibyte.utf8.count == 64)
        let error = configError(configYAML(
            database: """
            database:
              name: \(ascii)
              owner: app_admin
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret: {name: app-admin, namespace: app, file: a.yaml}
              - name: \(multibyte)
                profile: readonly
                login: false
            """
        ))
        #expect(line(error, "database.name") == "config/test.yaml: database.name: \"\(ascii)\" is 64 bytes long; PostgreSQL identifiers hold at most 63 bytes and longer ones are silently truncated (line 5)",
                "\(String(describing: error))")
        #expect(line(error, "roles[1].name")?.contains("is 64 bytes in UTF-8 (32 characters) long; PostgreSQL identifiers hold at most 63 bytes") == true)
    }

    @Test("database.owner must be one of the roles")
    func ownerNotInRoles() {
        let error = configError(configYAML(database: """
        database:
          name: app_stage
          owner: app_owner
        """))
        #expect(line(error, "database.owner") == "config/test.yaml: database.owner: \"app_owner\" is not among the roles (roles lists app_admin); add it to roles with profile: owner (line 6)",
                "\(String(describing: error))")
    }

    @Test("database.owner needs profile owner, and no other role may have it")
    func ownerProfile() {
        let error = configError(configYAML(roles: """
        roles:
          - name: app_admin
            profile: readwrite
            secret: {name: app-admin, namespace: app, file: a.yaml}
          - name: app_other
            profile: owner
            login: false
        """))
        #expect(line(error, "database.owner")?.contains("\"app_admin\" has profile readwrite in roles[0]; the database owner's role needs profile owner") == true,
                "\(String(describing: error))")
        #expect(line(error, "roles[1].profile")?.contains("only the database owner (database.owner: \"app_admin\") can have profile owner") == true)
    }

    @Test("a profile that does not exist")
    func badProfile() {
        let error = configError(configYAML(roles: """
        roles:
          - name: app_admin
            profile: admin
            secret: {name: app-admin, namespace: app, file: a.yaml}
        """))
        #expect(line(error, "roles[0].profile") == "config/test.yaml: roles[0].profile: \"admin\" is not one of owner, readwrite, readonly (line 9)",
                "\(String(describing: error))")
        // The owner check does not pile on: the profile's own error says it.
        #expect(error?.issues.count == 1)
    }

    @Test("sslmode values are libpq's")
    func badSSLMode() {
        let error = configError(configYAML(
            cluster: """
            cluster:
              host: db.example
              user: postgres
              sslmode: required
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret: {name: app-admin, namespace: app, file: a.yaml, sslmode: on}
            """
        ))
        #expect(line(error, "cluster.sslmode") == "config/test.yaml: cluster.sslmode: \"required\" is not one of disable, allow, prefer, require, verify-ca, verify-full (line 4)",
                "\(String(describing: error))")
        #expect(line(error, "roles[0].secret.sslmode")?.contains("\"on\" is not one of disable") == true)
    }

    @Test("a password key points to ~/.pgpass and never repeats the password")
    func passwordKey() {
        let error = configError(configYAML(
            cluster: """
            cluster:
              host: db.example
              user: postgres
              password: hunter2-secret
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                password: app-secret
                secret: {name: app-admin, namespace: app, file: a.yaml}
            """
        ))
        let message = line(error, "cluster.password")
        #expect(message?.contains("~/.pgpass, PGPASSFILE or PGPASSWORD") == true, "\(String(describing: error))")
        #expect(line(error, "roles[0].password")?.contains("pgcellar rotate") == true)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.description.contains("app-secret") == false)
    }

    @Test("a YAML syntax error gives its line and column")
    func syntaxError() {
        let error = configError("""
        cluster:
          host: db.example
          port: [5432
          user: postgres
        """)
        #expect(error?.issues.count == 1)
        let issue = error?.issues.first
        #expect(issue?.line == 4, "\(String(describing: error))")
        #expect(issue?.column != nil)
        #expect(error?.description.hasPrefix("config/test.yaml: line 4, column ") == true)
        #expect(error?.description.contains("YAML syntax error") == true)

        let tabs = configError("cluster:\n\thost: x\n")
        #expect(tabs?.description.hasPrefix("config/test.yaml: line 2, column 1: YAML syntax error") == true, "\(String(describing: tabs))")
    }

    @Test("duplicate keys")
    func duplicateKeys() {
        let error = configError(configYAML(cluster: """
        cluster:
          host: db.example
          user: postgres
          host: other.example
        """))
        // Yams 5 composes the mapping and pgcellar finds the duplicate; Yams 6
        // refuses it while composing. Either way the key and a line are named.
        let description = error?.description ?? ""
        #expect(description.contains("duplicate key"), "\(description)")
        #expect(description.contains("host"))
        #expect(error?.issues.first?.line != nil)
        #expect(!description.contains("other.example"))
    }

    @Test("duplicate roles, Secrets and Secret files")
    func duplicateRoles() {
        let error = configError(configYAML(
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret: {name: app-admin, namespace: app, file: a.yaml}
              - name: app_admin
                profile: readonly
                secret: {name: app-admin, namespace: app, file: a.yaml}
            """
        ))
        #expect(line(error, "roles[1].name")?.contains("\"app_admin\" is listed twice (also roles[0])") == true, "\(String(describing: error))")
        #expect(line(error, "roles[1].secret.name")?.contains("Secret app/app-admin is also used by roles[0]") == true)
        #expect(line(error, "roles[1].secret.file")?.contains("\"a.yaml\" is also written for roles[0]") == true)
    }

    @Test("login roles need a Secret; roles that cannot log in have none")
    func secretsAndLogin() {
        let error = configError(configYAML(roles: """
        roles:
          - name: app_admin
            profile: owner
          - name: app_reader
            login: false
            profile: readonly
            secret: {name: app-reader, namespace: app, file: r.yaml}
        """))
        #expect(line(error, "roles[0].secret")?.contains("missing; every login role needs a Secret") == true, "\(String(describing: error))")
        #expect(line(error, "roles[1].secret")?.contains("\"app_reader\" cannot log in (login: false)") == true)
    }

    @Test("impossible numbers")
    func ranges() {
        let error = configError(configYAML(
            cluster: """
            cluster:
              host: db.example
              port: 0
              user: postgres
            """,
            database: """
            database:
              name: app_stage
              owner: app_admin
              connectionLimit: -2
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                connectionLimit: -5
                secret: {name: app-admin, namespace: app, file: a.yaml, port: 70000}
            """
        ))
        #expect(line(error, "cluster.port")?.contains("0 is not a TCP port; use 1 to 65535") == true, "\(String(describing: error))")
        #expect(line(error, "database.connectionLimit")?.contains("-2 is not a connection limit") == true)
        #expect(line(error, "roles[0].connectionLimit")?.contains("-5 is not a connection limit") == true)
        #expect(line(error, "roles[0].secret.port")?.contains("70000 is not a TCP port") == true)
    }

    @Test("encodings PostgreSQL does not know, or cannot store")
    func badEncodings() {
        func encodingError(_ encoding: String, locale: String = "C") -> String? {
            let error = configError(configYAML(database: """
            database:
              name: app_stage
              owner: app_admin
              encoding: \(encoding)
              locale: \(locale)
            """))
            #expect(error?.issues.count == 1, "\(String(describing: error))")
            return error?.description
        }
        #expect(encodingError("klingon")?.contains("\"klingon\" is not a PostgreSQL encoding; use UTF8 or one of") == true)
        #expect(encodingError("SJIS")?.contains("\"SJIS\" is a client-only encoding") == true)
        #expect(encodingError("LATIN1", locale: "en_US.UTF-8")?.contains("\"en_US.UTF-8\" uses the UTF8 encoding but database.encoding is LATIN1") == true)
    }

    @Test("Kubernetes names follow DNS-1123")
    func kubernetesNames() {
        let error = configError(configYAML(roles: """
        roles:
          - name: app_admin
            profile: owner
            secret: {name: App_Admin, namespace: my.namespace, file: a.yaml}
        """))
        #expect(line(error, "roles[0].secret.name")?.contains("\"App_Admin\" is not a valid Kubernetes name") == true, "\(String(describing: error))")
        #expect(line(error, "roles[0].secret.namespace")?.contains("\"my.namespace\" is not a valid Kubernetes namespace") == true)
        let long = String(repeating: "a", count: 254)
        #expect(KubernetesName.subdomainProblem(long)?.contains("at most 253") == true)
        #expect(KubernetesName.subdomainProblem("beersystem-stage-admin") == nil)
        #expect(KubernetesName.labelProblem(String(repeating: "a", count: 64))?.contains("at most 63") == true)
    }

    @Test("names pgcellar must not manage")
    func dangerousNames() {
        let error = configError(configYAML(
            database: """
            database:
              name: postgres
              owner: app_admin
            """,
            roles: """
            roles:
              - name: app_admin
                profile: owner
                secret: {name: app-admin, namespace: app, file: a.yaml}
              - name: postgres
                profile: readonly
                login: false
              - name: pg_monitor
                profile: readonly
                login: false
            """
        ))
        #expect(line(error, "database.name")?.contains("is the maintenance database (cluster.dbname)") == true, "\(String(describing: error))")
        #expect(line(error, "roles[1].name")?.contains("is the admin connection's user (cluster.user)") == true)
        #expect(line(error, "roles[2].name")?.contains("reserved") == true)
    }

    @Test("rotation settings")
    func rotation() {
        let error = configError(configYAML(extra: """
        rotation:
          passwordLength: 8
          validFor: 90
        """))
        #expect(line(error, "rotation.passwordLength")?.contains("would carry only 48 bits") == true, "\(String(describing: error))")
        #expect(line(error, "rotation.validFor")?.contains("\"90\" is not a duration") == true)

        let alphabet = configError(configYAML(extra: "rotation:\n  alphabet: \"abc a\"\n"))
        #expect(line(alphabet, "rotation.alphabet")?.contains("contains \" \"") == true, "\(String(describing: alphabet))")
        let repeated = configError(configYAML(extra: "rotation:\n  alphabet: \"abcabc\"\n"))
        #expect(line(repeated, "rotation.alphabet")?.contains("contains \"a\" twice") == true)
    }

    @Test("every problem is reported at once, one per line, in file order")
    func allErrorsTogether() {
        let error = configError("""
        cluster:
          host: db.example
          user: postgres
          sslmode: strict
        database:
          name: app_stage
          owner: app_admin
          encoding: nope
        roles:
          - name: app_admin
            profile: admin
            secret: {name: app-admin, namespace: app, file: a.yaml}
        extra: true
        """)
        let lines = error?.description.split(separator: "\n").map(String.init) ?? []
        #expect(lines == [
            "config/test.yaml: cluster.sslmode: \"strict\" is not one of disable, allow, prefer, require, verify-ca, verify-full (line 4)",
            "config/test.yaml: database.encoding: \"nope\" is not a PostgreSQL encoding; use UTF8 or one of \(PostgresEncoding.serverEncodings.filter { $0 != "UTF8" }.joined(separator: ", ")) (line 8)",
            "config/test.yaml: roles[0].profile: \"admin\" is not one of owner, readwrite, readonly (line 11)",
            "config/test.yaml: extra: unknown key; the file takes cluster, database, roles, rotation and repository (line 13)",
        ], "\(String(describing: error))")
    }
}

// MARK: - Durations

@Suite("Durations")
struct DurationSpecTests {
    static let examples: [(String, TimeInterval)] = [
        ("30d", 2_592_000), ("12h", 43_200), ("45m", 2_700), ("90s", 90), ("2w", 1_209_600),
        ("1d12h", 129_600), ("1.5h", 5_400), (" 7d ", 604_800), ("0s", 0),
    ]

    @Test("units and combinations", arguments: examples)
    func parses(spec: String, seconds: TimeInterval) throws {
        #expect(try parseDurationSpec(spec) == seconds)
    }

    @Test("anything else is an error", arguments: ["", "30", "d", "-1d", "30x", "1M", "1y", "1d 2h", ".5h", "1..5h", "h1"])
    func rejects(spec: String) {
        #expect(throws: DurationSpecError(spec: spec)) { try parseDurationSpec(spec) }
    }

    @Test("the error says what is accepted")
    func message() {
        #expect(DurationSpecError(spec: "30x").description
            == "\"30x\" is not a duration; write a number and a unit (s, m, h, d or w), such as 90d, 12h, 45m or 1d12h")
    }
}
