import Foundation

extension PgcellarConfig {
    /// The Secret manifest for `role` with a new password: the application's
    /// host, port and sslmode from the role's `secret` section where it names
    /// them, else from `cluster`; the database from `database.name`.
    /// - Returns: `nil` for a role without a Secret (one that cannot log in).
    public func secretManifest(for role: RoleConfig, password: String, rotatedAt: Date) -> SecretManifest? {
        guard let secret = role.secret else { return nil }
        return SecretManifest(
            role: role.name,
            password: password,
            host: secret.host ?? cluster.host,
            port: secret.port ?? cluster.port,
            dbname: database.name,
            sslmode: secret.sslmode ?? cluster.sslmode,
            name: secret.name,
            namespace: secret.namespace,
            rotatedAt: rotatedAt
        )
    }
}
