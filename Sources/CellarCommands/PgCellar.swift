import ArgumentParser
import Cellar

/// The `pgcellar` command: subcommands arrive with the features they run.
public struct PgCellar: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pgcellar",
        abstract: "Provision, rotate, export and restore PostgreSQL databases.",
        discussion: """
        Connections follow libpq's conventions: conninfo strings or postgresql:// URIs, PG* environment variables, ~/.pgpass and service files. TLS is required unless an sslmode is named. Passwords are never accepted on the command line.

        docs/commands.md describes every command and option, docs/configuration.md the configuration file.
        """,
        version: PgCellarVersion.current,
        subcommands: [
            PlanCommand.self, ProvisionCommand.self, CheckCommand.self, RotateCommand.self,
            ExportCommand.self, RestoreCommand.self, VerifyCommand.self, ListCommand.self, DrillCommand.self, DestroyCommand.self,
            BackupCommand.self, BackupsCommand.self,
        ]
    )

    public init() {}
}
