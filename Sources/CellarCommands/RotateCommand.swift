import ArgumentParser
import Cellar
import Foundation
import Logging

/// `pgcellar rotate`: new passwords for managed login roles, verified by
/// logging in, and updated Secret manifests.
public struct RotateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Give managed login roles new passwords, verified by logging in, and rewrite their Secrets.",
        discussion: """
        Without --role, every login role in the configuration is rotated into its own Secret; one role's failure does not stop the others. The new password is journaled next to the Secret (<secret>.pending, mode 0600) before ALTER ROLE, sent as a SCRAM-SHA-256 verifier, verified by a fresh TLS login as the application makes it, and only then written to the Secret. A run that finds a journal first finishes that rotation. If the new password does not log in, the previous one (from the current Secret) is restored.

        An audit line per role goes to stderr (never the password).

        Exit status: 0 when every role was rotated or left alone as fresh, 1 when any role failed (the others are still rotated and their Secrets written), 64 on usage errors. See docs/rotation.md.
        """)

    @OptionGroup public var configFile: ConfigFileOption
    @OptionGroup public var admin: AdminConnectionOptions
    @OptionGroup public var output: OutputOptions
    @OptionGroup public var metrics: MetricsOptions

    @Option(name: .customLong("role"), help: ArgumentHelp(
        "Rotate only this role (repeatable). Default: every login role in the configuration.", valueName: "NAME"))
    public var roles: [String] = []

    @Option(name: .customLong("if-older-than"), help: ArgumentHelp(
        "Leave a role alone when its Secret's rotation time is younger than this (e.g. 30d, 12h); exit 0.",
        valueName: "DURATION"))
    public var ifOlderThan: String?

    @Flag(name: .customLong("dry-run"), help: "Say what would happen; change nothing (no lock, no journal, no ALTER).")
    public var dryRun = false

    @Flag(name: .customLong("print"), help: "Write each role's Secret manifest, as it stands after the run, to stdout (for kubectl apply -f -); messages go to stderr.")
    public var printManifests = false

    public init() {}

    public func validate() throws {
        if let ifOlderThan {
            do {
                _ = try parseDurationSpec(ifOlderThan)
            } catch {
                throw ValidationError("--if-older-than: \(error)")
            }
        }
        if printManifests && output.json {
            throw ValidationError("--print and --json both write to stdout; choose one")
        }
        if printManifests && dryRun {
            throw ValidationError("--dry-run writes no Secret, so --print would have nothing to print")
        }
    }

    public func run() throws {
        output.bootstrapLogging()
        let config = try loadConfig(configFile.config)
        let options = RotationOptions(roles: roles.isEmpty ? nil : roles,
                                      ifOlderThan: try ifOlderThan.map(parseDurationSpec),
                                      dryRun: dryRun)
        let rotator = Rotator(config: config, adminDSN: admin.adminDSN, logger: Logger(label: "pgcellar.rotate"))
        let results: [RoleRotationResult]
        do {
            results = try rotator.run(options) { result in
                // The audit trail is not subject to --quiet.
                if !dryRun { Diagnostics.printError("pgcellar: " + result.auditLine(actor: rotator.actor, at: Date())) }
            }
        } catch {
            if !dryRun { metrics.record(RotationMetrics.failure(config: config, roles: roles), database: config.database.name) }
            throw error
        }
        if !dryRun { metrics.record(RotationMetrics.samples(results, database: config.database.name), database: config.database.name) }

        if output.json {
            printJSON([
                "dryRun": dryRun,
                "ok": results.allSatisfy(\.succeeded),
                "results": results.map(\.jsonObject),
            ] as [String: Any])
        } else {
            report(results)
        }
        if printManifests { try printSecrets(of: results) }
        if !results.allSatisfy(\.succeeded) { throw ExitCode.failure }
    }

    /// One line per role: successes on stdout (stderr with --print, which
    /// keeps stdout for manifests), failures on stderr.
    private func report(_ results: [RoleRotationResult]) {
        for result in results {
            if !result.succeeded {
                Diagnostics.printError("pgcellar: error: \(result.message)")
            } else if printManifests {
                if !output.quiet { Diagnostics.printError("pgcellar: \(result.message)") }
            } else if !output.quiet {
                print(result.message)
            }
        }
    }

    /// The Secret files as they stand now, as one YAML stream: a rotated
    /// role's new Secret, and a fresh or restored one's current Secret, so a
    /// CronJob's `kubectl apply` also repairs an apply that failed last time.
    private func printSecrets(of results: [RoleRotationResult]) throws {
        var documents: [String] = []
        for result in results where FileManager.default.fileExists(atPath: result.secretFile) {
            let data = try Data(contentsOf: URL(fileURLWithPath: result.secretFile))
            documents.append(String(decoding: data, as: UTF8.self))
        }
        guard !documents.isEmpty else { return }
        let stream = documents.joined(separator: "---\n")
        FileHandle.standardOutput.write(Data(stream.utf8))
    }
}
