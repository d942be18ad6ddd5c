import ArgumentParser
import Cellar
import Foundation
import Logging

/// `pgcellar plan`: what `provision` would change, read from the catalogs.
public struct PlanCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the SQL that provision would run; change nothing.",
        discussion: """
        Reads the cluster's catalogs (no state file) and prints the minimal SQL that converges them on the configuration.

        Exit status: 0 when nothing would change; with --detailed-exitcode, 2 when something would; 1 on errors, including drift that pgcellar will not converge (a database's encoding or locale).
        """)

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions
    @OptionGroup public var output: OutputOptions

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 2 when the plan has changes (as terraform plan -detailed-exitcode).")
    public var detailedExitCode = false

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        let provisioner = Provisioner(config: config, adminDSN: admin.adminDSN, logger: Logger(label: "pgcellar.plan"))
        let (plan, endpoint) = try provisioner.plan()
        if output.json {
            printJSON(plan.jsonObject(database: config.database.name))
        } else {
            print(plan.render(database: config.database.name, endpoint: endpoint), terminator: "")
        }
        if !plan.problems.isEmpty { throw ExitCode.failure }
        if detailedExitCode && plan.hasChanges { throw ExitCode(2) }
    }
}

/// `pgcellar provision`: converge database, roles, grants and default privileges.
public struct ProvisionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create or converge the database, its roles, grants and default privileges.",
        discussion: """
        Shows the plan, then applies it. New login roles get a generated password, written to their Secret manifest (0600, atomically) before the role is created, and sent to the server as a SCRAM-SHA-256 verifier. Existing passwords are left alone: pgcellar rotate changes them. A second run changes nothing and says so.
        """)

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        let logger = Logger(label: "pgcellar.provision")
        let provisioner = Provisioner(config: config, adminDSN: admin.adminDSN, logger: logger)
        let report = try provisioner.apply()
        if output.json {
            var object = report.plan.jsonObject(database: config.database.name)
            object["applied"] = report.applied.count
            object["secretsWritten"] = report.secretsWritten
            printJSON(object)
            return
        }
        for warning in report.plan.warnings { Diagnostics.printError("pgcellar: warning: \(warning)") }
        if report.applied.isEmpty {
            print("No changes. \(config.database.name) already matches \(configFile.config).")
        } else {
            print("Applied \(report.applied.count) change\(report.applied.count == 1 ? "" : "s") to \(config.database.name):")
            for step in report.applied { print("  \(step.summary)") }
            for path in report.secretsWritten { print("Wrote Secret manifest \(path) (mode 0600).") }
        }
    }
}

/// `pgcellar check`: prove what each managed role may and may not do.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Connect as each managed role, as the application will, and prove its privileges.",
        discussion: "Exit status 1 when any expectation is not met; warnings (e.g. a role that can also connect to another database) do not fail.")

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions
    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        let results = Checker(config: config, logger: Logger(label: "pgcellar.check")).run()
        if output.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print(results.render(), terminator: "")
        }
        if results.hasFailures { throw ExitCode.failure }
    }
}

// MARK: - Shared

/// Loads the configuration; its errors already name the file and key.
func loadConfig(_ path: String) throws -> PgcellarConfig {
    try PgcellarConfig.load(path: path)
}

/// Writes a JSON object to stdout, keys sorted.
func printJSON(_ object: Any) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return }
    print(String(decoding: data, as: UTF8.self))
}
