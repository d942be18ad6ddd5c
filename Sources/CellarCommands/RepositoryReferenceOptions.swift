import ArgumentParser
import Cellar
import CellarSupport

/// `-c FILE` for commands that read an export: names the configuration
/// whose repository a `repo:` argument is looked up in.
public struct RepositoryReferenceOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp(
        "With a repo:latest, repo:<id> or repo:<database>@latest argument: the configuration whose repository holds the backup (repo:latest is its database's newest).",
        valueName: "FILE"))
    public var config: String?

    public init() {}

    /// Refuses a `repo:` argument without `-c`, and `-c` without one.
    func check(_ file: String) throws {
        if RepositorySource.isReference(file) && config == nil {
            throw ValidationError("\(file) names a backup in a repository; add -c FILE, the configuration whose repository holds it")
        }
        if !RepositorySource.isReference(file) && config != nil {
            throw ValidationError("-c/--config applies only to a repo: argument (repo:latest, repo:<id>, repo:<database>@latest)")
        }
    }

    /// The archive of the backup `file` names.
    func archive(_ file: String) throws -> any RandomAccessSource {
        guard let config else { throw ValidationError("\(file) needs -c FILE") }
        return try RepositorySource.resolve(file, config: loadConfig(config))
    }
}
