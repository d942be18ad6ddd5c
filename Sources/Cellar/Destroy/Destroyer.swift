import CellarSupport
import Foundation
import Logging
import PostgresClient

/// What a destroy run did.
public struct DestroyReport: Codable, Sendable {
    public var plan: DestroyPlan
    public var exportPath: String
    public var exportedTables: Int
    public var exportedRows: Int
    public var archiveBytes: UInt64
    public var databaseDropped: Bool
    public var rolesDropped: [String]
    public var rolesKept: [DestroyPlan.KeptRole]
    /// The source's `pg_database_size` before anything changed: the room the drill needed.
    public var sourceBytes: Int64?
    /// nil with `--no-drill`.
    public var drill: DrillReport?
}

/// Why a destroy stopped before dropping anything.
public struct DestroyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The drill ran and did not pass (for the audit line).
    public var drillFailed = false
    public init(_ message: String, drillFailed: Bool = false) {
        self.message = message
        self.drillFailed = drillFailed
    }
    public var description: String { message }
}

/// Drops a configured database and its managed roles — only after a
/// verified export, in an order that loses no write: stop new connections,
/// terminate sessions, export, verify, drop.
public struct Destroyer: Sendable {
    public var config: PgcellarConfig
    public var connector: AdminConnector
    public var logger: Logger
    /// Export settings.
    public var jobs = 2
    public var level = 3
    /// Skip the drill (`--no-drill`).
    public var skipDrill = false
    /// The server the drill restores on (`--drill-dsn`); nil for the admin
    /// connection's server.
    public var drillTarget: ConnectionTarget?

    /// The share of `pg_database_size` the export's filesystem must have
    /// free (`--export-room-ratio`); 0 skips that check. See ``ExportRoom``.
    public var exportRoomRatio = ExportRoom.defaultRatio
    /// Told about the run's ``DestroyGuard`` before anything changes, so
    /// that a signal handler can call ``DestroyGuard/interrupt()``.
    public var guardCreated: (@Sendable (DestroyGuard) -> Void)?

    public init(config: PgcellarConfig, adminDSN: String?, logger: Logger) {
        self.config = config
        self.connector = AdminConnector(config: config, dsn: adminDSN)
        self.logger = logger
    }

    var database: String { config.database.name }

    /// The drill's maintenance connection: `--drill-dsn`, else the admin
    /// connection's server, database `postgres`.
    var drillServer: ConnectionTarget { drillTarget ?? connector.target.with(database: "postgres") }

    /// The admin connection, never to the database being destroyed.
    func connectAdmin() throws -> Connection {
        let connection = try connector.connect(logger: logger)
        if connection.database == database {
            connection.close()
            return try connector.connect(database: config.cluster.dbname, logger: logger)
        }
        return connection
    }

    /// Waits for the lock that provision and rotate take for this database too.
    func lockDatabase() throws -> DatabaseLock {
        try DatabaseLock(database: database, connector: connector, maintenanceDatabase: config.cluster.dbname, logger: logger)
    }

    // MARK: - Run

    /// Destroys the database and the managed roles that nothing else needs.
    ///
    /// - Parameters:
    ///   - exportPath: Where the export goes (written atomically, 0600); the
    ///     journal goes beside it.
    ///   - resume: Finish the destroy whose journal is beside `exportPath`
    ///     (`--resume`); without it, a journal there stops the run.
    /// - Throws: ``DestroyError`` or the underlying error; when anything
    ///   fails before the drop, the journaled ACL and connections are put
    ///   back and nothing is dropped.
    public func run(exportTo exportPath: String, resume: Bool = false) throws -> DestroyReport {
        let lock = try lockDatabase()
        defer { lock.release() }
        let journalPath = DestroyJournal.path(forExport: exportPath)
        let found = try DestroyJournal.load(path: journalPath)
        if resume {
            guard let found else {
                throw DestroyError("--resume: there is no interrupted destroy to finish (no journal at \(journalPath)); without --resume, a destroy starts afresh")
            }
            try check(found, path: journalPath)
            for leftover in removeLeftoverTemporaryFiles(of: exportPath) {
                logger.info("removed \(leftover), the partial export of the interrupted run")
            }
        } else if let found {
            throw DestroyError(found.interruptedMessage(path: journalPath))
        }

        let admin = try connectAdmin()
        let destroyGuard = DestroyGuard(admin: admin, journalPath: journalPath, logger: logger) { [connector, config, logger] in
            try connector.connect(database: config.cluster.dbname, logger: logger)
        }
        defer { admin.close() }
        guardCreated?(destroyGuard)

        if let found, try DatabaseGate.current(oid: found.databaseOID, on: admin) == nil {
            return try finishDropped(found, journalPath: journalPath, exportPath: exportPath, admin: admin)
        }
        let plan = try plan(admin)

        // 0. Before anything changes: room for the export, and can the drill run?
        try ExportRoom.check(path: exportPath, databaseBytes: plan.databaseBytes, ratio: exportRoomRatio)
        if !skipDrill {
            let probe = try Driller.probe(server: drillServer, logger: logger)
            logger.info("the drill can run on \(probe.server); it needs room for about \(plan.databaseBytes) bytes (pg_database_size of \(database); PostgreSQL cannot report free disk)")
        } else {
            logger.warning("--no-drill: \(database) will be dropped without proving that its export restores")
        }
        guard var journal = try found ?? DatabaseGate.read(database: database, on: admin) else {
            throw DestroyError("database \(database) disappeared while the destroy was being planned")
        }
        if found == nil {
            guard journal.allowConnections else {
                throw DestroyError("database \(database) does not allow connections (ALLOW_CONNECTIONS false), so it cannot be exported; nothing was revoked. Run ALTER DATABASE ... ALLOW_CONNECTIONS true if it should be destroyed")
            }
            journal = DestroyJournal(database: journal.database, databaseOID: journal.databaseOID, owner: journal.owner,
                                     privileges: journal.privileges, effectivePrivileges: journal.effectivePrivileges,
                                     aclText: journal.aclText, allowConnections: true, exportPath: exportPath, startedAt: Date())
        }

        // 1. No new connections, then no sessions; 2. export, verify; 3. drill.
        let summary: ExportSummary
        let verification: ArchiveVerification
        var drill: DrillReport?
        do {
            try destroyGuard.close(journal, resuming: found != nil)
            try terminateSessions(destroyGuard)
            TestPause.reached("destroy-after-revoke")
            logger.info("exporting \(database) to \(exportPath)")
            summary = try export(to: exportPath, recording: journal, guard: destroyGuard)
            logger.info("verifying \(exportPath)")
            verification = try ArchiveVerifier.verify(path: exportPath)
            guard verification.rows == summary.rows, verification.header.database.name == database else {
                throw DestroyError("the export at \(exportPath) does not match what was exported (\(verification.rows) rows verified, \(summary.rows) exported)")
            }
            if !skipDrill { drill = try runDrill(exportPath, guard: destroyGuard) }
        } catch {
            throw failed(error, reopening: destroyGuard, at: "nothing was dropped")
        }

        // 4. Confirm nobody is left, drop the database, then the roles.
        do {
            TestPause.reached("destroy-before-drop")
            try destroyGuard.drop { admin in
                try confirmNoSessions(admin)
                logger.info("dropping database \(database)")
                try admin.execute("DROP DATABASE \(try admin.escapeIdentifier(database))")
            }
        } catch {
            throw failed(error, reopening: destroyGuard, at: "the export \(exportPath) is verified, but database \(database) was not dropped")
        }
        let (dropped, kept) = dropRoles(plan, guard: destroyGuard)
        return DestroyReport(plan: plan, exportPath: exportPath, exportedTables: summary.tables, exportedRows: verification.rows,
                             archiveBytes: verification.archiveBytes, databaseDropped: true, rolesDropped: dropped, rolesKept: kept,
                             sourceBytes: plan.databaseBytes, drill: drill)
    }

    /// The error a failed run throws, after putting the database back.
    private func failed(_ error: Error, reopening destroyGuard: DestroyGuard, at what: String) -> DestroyError {
        let drillFailed = (error as? DestroyError)?.drillFailed ?? false
        do {
            try destroyGuard.reopen()
        } catch let reopenError {
            return DestroyError("\(what), and \(database) is still closed: \(reopenError); the failure was: \(error)", drillFailed: drillFailed)
        }
        return DestroyError("\(what), and \(database) has its privileges and connections back: \(error)", drillFailed: drillFailed)
    }

    private func check(_ journal: DestroyJournal, path: String) throws {
        guard journal.database == database else {
            throw DestroyError("\(path) is the journal of a destroy of \(journal.database), not of \(database) (\(config.source)); use that configuration, or another --export-to")
        }
    }

    /// A resumed destroy whose database is already gone: drops the roles.
    private func finishDropped(_ journal: DestroyJournal, journalPath: String, exportPath: String, admin: Connection) throws -> DestroyReport {
        logger.info("database \(database) (OID \(journal.databaseOID)) was dropped by the interrupted run; dropping the roles")
        let plan = try plan(admin, databaseMustExist: false)
        try DestroyJournal.remove(path: journalPath)
        var dropped: [String] = []
        var kept = plan.rolesKept
        for role in plan.rolesToDrop {
            do {
                try admin.execute("DROP ROLE \(try admin.escapeIdentifier(role))")
                dropped.append(role)
            } catch {
                kept.append(.init(name: role, reasons: ["DROP ROLE failed: \(error)"]))
            }
        }
        let verification = try? ArchiveVerifier.verify(path: exportPath)
        return DestroyReport(plan: plan, exportPath: exportPath, exportedTables: verification?.tables ?? 0,
                             exportedRows: verification?.rows ?? 0, archiveBytes: verification?.archiveBytes ?? 0,
                             databaseDropped: true, rolesDropped: dropped, rolesKept: kept, sourceBytes: nil, drill: nil)
    }

    private func dropRoles(_ plan: DestroyPlan, guard destroyGuard: DestroyGuard) -> (dropped: [String], kept: [DestroyPlan.KeptRole]) {
        var dropped: [String] = []
        var kept = plan.rolesKept
        for role in plan.rolesToDrop {
            do {
                _ = try destroyGuard.withAdmin { admin in try admin.execute("DROP ROLE \(try admin.escapeIdentifier(role))") }
                dropped.append(role)
            } catch {
                kept.append(.init(name: role, reasons: ["DROP ROLE failed: \(error)"]))
            }
        }
        return (dropped, kept)
    }

    // MARK: - Abort

    /// Reopens the database an interrupted destroy left closed (`--abort`):
    /// the journal's ACL and `datallowconn` come back, the partial export
    /// and the journal go.
    ///
    /// - Returns: One line saying what was done.
    /// - Throws: ``DestroyError`` when there is no journal, it belongs to
    ///   another database, or the privileges cannot be restored (the
    ///   journal then stays).
    public func abort(exportTo exportPath: String) throws -> String {
        let lock = try lockDatabase()
        defer { lock.release() }
        let journalPath = DestroyJournal.path(forExport: exportPath)
        guard let journal = try DestroyJournal.load(path: journalPath) else {
            throw DestroyError("--abort: there is no interrupted destroy to abort (no journal at \(journalPath)); give the --export-to of the destroy that was interrupted")
        }
        try check(journal, path: journalPath)
        for leftover in removeLeftoverTemporaryFiles(of: exportPath) {
            logger.info("removed \(leftover), the partial export of the interrupted run")
        }
        let connection = try connector.connect(database: config.cluster.dbname, logger: logger)
        defer { connection.close() }
        let outcome = try DatabaseGate.reopen(journal, on: connection, logger: logger)
        try DestroyJournal.remove(path: journalPath)
        switch outcome {
        case .restored(let name):
            return "Reopened database \(name): its ACL is \(journal.aclText ?? "the default") again and it accepts connections as before; removed \(journalPath)."
        case .dropped:
            return "Database \(journal.database) (OID \(journal.databaseOID)) was already dropped by the interrupted destroy (its export is \(journal.exportPath)); removed \(journalPath). Its managed roles may remain: run pgcellar destroy again to see them."
        }
    }

    // MARK: - Steps

    private func terminateSessions(_ destroyGuard: DestroyGuard) throws {
        let deadline = Date().addingTimeInterval(15)
        while true {
            let sessions = try destroyGuard.withAdmin { admin in
                try admin.query("""
                    SELECT pid::text AS pid, coalesce(usename::text, '?') AS role,
                           pg_catalog.pg_terminate_backend(pid)::text AS terminated
                      FROM pg_catalog.pg_stat_activity
                     WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()
                    """, [database]).rows
            }
            if sessions.isEmpty { return }
            // A session that is just ending cannot be signalled either: only
            // give up when sessions outlast the deadline.
            let refused = sessions.filter { $0["terminated"] != "true" }
            let timeout: TimeInterval = refused.isEmpty ? 15 : 2
            guard Date() < deadline.addingTimeInterval(timeout - 15) else {
                let described = sessions.map { "pid \($0["pid"] ?? "?") as \($0["role"] ?? "?")" }.joined(separator: ", ")
                throw DestroyError(refused.isEmpty
                    ? "sessions on \(database) did not end after pg_terminate_backend (\(described))"
                    : "cannot terminate the sessions on \(database) (\(described)): the admin role needs membership in pg_signal_backend or in those roles")
            }
            logger.info("terminated \(sessions.count) session(s) on \(database)")
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// PostgreSQL keeps no record of past sessions: just before the drop,
    /// with `ALLOW_CONNECTIONS false`, no session may be left on the
    /// database but autovacuum's (which DROP DATABASE ends itself). The
    /// export's own sessions may take a moment to end after it closed them.
    func confirmNoSessions(_ admin: Connection) throws {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let sessions = try admin.query("""
                SELECT pid::text AS pid, coalesce(usename::text, '?') AS role, coalesce(application_name, '') AS application,
                       coalesce(client_addr::text, 'local') AS client, coalesce(pg_catalog.to_char(backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?') AS since
                  FROM pg_catalog.pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid() AND backend_type IS DISTINCT FROM 'autovacuum worker'
                """, [database]).rows
            if sessions.isEmpty { return }
            guard Date() < deadline else {
                let described = sessions.map {
                    "pid \($0["pid"] ?? "?") as \($0["role"] ?? "?") from \($0["client"] ?? "?")\(($0["application"] ?? "").isEmpty ? "" : " (\($0["application"]!))") since \($0["since"] ?? "?")"
                }.joined(separator: ", ")
                throw DestroyError("a session is on \(database) after the export (\(described)): it may have written what the export does not hold, so nothing is dropped. Find out who connected despite the revoke (a superuser or a member of the owner), then run the destroy again")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func export(to path: String, recording journal: DestroyJournal, guard destroyGuard: DestroyGuard) throws -> ExportSummary {
        // The admin target, to the database being destroyed: the export
        // connects as the admin, the only role CONNECT is left to.
        var options = ExportOptions(target: connector.target.with(database: database), jobs: jobs, level: level)
        options.recordedDatabasePrivileges = .some(journal.privileges)
        options.allConnectionsOpen = {
            try destroyGuard.disallowConnections()
            TestPause.reached("destroy-connections-disallowed")
        }
        let file = try AtomicFileWriter(path: path, mode: 0o600)
        destroyGuard.exporting(to: file.temporaryPath)
        do {
            let summary = try Exporter(options: options, logger: logger).run(to: file)
            try file.commit()
            destroyGuard.exporting(to: nil)
            return summary
        } catch {
            file.abort()
            destroyGuard.exporting(to: nil)
            throw error
        }
    }

    private func runDrill(_ exportPath: String, guard destroyGuard: DestroyGuard) throws -> DrillReport {
        // Roles required: ownership and privileges must restore too.
        var options = DrillOptions(server: drillServer)
        options.requireRoles = true
        options.jobs = jobs
        logger.info("drilling \(exportPath)")
        var driller = Driller(options: options, logger: logger)
        driller.scratchCreated = { destroyGuard.drilling($0) }
        let report: DrillReport
        do {
            report = try driller.run(archivePath: exportPath)
        } catch {
            throw DestroyError("the drill of \(exportPath) could not run: \(error)", drillFailed: true)
        }
        guard report.passed else {
            var lines = report.mismatches.map { "  mismatch: \($0)" }
            if let failure = report.failure { lines.append("  failed: \(failure)") }
            throw DestroyError("the drill of \(exportPath) did not match (\(report.mismatches.count) mismatches):\n" + lines.joined(separator: "\n"),
                               drillFailed: true)
        }
        return report
    }
}
