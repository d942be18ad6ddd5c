import ArgumentParser
import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// `pgcellar drill`: prove an export restorable by restoring it and comparing.
public struct DrillCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore an export into a scratch database and prove that what came out is what it holds.",
        discussion: """
        Restores FILE with --create into <source>_drill_<random suffix> (or --name) on the --server, then copies every table back out with the export's column list and COPY text settings and compares row counts and row digests with the archive's; reads the scratch database with the exporter's own catalog reader and compares every object (kind, schema, name, SQL; sequence values too) with the archive's entries. Then drops the scratch database (only the one whose OID it created) unless --keep, on failure and on SIGINT/SIGTERM too.

        When roles the export references are missing on the server, the restore runs with --no-owner --no-privileges and the report says so (owners and privileges are then not compared); --require-roles fails instead.

        Exit status: 0 when everything matches, 1 when anything differs or the drill cannot run, 64 for bad arguments. See docs/drill.md.
        """)

    @Argument(help: ArgumentHelp("The export; - for standard input (spooled to a temporary file first); repo:latest, repo:<id> or repo:<database>@latest with -c (the result is recorded beside the backup).", valueName: "FILE"))
    public var file: String

    @OptionGroup public var repositoryOptions: RepositoryReferenceOptions
    @OptionGroup public var identity: IdentityOptions

    @Option(name: .customLong("server"), help: ArgumentHelp(
        "The maintenance connection of the server where the scratch database is made: a conninfo string, postgresql:// URI or database name. TLS is required unless it, PGSSLMODE or a service names an sslmode. No passwords here: use ~/.pgpass, PGPASSFILE or PGPASSWORD.",
        valueName: "DSN"))
    public var server: String

    @Option(name: .customLong("name"), help: ArgumentHelp("The scratch database's name instead of <source>_drill_<random suffix>.", valueName: "NAME"))
    public var name: String?

    @Flag(name: .customLong("require-roles"), help: "Fail when the export's roles are missing on the server, instead of restoring without owners and privileges.")
    public var requireRoles = false

    @Flag(name: .customLong("keep"), help: "Keep the scratch database afterwards (for inspection).")
    public var keep = false

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections the restore uses.")
    public var jobs = 1

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write Prometheus text exposition here (atomically), for node_exporter's textfile collector.", valueName: "PATH"))
    public var metricsFile: String?

    @OptionGroup public var output: OutputOptions

    public init() {}

    public func validate() throws {
        try checkConnectionArgument(server, option: "--server")
        try repositoryOptions.check(file)
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
        if let name {
            if name.isEmpty { throw ValidationError("--name is empty") }
            if name.utf8.count > ScratchName.maximumBytes { throw ValidationError("--name \(name) is \(name.utf8.count) bytes; PostgreSQL names hold at most \(ScratchName.maximumBytes)") }
        }
    }

    public func run() throws {
        output.bootstrapLogging()
        let logger = Logger(label: "pgcellar.drill")
        var options = DrillOptions(server: .pgcellar(server))
        options.name = name
        options.requireRoles = requireRoles
        options.keep = keep
        options.jobs = jobs
        var driller = Driller(options: options, logger: logger)
        let scratch = ScratchHolder()
        let interrupt = RestoreInterruptCleanup(target: options.server, keep: keep, logger: logger) { [keep] in
            guard let database = scratch.database, !keep else {
                Diagnostics.printError("pgcellar: drill interrupted")
                return
            }
            Diagnostics.printError("pgcellar: drill interrupted; dropping its scratch database (--keep keeps it)")
            database.interrupt()
        }
        defer { interrupt.cancel() }
        driller.scratchCreated = { scratch.database = $0 }

        let report: DrillReport
        var backup: (repository: BackupRepository, backup: StoredBackup)?
        do {
            let source: any RandomAccessSource
            if RepositorySource.isReference(file) {
                let (repository, stored) = try repositoryOptions.find(file)
                backup = (repository, stored)
                source = try RepositorySource.open(stored, in: repository, decrypt: try identity.backupDecryptor())
            } else {
                let spool = file == "-" ? try Self.spoolStandardInput() : nil
                // Removed once opened: the open descriptor keeps it readable.
                defer { if let spool { try? FileManager.default.removeItem(atPath: spool) } }
                // An age file is decrypted; a plain file is read as it is.
                guard case .randomAccess(let input) = try identity.openArchive(spool ?? file) else {
                    throw DrillError("\(file) cannot be read at random offsets")
                }
                source = input
            }
            report = try driller.run(source: source, name: file)
        } catch {
            // A drill that cannot start is a failed drill for the alerts too.
            let database = backup?.backup.manifest.database ?? (try? ArchiveReader(path: file))?.header.database.name ?? "unknown"
            var failed = DrillReport(archive: file, sourceDatabase: database,
                                     snapshotTakenAt: "", server: "", scratchDatabase: name ?? "")
            failed.failure = "\(error)"
            writeMetrics(failed)
            if let backup { record(failed, in: backup) }
            if output.json { printJSON(["ok": false, "error": "\(error)"] as [String: Any]) }
            Diagnostics.printError("pgcellar: drill: \(error)")
            throw ExitCode.failure
        }
        if let backup { record(report, in: backup) }
        guard writeMetrics(report) else { throw ExitCode.failure }
        if output.json {
            printJSON(Self.json(report))
        } else if report.passed {
            if !output.quiet { for line in report.lines() { print(line) } }
        } else {
            for line in report.lines() { Diagnostics.printError("pgcellar: drill: " + line) }
        }
        if !report.passed { throw ExitCode.failure }
    }

    /// Records the result beside the drilled backup's manifest, so `backups
    /// list` shows it; a failure to record is a warning, not a failed drill.
    private func record(_ report: DrillReport, in backup: (repository: BackupRepository, backup: StoredBackup)) {
        let record = DrillRecord(drilledAt: Date(), passed: report.passed,
                                 mismatches: report.mismatches.map { "\($0)" } + (report.failure.map { [$0] } ?? []))
        do {
            try backup.repository.recordDrill(record, for: backup.backup)
        } catch {
            Diagnostics.printError("pgcellar: drill: warning: cannot record the result beside backup \(backup.backup.manifest.id): \(error)")
        }
    }

    /// Writes `--metrics-file`, if asked; false (with the reason on stderr) when it cannot.
    @discardableResult
    private func writeMetrics(_ report: DrillReport) -> Bool {
        guard let metricsFile else { return true }
        do {
            try DrillMetrics.write(report, to: metricsFile)
            return true
        } catch {
            Diagnostics.printError("pgcellar: drill: cannot write the metrics file \(metricsFile): \(error)")
            return false
        }
    }

    /// The report for `--json`: every field of ``DrillReport`` plus `ok`.
    static func json(_ report: DrillReport) -> [String: Any] {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(report),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return ["ok": report.passed] }
        object["ok"] = report.passed
        object["ownersAndPrivilegesSkipped"] = report.ownersAndPrivilegesSkipped
        return object
    }

    /// Copies standard input to a new 0600 file: the drill reads the
    /// archive's table of contents after the restore, which a pipe cannot give twice.
    static func spoolStandardInput() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgcellar-drill-\(UUID().uuidString).sql.zst").path
        let writer = try AtomicFileWriter(path: path, mode: 0o600)
        do {
            let input = FileDescriptorInput.standardInput()
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
        return path
    }
}

/// The scratch database, handed from the drill to the signal handler.
private final class ScratchHolder: Sendable {
    private let value = Locked<ScratchDatabase?>(nil)

    var database: ScratchDatabase? {
        get { value.current }
        set { value.withLock { $0 = newValue } }
    }
}
