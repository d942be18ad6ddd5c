import PostgresClient

extension ConnectionTarget {
    /// A target as pgcellar connects: TLS required unless an sslmode is
    /// named (``ConnectionTarget``'s default), `pgcellar` in
    /// `pg_stat_activity` unless an `application_name` is set, and advice
    /// that names pgcellar's ways.
    ///
    /// - Parameter conninfo: a conninfo string, URI or database name (see
    ///   ``ConnectionTarget/init(_:overrides:)``), or "" for the `PG*` variables.
    public static func pgcellar(_ conninfo: String = "") -> ConnectionTarget {
        var target = ConnectionTarget(conninfo)
        target.fallbackApplicationName = "pgcellar"
        target.advice = [
            .authenticationFailed: "check the password: ~/.pgpass, PGPASSFILE, or the Secret written by the last rotation",
            .passwordMissing: "supply the password through ~/.pgpass, PGPASSFILE or PGPASSWORD, never on the command line",
            .tlsRequiredByDefault: "the server does not offer TLS; pgcellar requires it by default: add sslmode=disable (or prefer) to the DSN or set PGSSLMODE to connect without TLS knowingly",
        ]
        return target
    }
}

extension PgcellarConfig {
    /// The configuration's `cluster` section as a target: its host, port,
    /// user, sslmode (`require` unless the file says otherwise) and
    /// `sslrootcert`, to its maintenance database. libpq fills in the rest:
    /// the password from `~/.pgpass` or `PGPASSFILE`, never from the file.
    public var clusterTarget: ConnectionTarget {
        var target = ConnectionTarget.pgcellar().overriding([
            "host": cluster.host, "port": String(cluster.port), "user": cluster.user,
            "sslmode": cluster.sslmode, "dbname": cluster.dbname,
        ])
        if let sslRootCert = resolvedSSLRootCert { target = target.overriding("sslrootcert", sslRootCert) }
        target.advice[.tlsNotOffered] = "the server does not offer TLS, which cluster.sslmode=\(cluster.sslmode) in \(source) demands (require is its default): set cluster.sslmode to prefer or disable to connect without TLS knowingly"
        return target
    }
}
