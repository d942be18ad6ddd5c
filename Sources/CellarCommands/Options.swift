import ArgumentParser
import Cellar
import Foundation
import Logging
import PostgresClient

/// `-c FILE`: the configuration file (docs/configuration.md).
public struct ConfigFileOption: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp("The configuration file (YAML).", valueName: "FILE"))
    public var config: String

    public init() {}
}

/// `--admin-dsn`: the admin connection, overriding the configuration's `cluster`.
public struct AdminConnectionOptions: ParsableArguments {
    @Option(name: .customLong("admin-dsn"), help: ArgumentHelp(
        "Admin connection as a libpq conninfo string or postgresql:// URI (default: the configuration's cluster section). TLS is required unless it, PGSSLMODE or a service names an sslmode. Put the password in ~/.pgpass, PGPASSFILE or PGPASSWORD, never here.",
        valueName: "DSN"))
    public var adminDSN: String?

    public init() {}

    public func validate() throws {
        if let adminDSN { try checkConnectionArgument(adminDSN, option: "--admin-dsn") }
    }
}

/// `--json` and `--quiet`, shared by every command that reports.
public struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    public var json = false

    @Flag(name: [.customShort("q"), .long], help: "Print only errors on stderr.")
    public var quiet = false

    @Flag(name: [.customShort("v"), .long], help: "Print debug diagnostics on stderr.")
    public var verbose = false

    public init() {}

    /// Sets up swift-log for this run: diagnostics on stderr.
    public func bootstrapLogging() {
        let level: Logger.Level = verbose ? .debug : (quiet ? .error : .info)
        Diagnostics.bootstrap(level: level)
    }
}

/// Checks a connection given as an argument — a conninfo string, a
/// `postgresql://` URI or a database name, as pg_dump and psql take them —
/// and refuses a password written into it: argv is visible to every user of
/// the machine (`ps`), and ends up in shell history and CronJob specs.
func checkConnectionArgument(_ value: String, option: String) throws {
    let target = ConnectionTarget(value)
    guard let info = try? target.parsed() else {
        throw ValidationError("\(option): not a valid libpq connection string or URI")
    }
    if info.hasPassword {
        throw ValidationError("\(option) contains a password; passwords are never accepted on the command line (argv is visible to other users). Use ~/.pgpass, PGPASSFILE, or PGPASSWORD")
    }
}
