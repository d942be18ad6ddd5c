import ArgumentParser
import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// `pgcellar restore`: load an export into a database, in parallel and verified.
public struct RestoreCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a pgcellar export into a database, in parallel and verified.",
        discussion: """
        Before anything is written, a file's footer, header and table of contents are checked, the roles the export references must exist (unless --owner, --no-owner or --no-privileges make them unnecessary), and the target must hold no objects (unless --data-only). Pre-data runs on one connection; then table chunks load on -j connections (several on one large table), each chunk's SHA-256 and row count checked; indexes and constraints build as soon as their table is loaded, foreign keys last; then sequence values, materialized views and ANALYZE.

        From standard input (FILE -), entries are checked as they stream and the run fails on the first bad one. --create makes the database through the maintenance database `postgres` with the export's encoding, locale, settings and privileges, and drops it again if the restore fails (unless --keep-on-error). See docs/restore.md.
        """)

    @Argument(help: ArgumentHelp("The export file, - for standard input, or a backup: repo:latest, repo:<id>, repo:<database>@latest (with -c).", valueName: "FILE"))
    public var file: String

    @OptionGroup public var repositoryOptions: RepositoryReferenceOptions

    @Option(name: [.customShort("d"), .customLong("dbname")], help: ArgumentHelp(
        "The target database: a name (host, port and user from PG* variables, as pg_restore takes it), a libpq conninfo string or a postgresql:// URI. TLS is required unless it, PGSSLMODE or a service names an sslmode. No passwords here: use ~/.pgpass, PGPASSFILE or PGPASSWORD.",
        valueName: "DSN"))
    public var dbname: String

    @Flag(name: [.customShort("C"), .customLong("create")], help: "Create the database first (through the maintenance database postgres); fail if it exists.")
    public var create = false

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections loading data and building indexes at once.")
    public var jobs = 1

    @Option(name: .customLong("owner"), help: ArgumentHelp("Make ROLE own every restored object (and the database, with --create).", valueName: "ROLE"))
    public var owner: String?

    @Flag(name: [.customShort("O"), .customLong("no-owner")], help: "Do not restore ownership: objects belong to the role that restores them.")
    public var noOwner = false

    @Flag(name: [.customShort("x"), .customLong("no-privileges")], help: "Do not restore privileges (GRANT/REVOKE).")
    public var noPrivileges = false

    @Flag(name: .customLong("no-tablespaces"), help: "Ignore the archive's tablespace assignments: create everything in the target database's default tablespace.")
    public var noTablespaces = false

    @Flag(name: [.customShort("s"), .customLong("schema-only")], help: "Restore the schema, no rows.")
    public var schemaOnly = false

    @Flag(name: [.customShort("a"), .customLong("data-only")], help: "Restore rows and sequence values into an existing schema.")
    public var dataOnly = false

    @Option(name: [.customShort("t"), .customLong("table")], help: ArgumentHelp(
        "Restore only matching tables (schema.table; * and ? wildcards; repeatable): definition, rows, indexes, constraints but foreign keys, triggers.", valueName: "PATTERN"))
    public var tables: [String] = []

    @Option(name: [.customShort("n"), .customLong("schema")], help: ArgumentHelp("Restore only objects in this schema (repeatable).", valueName: "NAME"))
    public var schemas: [String] = []

    @Flag(name: .customLong("disable-triggers"), help: "With --data-only: load with session_replication_role = replica (superuser), so triggers and foreign keys do not fire.")
    public var disableTriggers = false

    @Flag(name: [.customShort("1"), .customLong("single-transaction")], help: "Restore in one transaction on one connection: all or nothing.")
    public var singleTransaction = false

    @Flag(name: .customLong("keep-on-error"), help: "With --create: keep the database when the restore fails (for inspection).")
    public var keepOnError = false

    @Option(name: .customLong("encoding"), help: "With --create: the database's encoding instead of the export's.")
    public var encoding: String?

    @Option(name: .customLong("locale"), help: "With --create: the database's collation and ctype instead of the export's.")
    public var locale: String?

    @OptionGroup public var outputOptions: OutputOptions

    @OptionGroup public var identity: IdentityOptions

    public init() {}

    var restoreOptions: RestoreOptions {
        var options = RestoreOptions(target: .pgcellar(dbname))
        options.create = create
        options.jobs = jobs
        options.owner = owner
        options.noOwner = noOwner
        options.noPrivileges = noPrivileges
        options.noTablespaces = noTablespaces
        options.schemaOnly = schemaOnly
        options.tables = tables
        options.schemas = schemas
        options.dataOnly = dataOnly
        options.singleTransaction = singleTransaction
        options.keepOnError = keepOnError
        options.disableTriggers = disableTriggers
        options.encoding = encoding
        options.locale = locale
        return options
    }

    public func validate() throws {
        try checkConnectionArgument(dbname, option: "--dbname")
        try repositoryOptions.check(file)
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
        if let problem = restoreOptions.problems.first { throw ValidationError(problem) }
        if keepOnError && !create { throw ValidationError("--keep-on-error applies only with --create (without it, nothing is dropped)") }
    }

    public func run() throws {
        outputOptions.bootstrapLogging()
        let logger = Logger(label: "pgcellar.restore")
        let progress: RestoreProgressObserver? = (!outputOptions.quiet && Diagnostics.stderrIsTerminal) ? RestoreTerminalProgress() : nil
        let options = restoreOptions
        var restorer = Restorer(options: options, logger: logger, progress: progress)
        let interrupt = RestoreInterruptCleanup(target: options.target, keep: keepOnError, logger: logger)
        defer { interrupt.cancel() }
        restorer.databaseCreated = { interrupt.created($0) }
        let summary: RestoreSummary
        do {
            let source: Restorer.Source
            switch try openArchiveInput(file, identity: identity, repository: repositoryOptions) {
            case .stream(let input): source = .stream(input)
            case .randomAccess(let input): source = .randomAccess(input)
            }
            summary = try restorer.restore(from: source)
            // From here a signal must not drop what was restored.
            interrupt.succeeded()
            TestPause.reached("restore-succeeded")
        } catch {
            if outputOptions.json {
                printJSON(["ok": false, "error": "\(error)"] as [String: Any])
            }
            Diagnostics.printError("pgcellar: error: \(error)")
            throw ExitCode.failure
        }
        if outputOptions.json {
            printJSON([
                "ok": true,
                "database": summary.database,
                "created": summary.created,
                "jobs": summary.jobs,
                "entries": summary.entries,
                "tables": summary.tables,
                "dataChunks": summary.dataChunks,
                "rows": summary.rows,
                "dataBytes": summary.dataBytes,
                "sequencesSet": summary.sequencesSet,
                "materializedViewsRefreshed": summary.materializedViewsRefreshed,
                "durationSeconds": (summary.seconds * 1000).rounded() / 1000,
                "phases": summary.phases.mapValues { ($0 * 1000).rounded() / 1000 },
            ] as [String: Any])
        } else if !outputOptions.quiet {
            Diagnostics.printError(String(
                format: "pgcellar: restored %@ into %@%@: %d tables, %d rows in %d chunks (all checksums and row counts match), %d sequences, %d materialized views, in %.1fs",
                file == "-" ? "stdin" : file, summary.database, summary.created ? " (created)" : "",
                summary.tables, summary.rows, summary.dataChunks, summary.sequencesSet,
                summary.materializedViewsRefreshed, summary.seconds))
        }
    }
}

/// Restore's progress: COPY bytes loaded against the archive's total (when
/// restoring from a file), rows and an ETA.
final class RestoreTerminalProgress: RestoreProgressObserver, Sendable {
    private let total = Locked<UInt64?>(nil)
    private let line = ProgressLine()

    func restoreStarted(totalBytes: UInt64?) {
        total.withLock { $0 = totalBytes }
        line.start()
    }

    func restoreProgress(rows: Int, bytes: UInt64) {
        let total = self.total.current
        let fraction = total.flatMap { $0 > 0 ? min(1, Double(bytes) / Double($0)) : nil }
        line.draw(fraction: fraction) { "\(ByteCount.text(bytes)) loaded  \(ProgressLine.count(rows)) rows" }
    }

    func finished() { line.finish() }
}

/// Drops the database that `--create` made when the restore is interrupted
/// (SIGINT, SIGTERM, SIGHUP), as a failed restore does, unless --keep-on-error;
/// or, given `interruptedAction`, runs that instead (a drill drops its scratch
/// database by OID). Then the signal takes its default course.
final class RestoreInterruptCleanup: Sendable {
    /// The database `--create` made, once it exists; and once the restore
    /// succeeded, that database, which a signal never drops.
    private struct Databases {
        var created: String?
        var restored: String?
    }

    private let databases: Locked<Databases>
    private let trap: SignalTrap

    init(target: ConnectionTarget, keep: Bool, logger: Logger, interruptedAction: (@Sendable () -> Void)? = nil) {
        let databases = Locked(Databases())
        self.databases = databases
        trap = SignalTrap { _ in
            if let interruptedAction {
                interruptedAction()
                return
            }
            // Held through the drop, so that succeeded() cannot return meanwhile.
            databases.withLock { databases in
                Self.interrupted(databases, target: target, keep: keep, logger: logger)
            }
        }
    }

    func created(_ name: String) {
        databases.withLock { $0.created = name }
    }

    /// The restore succeeded: a signal from now on drops nothing. Waits
    /// for a drop that a signal already began.
    func succeeded() {
        databases.withLock { databases in
            databases.restored = databases.created
            databases.created = nil
        }
    }

    private static func interrupted(_ databases: Databases, target: ConnectionTarget, keep: Bool, logger: Logger) {
        if let restored = databases.restored {
            Diagnostics.printError("pgcellar: interrupted after the restore into \(restored) succeeded; the database is kept")
            return
        }
        guard let database = databases.created, !keep else {
            Diagnostics.printError("pgcellar: restore interrupted")
            return
        }
        Diagnostics.printError("pgcellar: restore interrupted; dropping database \(database), which it created (--keep-on-error keeps it)")
        guard let connection = try? target.with(database: "postgres").connect(logger: logger) else { return }
        defer { connection.close() }
        if let name = try? connection.escapeIdentifier(database) {
            _ = try? connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    func cancel() {
        trap.cancel()
    }
}
