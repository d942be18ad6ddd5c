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

    /// The backup `file` names and the repository that holds it.
    func find(_ file: String) throws -> (BackupRepository, StoredBackup) {
        guard let config else { throw ValidationError("\(file) needs -c FILE") }
        return try RepositorySource.find(file, config: loadConfig(config))
    }

    /// The archive of the backup `file` names, decrypted with the
    /// identities of `--identity` (or PGCELLAR_AGE_IDENTITY_FILE) when the
    /// backup is encrypted.
    ///
    /// - Throws: ``BackupError`` naming the recipient fingerprints when the
    ///   backup is encrypted and no identity was given; ``AgeError`` naming
    ///   them when no identity given matches.
    func archive(_ file: String, identity: IdentityOptions) throws -> any RandomAccessSource {
        let (repository, backup) = try find(file)
        return try RepositorySource.open(backup, in: repository, decrypt: try identity.backupDecryptor())
    }
}

extension RepositoryReferenceOptions {
    /// The stored object of the backup `file` names, as it is in the store
    /// (ciphertext when encrypted): for readers that decrypt as they stream.
    func storedArchive(_ file: String) throws -> any RandomAccessSource {
        let (repository, backup) = try find(file)
        return try repository.store.open(key: backup.manifest.archiveKey)
    }
}

extension IdentityOptions {
    /// Decrypts an encrypted backup with the identities given; nil when none
    /// was given, so the backup's own message names the fingerprints needed.
    func backupDecryptor() throws -> RepositorySource.Decryptor? {
        let identities = try identities()
        guard !identities.isEmpty else { return nil }
        return { stored, manifest in
            try AgeDecryptingSource(source: stored, identities: identities, recipientFingerprints: manifest.recipientFingerprints)
        }
    }
}
