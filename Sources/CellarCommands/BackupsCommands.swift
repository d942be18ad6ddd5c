import ArgumentParser
import Cellar
import CellarSupport
import Foundation

/// `pgcellar backups`: what a repository holds.
public struct BackupsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backups",
        abstract: "List and prune the backups in the configuration's repository.",
        subcommands: [BackupsListCommand.self, BackupsPruneCommand.self])

    public init() {}
}

/// `pgcellar backups list -c FILE [--json]`.
public struct BackupsListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per complete backup, newest first: id, database, taken at, age, size, rows, encrypted, last drill.",
        discussion: "Reads only the plaintext manifests (no identity needed). Rows are shown only for unencrypted backups: an encrypted backup keeps its counts inside the ciphertext.")

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        let repository = try StoreFactory.repository(for: config)
        let backups = try repository.backups()
        if output.json {
            printJSON(["backups": backups.map { BackupListingJSON.object($0) }])
            return
        }
        let now = Date()
        var rows = [["ID", "DATABASE", "TAKEN AT", "AGE", "SIZE", "ROWS", "ENCRYPTED", "LAST DRILL"]]
        for backup in backups {
            let manifest = backup.manifest
            rows.append([
                manifest.id, manifest.database, BackupListingJSON.time(manifest.snapshotTakenAt),
                BackupListingJSON.age(now.timeIntervalSince(manifest.snapshotTakenAt)),
                ByteCount.text(manifest.archiveBytes), manifest.contents.map { "\($0.rows)" } ?? "-",
                manifest.encrypted ? "yes" : "no",
                backup.lastDrill.map { "\($0.passed ? "passed" : "FAILED") \(BackupListingJSON.time($0.drilledAt))" } ?? "never",
            ])
        }
        if backups.isEmpty {
            if !output.quiet { Diagnostics.printError("pgcellar: \(repository.store.description) holds no backups") }
            return
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            print(zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
    }
}

/// `pgcellar backups prune -c FILE [--dry-run]`.
public struct BackupsPruneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the backups repository.keep does not keep.",
        discussion: """
        Grandfather-father-son, as restic's and borg's forget: keep.last keeps the newest N backups; keep.hourly, daily, weekly, monthly and yearly keep the newest backup of each of the newest N hours, days, ISO weeks, months and years that have one, by snapshot time in UTC. The newest backup is always kept. Prints every backup with what keeps it, then deletes the others (manifest first) and sweeps what killed backups left. Applies to the configuration's database only.
        """)

    @OptionGroup public var configFile: ConfigFileOption

    @Flag(name: .customLong("dry-run"), help: "Print the plan; delete nothing.")
    public var dryRun = false

    @OptionGroup public var metrics: MetricsOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        guard let keep = config.repository?.keep else {
            throw BackupError("\(config.source) has no repository.keep, so every backup is kept; add keep (e.g. {last: 3, daily: 7, weekly: 4, monthly: 12}) to prune")
        }
        try PruneRun(config: config, policy: keep, dryRun: dryRun, quiet: output.quiet, json: output.json, metrics: metrics).run()
    }
}

/// A prune: the plan, printed, then carried out.
struct PruneRun {
    var config: PgcellarConfig
    var policy: RetentionPolicy
    var dryRun: Bool
    var quiet: Bool
    var json = false
    var metrics: MetricsOptions

    func run() throws {
        let database = config.database.name
        let labels = [("database", database)]
        do {
            let repository = try StoreFactory.repository(for: config)
            let backups = try repository.backups(database: database)
            let plan = policy.plan(backups.map { ($0.manifest.id, $0.manifest.snapshotTakenAt) })
            let byID = Dictionary(backups.map { ($0.manifest.id, $0) }, uniquingKeysWith: { first, _ in first })
            if !quiet && !json {
                Diagnostics.printError("pgcellar: prune \(database) (keep \(policy.summary))\(dryRun ? ", dry run" : ""): \(plan.kept.count) kept, \(plan.removed.count) to delete")
                for decision in plan.decisions {
                    let verb = decision.keep ? "keep  " : (dryRun ? "would delete" : "delete")
                    let why = decision.keep ? "  (\(decision.reasons.joined(separator: ", ")))" : ""
                    print("\(verb) \(decision.id)  \(BackupListingJSON.time(decision.takenAt))\(why)")
                }
            }
            var swept = BackupRepository.SweepResult(incompleteUploads: 0, orphanedObjects: 0)
            if !dryRun {
                for decision in plan.removed {
                    guard let backup = byID[decision.id] else { continue }
                    try repository.delete(backup)
                }
                swept = try repository.sweep()
                if !quiet && !json && swept.incompleteUploads + swept.orphanedObjects > 0 {
                    Diagnostics.printError("pgcellar: removed what killed backups left: \(swept.incompleteUploads) incomplete uploads, \(swept.orphanedObjects) objects without a manifest")
                }
                metrics.record([
                    MetricSample("pgcellar_prune_last_success_timestamp_seconds", labels: labels, Date().timeIntervalSince1970.rounded()),
                    MetricSample("pgcellar_backups_kept", labels: labels, Double(plan.kept.count)),
                ], database: database)
            }
            if json {
                printJSON([
                    "dryRun": dryRun, "database": database,
                    "decisions": plan.decisions.map { ["id": $0.id, "takenAt": BackupListingJSON.time($0.takenAt), "keep": $0.keep, "reasons": $0.reasons] as [String: Any] },
                    "sweptIncompleteUploads": swept.incompleteUploads, "sweptOrphanedObjects": swept.orphanedObjects,
                ] as [String: Any])
            }
        } catch {
            if !dryRun {
                metrics.record([MetricSample("pgcellar_prune_last_failure_timestamp_seconds", labels: labels, Date().timeIntervalSince1970.rounded())],
                               database: database)
            }
            throw error
        }
    }
}

// MARK: - JSON

enum BackupListingJSON {
    static func object(_ backup: StoredBackup, now: Date = Date()) -> [String: Any] {
        let manifest = backup.manifest
        var object: [String: Any] = [
            "id": manifest.id, "database": manifest.database,
            "takenAt": time(manifest.snapshotTakenAt),
            "ageSeconds": Int(now.timeIntervalSince(manifest.snapshotTakenAt).rounded()),
            "sizeBytes": manifest.archiveBytes, "encrypted": manifest.encrypted,
            "recipientFingerprints": manifest.recipientFingerprints,
            "tool": manifest.tool,
            "rows": manifest.contents.map { $0.rows as Any } ?? NSNull(),
            "tables": manifest.contents.map { $0.tables as Any } ?? NSNull(),
        ]
        if let drill = backup.lastDrill {
            object["lastDrill"] = ["drilledAt": time(drill.drilledAt), "passed": drill.passed, "mismatches": drill.mismatches] as [String: Any]
        } else {
            object["lastDrill"] = NSNull()
        }
        return object
    }

    /// `2026-12-05T06:15:12Z`.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `3d4h`, `5h12m`, `42s`.
    static func age(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        let (days, hours, minutes) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60)
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(total)s"
    }
}
