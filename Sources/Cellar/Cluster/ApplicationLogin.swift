import Logging
import PostgresClient

/// Logs in as a managed role the way its application does: the role's own
/// password, its database, its `sslmode`, and the configuration's CA.
/// Shared by `check`, which proves a role's privileges, and `rotate`, which
/// proves a new password before it replaces the Secret.
public enum ApplicationLogin {
    /// The sslmodes under which the application's connection must be encrypted.
    public static let tlsModes: Set<String> = ["require", "verify-ca", "verify-full"]

    public static func connect(role: String, password: String, host: String, port: String, database: String,
                               sslmode: String, config: PgcellarConfig, applicationName: String,
                               logger: Logger) throws -> Connection {
        var target = ConnectionTarget.pgcellar().overriding([
            "host": host, "port": port, "user": role, "dbname": database,
            "sslmode": sslmode, "password": password, "application_name": applicationName,
        ])
        if let root = config.resolvedSSLRootCert { target = target.overriding("sslrootcert", root) }
        return try target.connect(logger: logger)
    }

    /// True when `connection` is encrypted as `sslmode` demands.
    public static func usesTLSAsRequired(_ connection: Connection, sslmode: String) -> Bool {
        !tlsModes.contains(sslmode) || connection.usesTLS
    }
}
