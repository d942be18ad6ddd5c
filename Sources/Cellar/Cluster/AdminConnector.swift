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
        logger.info("waiting for another pgcellar run on \(scope) to finish\(holder(connection, scope: scope).map { " (\($0))" } ?? "")")
        try connection.execute("SELECT pg_advisory_lock($1::int4, hashtext($2))", [String(classID), scope])
    }

    /// Who holds the lock, as pg_stat_activity tells it; nil when that
    /// cannot be read (another role's session shows no details).
    static func holder(_ connection: Connection, scope: String) -> String? {
        // > pg_locks: a two-key advisory lock shows its first key in classid,
        // > its second in objid, and objsubid 2.
        guard let row = try? connection.query("""
            SELECT l.pid::text AS pid, coalesce(a.usename::text, '?') AS role, coalesce(a.application_name, '') AS application,
                   coalesce(pg_catalog.to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?') AS since
              FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
               AND l.classid = $1::int4::oid AND l.objid = pg_catalog.hashtext($2)::oid
            """, [String(classID), scope]).first else { return nil }
        let application = row["application"].flatMap { $0.isEmpty ? nil : ", \($0)" } ?? ""
        return "held by pid \(row["pid"] ?? "?") as \(row["role"] ?? "?")\(application), connected since \(row["since"] ?? "?")"
    }

    public static func release(_ connection: Connection, scope: String) {
        _ = try? connection.execute("SELECT pg_advisory_unlock($1::int4, hashtext($2))", [String(classID), scope])
    }
}

/// The one lock that provision, rotate and destroy take for a database: a
/// session-level advisory lock keyed by the database's name, always on the
/// maintenance database (`cluster.dbname`, `postgres` unless configured),
/// whatever database `--admin-dsn` names, so that every run sees every
/// other. It has a connection of its own, so it lasts exactly as long as
/// the run: a killed run's lock ends with its session.
public final class DatabaseLock {
    private let connection: Connection
    private var released = false
    public let database: String

    /// The lock's scope: `database:<name>`.
    public static func scope(_ database: String) -> String { "database:\(database)" }

    /// Waits for the lock on `database` (logging who holds it while waiting).
    public init(database: String, connector: AdminConnector, maintenanceDatabase: String, logger: Logger) throws {
        self.database = database
        connection = try connector.connect(database: maintenanceDatabase, logger: logger)
        do {
            try AdvisoryLock.acquire(connection, scope: Self.scope(database), logger: logger)
        } catch {
            connection.close()
            throw error
        }
    }

    /// Releases the lock and closes its connection.
    public func release() {
        guard !released else { return }
        released = true
        AdvisoryLock.release(connection, scope: Self.scope(database))
        connection.close()
    }

    deinit { release() }
}
