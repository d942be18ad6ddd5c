import ArgumentParser
import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// `pgcellar destroy`: a verified export first, then the database and roles go.
public struct DestroyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Export and verify the configured database, then drop it and its managed roles.",
        discussion: """
        In an order that loses no write: check that --export-to can be written and that its \
        filesystem has room for the export (pg_database_size times --export-room-ratio), \
        journal the database's ACL beside the export (.<name>.destroy-journal, mode 0600), \
        revoke CONNECT so that no new session starts (the admin role excepted), terminate \
        the database's sessions, export it to --export-to (setting ALLOW_CONNECTIONS false \
        once the export's connections are open, which keeps out superusers and members of \
        the owner too), verify the export, drill it (restore it into a scratch database on \
        the same server or --drill-dsn, roles required, and compare rows and schema; see \
        pgcellar drill), confirm that no session is left, then drop the database and the \
        managed roles. The export records the database's ACL from the journal, as it was \
        before the revoke.

        Before revoking anything, --yes also proves the drill can run (the drill connection \
        creates and drops a probe database) and reports the database's pg_database_size, the room \
        the drill needs. A role that still owns or holds privileges on \
        objects elsewhere (pg_shdepend) is kept, and the run names those objects. Without \
        --yes, it prints what it would do and changes nothing.

        If the export, its verification or the drill fails, or SIGINT, SIGTERM or SIGHUP \
        arrives, the journaled ACL and ALLOW_CONNECTIONS come back exactly, the partial \
        export is removed and nothing is dropped. After a crash the journal stays: the next \
        run refuses to start another destroy, and --abort reopens the database while \
        --yes --resume finishes the destroy. provision, rotate and destroy of one database \
        wait for each other (an advisory lock on the maintenance database). An audit line \
        goes to stderr. See docs/restore.md.
        """)

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions

    @Option(name: .customLong("export-to"), help: ArgumentHelp("Where the export goes (written atomically, mode 0600).", valueName: "PATH"))
    public var exportTo: String

    @Flag(name: .customLong("yes"), help: "Really destroy; without it, only print the plan.")
    public var yes = false

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections for the export and the drill's restore.")
    public var jobs = 2

    @Option(name: .customLong("drill-dsn"), help: ArgumentHelp(
        "The maintenance connection of the server the drill restores on, instead of the admin connection's server (same rules as every DSN: TLS by default, no passwords).",
        valueName: "DSN"))
    public var drillDSN: String?

    @Flag(name: .customLong("no-drill"), help: "Drop without proving the export restores (for databases too large to restore twice); warns, and the audit line records it.")
    public var noDrill = false

    @Flag(name: .customLong("abort"), help: "Reopen the database an interrupted destroy left closed: its journaled ACL and ALLOW_CONNECTIONS come back, the partial export and the journal are removed.")
    public var abort = false

    @Flag(name: .customLong("resume"), help: "With --yes: finish the interrupted destroy whose journal is beside --export-to (export, verify, drill, drop), recording the journaled ACL.")
    public var resume = false

    @Option(name: .customLong("export-room-ratio"), help: ArgumentHelp(
        "The share of the database's pg_database_size that must be free on the export's filesystem before anything is revoked (default 0.5; 0 skips this check).",
        valueName: "RATIO"))
    public var exportRoomRatio = ExportRoom.defaultRatio

    @OptionGroup public var output: OutputOptions

    public init() {}

    public func validate() throws {
        if exportTo == "-" { throw ValidationError("--export-to needs a file: the export must be verified before anything is dropped") }
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
        guard exportRoomRatio.isFinite, exportRoomRatio >= 0 else { throw ValidationError("--export-room-ratio must be a number of at least 0") }
        if abort && (resume || yes) { throw ValidationError("--abort reopens the database; it cannot be combined with --yes or --resume") }
        if resume && !yes { throw ValidationError("--resume finishes a destroy: add --yes") }
        if let drillDSN {
            if noDrill { throw ValidationError("--drill-dsn and --no-drill cannot be combined") }
            try checkConnectionArgument(drillDSN, option: "--drill-dsn")
        }
    }

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        var destroyer = Destroyer(config: config, adminDSN: admin.adminDSN, logger: Logger(label: "pgcellar.destroy"))
        destroyer.jobs = jobs
        destroyer.skipDrill = noDrill
        destroyer.drillTarget = drillDSN.map { ConnectionTarget.pgcellar($0) }
        destroyer.exportRoomRatio = exportRoomRatio
        // The running destroy's guard, handed from the destroyer to the signal handler.
        let running = Locked<DestroyGuard?>(nil)
        destroyer.guardCreated = { destroyGuard in running.withLock { $0 = destroyGuard } }
        let trap = SignalTrap { _ in
            let destroyGuard = running.withLock { $0 }
            Diagnostics.printError("pgcellar: " + (destroyGuard?.interrupt() ?? "destroy interrupted before anything changed"))
        }
        defer { trap.cancel() }
        if abort {
            do {
                print(try destroyer.abort(exportTo: exportTo))
            } catch {
                Diagnostics.printError("pgcellar: error: \(error)")
                throw ExitCode.failure
            }
            return
        }
        if noDrill && yes {
            Diagnostics.printError("pgcellar: warning: --no-drill: \(config.database.name) will be dropped without proving that its export restores")
        }
        do {
            guard yes else {
                let plan = try destroyer.plan()
                if output.json {
                    printJSON(jsonObject(plan) + ["dryRun": true])
                } else {
                    print(plan.render(exportPath: exportTo), terminator: "")
                    let journalPath = DestroyJournal.path(forExport: exportTo)
                    if let journal = try? DestroyJournal.load(path: journalPath) {
                        print("Note: " + journal.interruptedMessage(path: journalPath) + ".")
                    }
                    print("Nothing done: rerun with --yes to destroy.")
                }
                return
            }
            let report: DestroyReport
            do {
                report = try destroyer.run(exportTo: exportTo, resume: resume)
            } catch {
                let drill = noDrill ? "skipped" : (error as? DestroyError)?.drillFailed == true ? "failed" : "not-reached"
                audit(config.database.name, result: "failed", drill: drill)
                throw error
            }
            audit(config.database.name, result: "dropped", drill: noDrill ? "skipped" : "passed")
            if output.json {
                printJSON(jsonObject(report.plan) + [
                    "dryRun": false, "exportPath": report.exportPath, "exportedRows": report.exportedRows,
                    "exportedTables": report.exportedTables, "archiveBytes": report.archiveBytes,
                    "databaseDropped": report.databaseDropped, "rolesDropped": report.rolesDropped,
                    "rolesKept": report.rolesKept.map { ["name": $0.name, "reasons": $0.reasons] },
                    "sourceBytes": report.sourceBytes ?? NSNull(), "drillSkipped": noDrill,
                    "drill": report.drill.map { DrillCommand.json($0) } ?? NSNull(),
                ])
            } else {
                print("Exported \(report.plan.database) to \(report.exportPath) (\(report.exportedTables) tables, \(report.exportedRows) rows, verified).")
                if let drill = report.drill {
                    print("Drilled it on \(drill.server): \(drill.tables.count) tables, \(drill.rows) rows and \(drill.schemaObjectsChecked) schema objects match (\(String(format: "%.1f", drill.seconds))s).")
                }
                print("Dropped database \(report.plan.database).")
                if !report.rolesDropped.isEmpty { print("Dropped roles: \(report.rolesDropped.joined(separator: ", ")).") }
                for role in report.rolesKept { print("Kept role \(role.name): \(role.reasons.joined(separator: "; ")).") }
            }
        } catch {
            if output.json { printJSON(["ok": false, "error": "\(error)"] as [String: Any]) }
            Diagnostics.printError("pgcellar: error: \(error)")
            throw ExitCode.failure
        }
    }

    /// `audit: destroy database=… result=… drill=… export=… at=…` on stderr, not subject to --quiet.
    private func audit(_ database: String, result: String, drill: String) {
        let fields = [("database", database), ("result", result), ("drill", drill), ("export", exportTo),
                      ("at", ISO8601DateFormatter().string(from: Date()))]
        Diagnostics.printError("pgcellar: audit: destroy " + fields.map { "\($0.0)=\(Self.logfmt($0.1))" }.joined(separator: " "))
    }

    private static func logfmt(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            ? "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            : value
    }

    private func jsonObject(_ plan: DestroyPlan) -> [String: Any] {
        [
            "ok": true, "database": plan.database, "endpoint": plan.endpoint, "sessions": plan.sessions,
            "rolesToDrop": plan.rolesToDrop, "rolesMissing": plan.rolesMissing, "drillServer": plan.drillServer ?? NSNull(),
            "rolesKeptPlanned": plan.rolesKept.map { ["name": $0.name, "reasons": $0.reasons] },
            "rolesBypassingRevoke": plan.rolesBypassingRevoke, "databaseBytes": plan.databaseBytes,
        ]
    }
}

private func + (lhs: [String: Any], rhs: [String: Any]) -> [String: Any] {
    lhs.merging(rhs) { $1 }
}
