import ArgumentParser
import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// `--metrics-file` and `--pushgateway`: gauges for node_exporter's
/// textfile collector and for a Prometheus Pushgateway.
public struct MetricsOptions: ParsableArguments {
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
        "Write Prometheus gauges (text exposition) to this file, atomically, for node_exporter's textfile collector; the previous file's values for other series are kept.",
        valueName: "PATH"))
    public var metricsFile: String?

    @Option(name: .customLong("pushgateway"), help: ArgumentHelp(
        "Also push the gauges to this Prometheus Pushgateway (POST to URL/metrics/job/pgcellar/database@base64/…); a failed push is a warning, not a failed run.",
        valueName: "URL"))
    public var pushgateway: String?

    public init() {}

    public func validate() throws {
        if let pushgateway {
            do { _ = try Pushgateway(pushgateway) } catch let error as MetricsError { throw ValidationError(error.description) }
        }
    }

    /// Writes `samples` into the metrics file and pushes them to the
    /// gateway, where asked; a failure to do either is reported as a warning
    /// and does not change the exit status of the work that was done.
    func record(_ samples: [MetricSample], database: String) {
        guard !samples.isEmpty else { return }
        if let metricsFile {
            do {
                try MetricsFile.update(path: metricsFile, with: samples)
            } catch {
                Diagnostics.printError("pgcellar: error: cannot write the metrics file: \(error)")
            }
        }
        if let pushgateway {
            do {
                try Pushgateway(pushgateway).push(samples, database: database)
            } catch {
                Diagnostics.printError("pgcellar: warning: \(error)")
            }
        }
    }
}

/// `pgcellar backup -c FILE`: an export written into the configured repository.
public struct BackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Export the configuration's database into its backup repository, then apply retention.",
        discussion: """
        The archive is written first (to a temporary name on disk, a multipart upload in S3) and the backup's manifest last: a backup that fails or is killed leaves nothing that `backups list` shows, and the next backup or prune removes what it left once that is older than repository.sweepAfter (default 24h). With repository.keep, the backup is followed by a prune (see `pgcellar backups prune`). docs/backups.md describes the repository.
        """)

    @OptionGroup public var configFile: ConfigFileOption

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections copying tables at once.")
    public var jobs = 1

    @Option(name: .customLong("level"), help: "zstd compression level (1-22).")
    public var level = 3

    @Flag(name: .customLong("no-prune"), help: "Do not apply repository.keep after the backup (a separate `backups prune` step will).")
    public var noPrune = false

    @OptionGroup public var metrics: MetricsOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
        guard (1...22).contains(level) else { throw ValidationError("--level must be between 1 and 22") }
    }

    public func run() throws {
        output.bootstrapLogging()
        let logger = Logger(label: "pgcellar.backup")
        let config = try loadConfig(configFile.config)
        let database = config.database.name
        let started = Date()
        let result: (manifest: BackupManifest, summary: ExportSummary)
        do {
            let repository = try StoreFactory.repository(for: config)
            let runner = BackupRunner(
                repository: repository,
                exportOptions: ExportOptions(target: config.clusterTarget.with(database: database), jobs: jobs, level: level),
                encryption: try BackupEncryptionFactory.encryption(for: config),
                encryptionRequired: config.repository?.encryption?.required ?? false,
                logger: logger,
                progress: (!output.quiet && Diagnostics.stderrIsTerminal) ? TerminalProgress() : nil)
            result = try runner.run(database: database)
        } catch {
            metrics.record(BackupMetrics.failure(database: database, at: Date(), duration: Date().timeIntervalSince(started)), database: database)
            if output.json { printJSON(["ok": false, "database": database, "error": "\(error)"] as [String: Any]) }
            Diagnostics.printError("pgcellar: error: backup of \(database) failed: \(error)")
            throw ExitCode.failure
        }
        let manifest = result.manifest
        metrics.record(BackupMetrics.success(manifest, rows: result.summary.rows, duration: Date().timeIntervalSince(started)), database: database)
        if output.json {
            printJSON(["ok": true, "backup": BackupListingJSON.object(StoredBackup(manifest: manifest, lastDrill: nil, directory: ""))])
        } else if !output.quiet {
            Diagnostics.printError("pgcellar: backed up \(database) as \(manifest.id): \(result.summary.tables) tables, \(result.summary.rows) rows, \(ByteCount.text(manifest.archiveBytes)) stored\(manifest.encrypted ? " (encrypted)" : "") in \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
        }
        if let keep = config.repository?.keep, !noPrune {
            try PruneRun(config: config, policy: keep, dryRun: false, quiet: output.quiet || output.json, metrics: metrics).run()
        }
    }
}

// MARK: - Metrics

enum BackupMetrics {
    static func success(_ manifest: BackupManifest, rows: Int, duration: TimeInterval) -> [MetricSample] {
        let labels = [("database", manifest.database)]
        return [
            MetricSample("pgcellar_backup_last_success_timestamp_seconds", labels: labels, manifest.finishedAt.timeIntervalSince1970.rounded()),
            MetricSample("pgcellar_backup_duration_seconds", labels: labels, (duration * 1000).rounded() / 1000),
            MetricSample("pgcellar_backup_bytes", labels: labels, Double(manifest.archiveBytes)),
            MetricSample("pgcellar_backup_rows", labels: labels, Double(manifest.contents?.rows ?? 0)),
        ]
    }

    /// Only the failure time and duration: the last success, its bytes and
    /// rows stay as the previous file had them.
    static func failure(database: String, at date: Date, duration: TimeInterval) -> [MetricSample] {
        let labels = [("database", database)]
        return [
            MetricSample("pgcellar_backup_last_failure_timestamp_seconds", labels: labels, date.timeIntervalSince1970.rounded()),
            MetricSample("pgcellar_backup_duration_seconds", labels: labels, (duration * 1000).rounded() / 1000),
        ]
    }
}

// MARK: - Encryption

/// The encryption a configuration asks for: age (age-encryption.org/v1) to
/// `repository.encryption.recipients`, so `age -d -i KEY archive | zstd -dc`
/// reads the stored object; nil when no recipients are listed.
enum BackupEncryptionFactory {
    /// - Throws: ``AgeError`` when a recipient is not a valid `age1…` key
    ///   (the configuration reader checks the form; this checks the curve point).
    static func encryption(for config: PgcellarConfig) throws -> BackupEncryption? {
        guard let encryption = config.repository?.encryption, !encryption.recipients.isEmpty else { return nil }
        let recipients: [AgeRecipient]
        do {
            recipients = try encryption.recipients.map { try AgeRecipient($0) }
        } catch let error as AgeError {
            throw BackupError("\(config.source): repository.encryption.recipients: \(error.message)")
        }
        return BackupEncryption(recipientFingerprints: recipients.map(\.fingerprint)) { sink in
            let encrypting = try AgeEncryptingSink(wrapping: sink, recipients: recipients)
            return (encrypting, { try encrypting.finish() })
        }
    }
}
