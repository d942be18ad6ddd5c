import Foundation
import Logging
import PostgresClient

/// Where admin connections go: `--admin-dsn` when given, else the
/// configuration's `cluster` section (``PgcellarConfig/clusterTarget``), with
/// libpq filling in the rest (`PG*` variables, `~/.pgpass`, service files).
/// The password never comes from pgcellar's own arguments.
public struct AdminConnector: Sendable {
    /// The admin target, to the maintenance database unless `--admin-dsn`
    /// names another.
    public let target: ConnectionTarget

    /// - Parameter dsn: `--admin-dsn`: a conninfo string, URI or database
    ///   name; when it names no database, the configuration's `cluster.dbname`.
    public init(config: PgcellarConfig, dsn: String?) {
        guard let dsn else {
            target = config.clusterTarget
            return
        }
        let given = ConnectionTarget.pgcellar(dsn)
        target = given.database == nil ? given.with(database: config.cluster.dbname) : given
    }

    /// Connects to `database`, or to the target's database when nil.
    public func connect(database: String? = nil, logger: Logger) throws -> Connection {
        try (database.map(target.with(database:)) ?? target).connect(logger: logger)
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
