import Cellar
import Foundation
import Logging
import PostgresClient

/// A configuration for the test cluster with names unique to one test, in a
/// directory of its own; `cleanUp()` drops what provisioning created.
struct ProvisionFixture {
    var directory: String
    var configPath: String
    var database: String
    var owner: String
    var readwrite: String
    var readonly: String

    init(prefix: String, database: String? = nil, owner: String? = nil, readwrite: String? = nil, readonly: String? = nil,
         locale: String = "en_US.UTF-8", extensions: [String] = [], clusterUser: String = "postgres") throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.database = database ?? "\(prefix)_\(tag)"
        self.owner = owner ?? "\(prefix)_admin_\(tag)"
        self.readwrite = readwrite ?? "\(prefix)_app_\(tag)"
        self.readonly = readonly ?? "\(prefix)_ro_\(tag)"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-\(prefix)-\(tag)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        configPath = directory + "/config.yaml"
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let yaml = """
            cluster:
              host: \(TestServer.host)
              port: \(TestServer.port)
              user: \(clusterUser)
              sslmode: require
            database:
              name: \(quoted(self.database))
              owner: \(quoted(self.owner))
              encoding: UTF8
              locale: \(locale)
              template: template0
              connectionLimit: -1
              extensions: [\(extensions.joined(separator: ", "))]
            roles:
              - name: \(quoted(self.owner))
                profile: owner
                secret: {name: owner-secret, namespace: test, file: deploy/owner.secret.yaml}
              - name: \(quoted(self.readwrite))
                profile: readwrite
                secret: {name: app-secret, namespace: test, file: deploy/app.secret.yaml}
              - name: \(quoted(self.readonly))
                profile: readonly
                secret: {name: ro-secret, namespace: test, file: deploy/ro.secret.yaml}

            """
        try yaml.write(toFile: configPath, atomically: false, encoding: .utf8)
    }

    func config() throws -> PgcellarConfig { try PgcellarConfig.load(path: configPath) }

    func provisioner(adminDSN: String? = nil) throws -> Provisioner {
        Provisioner(config: try config(), adminDSN: adminDSN, logger: Logger(label: "test.provision"))
    }

    func secretPath(_ role: String) -> String {
        switch role {
        case owner: directory + "/deploy/owner.secret.yaml"
        case readwrite: directory + "/deploy/app.secret.yaml"
        default: directory + "/deploy/ro.secret.yaml"
        }
    }

    func password(of role: String) throws -> String {
        guard let secret = try SecretManifest.load(path: secretPath(role)) else {
            throw ClientError("no Secret for \(role) at \(secretPath(role))")
        }
        return secret.password
    }

    /// Connects as `role` with the password from its Secret, over TLS.
    func connect(as role: String, database: String? = nil) throws -> Connection {
        try ConnectionTarget(TestServer.conninfo(user: role, database: database ?? self.database))
            .overriding("password", try password(of: role)).connect()
    }

    func cleanUp() {
        _ = try? TestServer.withConnection { admin in
            try admin.execute("DROP DATABASE IF EXISTS \(try admin.escapeIdentifier(database)) WITH (FORCE)")
            for role in [owner, readwrite, readonly] {
                try admin.execute("DROP ROLE IF EXISTS \(try admin.escapeIdentifier(role))")
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
