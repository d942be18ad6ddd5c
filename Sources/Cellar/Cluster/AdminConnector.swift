import Foundation
import Logging
import PostgresClient

/// Opens the admin connection: `--admin-dsn` when given, else the
/// configuration's `cluster` section, with libpq filling in the rest
/// (`PG*` variables, `~/.pgpass`, service files). The password never comes
/// from pgcellar's own arguments.
public struct AdminConnector: Sendable {
    public var dsn: String?
    public var cluster: ClusterConfig
    public var sslRootCert: String?

    public init(config: PgcellarConfig, dsn: String?) {
        self.dsn = dsn
        self.cluster = config.cluster
        self.sslRootCert = config.resolvedSSLRootCert
    }

    /// Connects to `database`, or to the maintenance database when nil.
    public func connect(database: String? = nil, logger: Logger) throws -> Connection {
        if let dsn {
            var overrides: [(String, String)] = []
            if let database {
                overrides.append(("dbname", database))
            } else if (try? ConnectionInfo(dsn))?.database == nil {
                overrides.append(("dbname", cluster.dbname))
            }
            return try Connection(dsn, overrides: overrides, logger: logger)
        }
        var overrides: [(String, String)] = [
            ("host", cluster.host), ("port", String(cluster.port)), ("user", cluster.user),
            ("sslmode", cluster.sslmode), ("dbname", database ?? cluster.dbname),
        ]
        if let sslRootCert { overrides.append(("sslrootcert", sslRootCert)) }
        return try Connection("", overrides: overrides, logger: logger)
    }
}

/// A session-level advisory lock that serializes pgcellar runs on one
/// object. Held until released or until the session ends — so it also waits
/// out the server session of a run that was killed mid-way.
public enum AdvisoryLock {
    /// "pgce": the first key, so pgcellar's locks do not collide with an application's.
    static let classID: Int32 = 0x7067_6365

    public static func acquire(_ connection: Connection, scope: String, logger: Logger) throws {
        let tried = try connection.query("SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS locked",
                                         [String(classID), scope]).first?.bool("locked")
        if tried == true { return }
        logger.info("waiting for another pgcellar run on \(scope) to finish")
        try connection.execute("SELECT pg_advisory_lock($1::int4, hashtext($2))", [String(classID), scope])
    }

    public static func release(_ connection: Connection, scope: String) {
        _ = try? connection.execute("SELECT pg_advisory_unlock($1::int4, hashtext($2))", [String(classID), scope])
    }
}
