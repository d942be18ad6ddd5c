import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Proves an archive restorable: restores it into a scratch database,
/// compares what came out with what the archive holds (rows by digest and
/// count, the schema by the exporter's own catalog reader), and drops the
/// scratch database again.
///
/// ```swift
/// var options = DrillOptions(server: .pgcellar("host=db dbname=postgres"))
/// options.jobs = 4
/// let report = try Driller(options: options, logger: logger).run(archivePath: "shop.sql.zst")
/// report.passed
/// ```
public struct Driller: Sendable {
    public var options: DrillOptions
    public var logger: Logger
    /// Told about the scratch database before the restore creates it, so
    /// that a signal can drop it (``ScratchDatabase/interrupt(waitingUpTo:)``; see `DrillCommand`).
    public var scratchCreated: (@Sendable (ScratchDatabase) -> Void)?
    /// Runs between the restore and the comparison, with a connection to
    /// the scratch database: tests change a row or drop an index here to
    /// show the comparison catches it.
    public var beforeComparison: (@Sendable (Connection) throws -> Void)?

    public init(options: DrillOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Runs the drill.
    ///
    /// - Returns: The report; ``DrillReport/passed`` is false when anything
    ///   differs or the restore failed. The scratch database is dropped in
    ///   every case unless ``DrillOptions/keep``.
    /// - Throws: ``DrillError`` or the underlying error when the drill cannot
    ///   start: an unreadable archive, no connection, roles missing under
    ///   ``DrillOptions/requireRoles``, a name already taken.
    public func run(archivePath: String) throws -> DrillReport {
        try run(source: try FileDescriptorInput(path: archivePath), name: archivePath)
    }

    /// Runs the drill on an archive read through any random-access source:
    /// a decrypting view of an age file, a backup in a repository.
    ///
    /// - Parameter name: How the archive is named in the report and messages
    ///   (a path, `repo:latest`).
    public func run(source: any RandomAccessSource, name archivePath: String) throws -> DrillReport {
        let started = Date()
        let archive = try ArchiveReader(source: source)
        let header = archive.header
        if header.options.dataOnly {
            throw DrillError("\(archivePath) holds rows only (exported with --data-only): a drill restores into a new database and needs the schema; drill a full export")
        }
        let maintenance = try options.server.connect(logger: logger)
        let endpoint = "\(maintenance.user)@\(maintenance.host):\(maintenance.port)"
        let scratchName = options.name ?? ScratchName.make(source: header.database.name)
        let missing: [String]
        let missingTablespaces: [String]
        do {
            defer { maintenance.close() }
            if let problem = ScratchName.problem(scratchName, source: header.database.name) { throw DrillError(problem) }
            if try maintenance.query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [scratchName]).rowCount > 0 {
                throw DrillError("database \(scratchName) already exists on \(endpoint); a drill restores into a new database (choose another --name)")
            }
            missing = try Self.missingRoles(header.roles.map(\.name), on: maintenance)
            missingTablespaces = try Restorer.missingTablespaces(header.tablespaces ?? [], on: maintenance)
        }
        if !missing.isEmpty && options.requireRoles {
            throw DrillError("the archive references roles that do not exist on \(endpoint): \(missing.joined(separator: ", ")); the drill cannot restore ownership and privileges as they were (create the roles there, or drill without --require-roles to restore without owners and privileges)")
        }

        var report = DrillReport(archive: archivePath, sourceDatabase: header.database.name, snapshotTakenAt: header.snapshotTakenAt,
                                 server: endpoint, scratchDatabase: scratchName)
        report.rolesMissing = missing
        if !missing.isEmpty {
            logger.warning("roles \(missing.joined(separator: ", ")) do not exist on \(endpoint): restoring without owners and privileges (--require-roles refuses instead)")
        }
        report.tablespacesMissing = missingTablespaces
        if !missingTablespaces.isEmpty {
            logger.warning("tablespaces \(missingTablespaces.joined(separator: ", ")) do not exist on \(endpoint): restoring with --no-tablespaces, everything in the scratch database's default tablespace")
        }
        let scratch = ScratchDatabase(server: options.server, logger: logger)
        scratchCreated?(scratch)
        let scratchTarget = options.server.with(database: scratchName)

        func phase(_ name: String, _ body: () throws -> Void) rethrows {
            let start = Date()
            defer { report.phases.append(.init(name: name, seconds: Date().timeIntervalSince(start))) }
            try body()
        }

        do {
            try phase("restore") {
                var restoreOptions = RestoreOptions(target: scratchTarget)
                restoreOptions.create = true
                restoreOptions.jobs = options.jobs
                // The drill drops what it made itself, by OID, also on failure.
                restoreOptions.keepOnError = true
                restoreOptions.noOwner = !missing.isEmpty
                restoreOptions.noPrivileges = !missing.isEmpty
                restoreOptions.noTablespaces = !missingTablespaces.isEmpty
                var restorer = Restorer(options: restoreOptions, logger: logger)
                restorer.databaseCreated = { scratch.created($0) }
                scratch.restoreStarting()
                logger.info("restoring \(archivePath) into scratch database \(scratchName) on \(endpoint)")
                _ = try restorer.restore(from: .randomAccess(source))
            }
            report.scratchOID = scratch.created?.oid
            let connection = try scratchTarget.connect(logger: logger)
            defer { connection.close() }
            try beforeComparison?(connection)
            try phase("data") {
                try DataProof(header: header, entries: archive.entries, logger: logger)
                    .run(target: scratchTarget, main: connection, jobs: options.jobs, into: &report)
                try LargeObjectProof(archive: archive, logger: logger).run(on: connection, into: &report)
            }
            try phase("schema") {
                try SchemaProof(header: header, archive: archive, ignoreOwnership: !missing.isEmpty,
                            ignoreTablespaces: !missingTablespaces.isEmpty, scratchName: scratchName, logger: logger)
                    .run(on: connection, into: &report)
            }
        } catch {
            report.failure = "\(error)"
        }
        report.scratchOID = report.scratchOID ?? scratch.created?.oid
        if options.keep {
            report.scratchDropped = false
            if scratch.created != nil { logger.info("keeping scratch database \(scratchName) as asked (--keep)") }
        } else {
            phase("cleanup") {
                do {
                    try scratch.drop()
                    report.scratchDropped = scratch.isDropped || scratch.created == nil
                } catch {
                    report.failure = (report.failure.map { $0 + "; " } ?? "") + "dropping scratch database \(scratchName) failed (drop it by hand): \(error)"
                }
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// The names in `roles` that no role on the server has.
    static func missingRoles(_ roles: [String], on connection: Connection) throws -> [String] {
        guard !roles.isEmpty else { return [] }
        return try connection.query(
            "SELECT name FROM unnest($1::text[]) AS name WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) ORDER BY 1",
            [textArrayParameter(roles)]
        ).rows.compactMap { $0["name"] }
    }

    // MARK: - Probe

    /// What ``probe(server:logger:)`` found.
    public struct Probe: Sendable {
        public var server: String
    }

    /// Proves that a drill can run on `server` before anything is changed:
    /// the connection works and may create a database (a probe database
    /// is created and dropped).
    ///
    /// - Throws: ``DrillError`` saying what the drill connection lacks.
    public static func probe(server: ConnectionTarget, logger: Logger) throws -> Probe {
        let connection: Connection
        do {
            connection = try server.connect(logger: logger)
        } catch {
            throw DrillError("the drill connection does not work: \(error)")
        }
        defer { connection.close() }
        let endpoint = "\(connection.user)@\(connection.host):\(connection.port)"
        let name = "pgcellar_drill_probe_" + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        let quoted = try connection.escapeIdentifier(name)
        do {
            // template0, as the restore's --create: nobody is connected to it
            // (CREATE DATABASE fails while a session uses its template).
            try connection.execute("CREATE DATABASE \(quoted) TEMPLATE template0")
        } catch let error as PostgresError where error.code.rawValue == "42501" {
            throw DrillError("the drill connection \(endpoint) may not create databases (\(error.message)); a drill restores into a database of its own: grant CREATEDB to \(connection.user), use --drill-dsn for another server, or --no-drill")
        } catch let error as PostgresError {
            throw DrillError("the drill connection \(endpoint) cannot create a probe database: \(error.message)")
        }
        try connection.execute("DROP DATABASE IF EXISTS \(quoted)")
        return Probe(server: endpoint)
    }
}
