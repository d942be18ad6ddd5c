import ArgumentParser
import Cellar
import Foundation
import Logging

/// `pgcellar destroy`: a verified export first, then the database and roles go.
public struct DestroyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Export and verify the configured database, then drop it and its managed roles.",
        discussion: """
        In an order that loses no write: revoke CONNECT so no new session starts (the
        admin role excepted), terminate the database's sessions, export it to
        --export-to, verify the export, then drop the database and the managed roles.
        A role that still owns or holds privileges on objects elsewhere (pg_shdepend) is
        kept, and the run names those objects. Without --yes, it prints what it would do
        and changes nothing. If the export or its verification fails, connections are
        allowed again and nothing is dropped.
        """)

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions

    @Option(name: .customLong("export-to"), help: ArgumentHelp("Where the export goes (written atomically, mode 0600).", valueName: "PATH"))
    public var exportTo: String

    @Flag(name: .customLong("yes"), help: "Really destroy; without it, only print the plan.")
    public var yes = false

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections for the export.")
    public var jobs = 2

    @OptionGroup public var output: OutputOptions

    public init() {}

    public func validate() throws {
        if exportTo == "-" { throw ValidationError("--export-to needs a file: the export must be verified before anything is dropped") }
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
    }

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        var destroyer = Destroyer(config: config, adminDSN: admin.adminDSN, logger: Logger(label: "pgcellar.destroy"))
        destroyer.jobs = jobs
        do {
            guard yes else {
                let plan = try destroyer.plan()
                if output.json {
                    printJSON(jsonObject(plan) + ["dryRun": true])
                } else {
                    print(plan.render(exportPath: exportTo), terminator: "")
                    print("Nothing done: rerun with --yes to destroy.")
                }
                return
            }
            let report = try destroyer.run(exportTo: exportTo)
            if output.json {
                printJSON(jsonObject(report.plan) + [
                    "dryRun": false, "exportPath": report.exportPath, "exportedRows": report.exportedRows,
                    "exportedTables": report.exportedTables, "archiveBytes": report.archiveBytes,
                    "databaseDropped": report.databaseDropped, "rolesDropped": report.rolesDropped,
                    "rolesKept": report.rolesKept.map { ["name": $0.name, "reasons": $0.reasons] },
                ])
            } else {
                print("Exported \(report.plan.database) to \(report.exportPath) (\(report.exportedTables) tables, \(report.exportedRows) rows, verified).")
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

    private func jsonObject(_ plan: DestroyPlan) -> [String: Any] {
        [
            "ok": true, "database": plan.database, "endpoint": plan.endpoint, "sessions": plan.sessions,
            "rolesToDrop": plan.rolesToDrop, "rolesMissing": plan.rolesMissing,
            "rolesKeptPlanned": plan.rolesKept.map { ["name": $0.name, "reasons": $0.reasons] },
        ]
    }
}

private func + (lhs: [String: Any], rhs: [String: Any]) -> [String: Any] {
    lhs.merging(rhs) { $1 }
}
