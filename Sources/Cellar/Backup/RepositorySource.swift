import CellarSupport
import Foundation
import ObjectStore

// MARK: - StoreFactory

/// The object store a configuration's `repository:` names.
public enum StoreFactory {
    /// - Throws: ``BackupError`` when the file has no `repository` section,
    ///   or names a kind of store this build cannot open.
    public static func store(for config: PgcellarConfig) throws -> any ObjectStore {
        guard let repository = config.repository else {
            throw BackupError("\(config.source) has no repository section; add repository.path (a directory) or repository.s3 to say where backups go (docs/backups.md)")
        }
        switch repository.location {
        case .path(let path):
            return DirectoryStore(root: config.resolvedPath(path))
        case .s3(let location):
            return try s3Store(location, config: config)
        }
    }

    /// The bucket `repository.s3` names, with the credentials AWS tools
    /// would use: the file `credentialsFile` names (relative to the
    /// configuration's directory) when set, else `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, else
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    ///
    /// - Important: The secret key reaches only the signer; no message names it.
    static func s3Store(_ location: S3Location, config: PgcellarConfig,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Store {
        let (credentials, _) = try S3Credentials.resolve(environment: environment,
                                                         file: location.credentialsFile.map(config.resolvedPath))
        let configuration = S3Configuration(
            endpoint: location.endpoint, bucket: location.bucket, prefix: location.prefix, region: location.region,
            forcePathStyle: location.forcePathStyle, caBundle: location.caBundle.map(config.resolvedPath))
        return try S3Store(configuration: configuration, credentials: credentials)
    }

    /// The backups of the configuration's repository.
    public static func repository(for config: PgcellarConfig) throws -> BackupRepository {
        BackupRepository(store: try store(for: config),
                         sweepAfter: config.repository?.sweepAfter ?? RepositoryConfig.defaultSweepAfter)
    }
}

// MARK: - RepositorySource

/// `repo:latest`, `repo:<id>`, `repo:<database>@latest`: a backup named
/// wherever a file is accepted (restore, verify, list, drill).
public enum RepositorySource {
    /// The prefix that marks a repository reference.
    public static let scheme = "repo:"

    /// Whether a FILE argument names a backup rather than a file.
    public static func isReference(_ argument: String) -> Bool {
        argument.hasPrefix(scheme)
    }

    /// Decrypts an encrypted archive: given the stored ciphertext and the
    /// manifest (whose recipient fingerprints say which identity is needed),
    /// the plaintext view. The age module provides one from `--identity`.
    public typealias Decryptor = (any RandomAccessSource, BackupManifest) throws -> any RandomAccessSource

    /// Which backup a reference names.
    ///
    /// - Parameters:
    ///   - reference: `repo:latest` (newest backup of the configuration's
    ///     database), `repo:<database>@latest`, or `repo:<id>`.
    ///   - config: The configuration whose repository is read.
    /// - Throws: ``BackupError`` naming what was looked for and what exists.
    public static func find(_ reference: String, config: PgcellarConfig) throws -> (BackupRepository, StoredBackup) {
        guard isReference(reference) else {
            throw BackupError("\(displayQuoted(reference)) is not a repository reference; write repo:latest, repo:<id> or repo:<database>@latest")
        }
        let name = String(reference.dropFirst(scheme.count))
        let repository = try StoreFactory.repository(for: config)
        let found: StoredBackup?
        let wanted: String
        if name == "latest" || name.hasSuffix("@latest") {
            let database = name == "latest" ? config.database.name : String(name.dropLast("@latest".count))
            guard !database.isEmpty else {
                throw BackupError("\(reference): name the database before @latest, as in repo:\(config.database.name)@latest")
            }
            found = try repository.backups(database: database).first
            wanted = "no backup of database \(database)"
        } else {
            found = try repository.backups().first { $0.manifest.id == name }
            wanted = "no backup with id \(name)"
        }
        guard let found else {
            throw BackupError("\(reference): \(repository.store.description) has \(wanted); `pgcellar backups list -c \(config.source)` shows the backups there are")
        }
        return (repository, found)
    }

    /// The archive a reference names, ready for `ArchiveReader(source:)`:
    /// decrypted when the backup is encrypted.
    ///
    /// - Parameter decrypt: How to decrypt; nil when no identity was given.
    /// - Throws: ``BackupError`` when the backup is encrypted and there is
    ///   no identity, naming the recipient fingerprints it needs.
    public static func resolve(_ reference: String, config: PgcellarConfig,
                               decrypt: Decryptor? = nil) throws -> any RandomAccessSource {
        let (repository, backup) = try find(reference, config: config)
        return try open(backup, in: repository, decrypt: decrypt)
    }

    /// The archive of a backup found with ``find(_:config:)``.
    public static func open(_ backup: StoredBackup, in repository: BackupRepository,
                            decrypt: Decryptor? = nil) throws -> any RandomAccessSource {
        let stored = try repository.store.open(key: backup.manifest.archiveKey)
        guard backup.manifest.encrypted else { return stored }
        guard let decrypt else {
            throw BackupError("backup \(backup.manifest.id) is encrypted to the age recipients \(backup.manifest.recipientFingerprints.joined(separator: ", ")); give --identity FILE (or PGCELLAR_AGE_IDENTITY_FILE) with a matching identity")
        }
        return try decrypt(stored, backup.manifest)
    }

    /// Records a drill of `reference` beside its manifest, so `backups list`
    /// shows it.
    public static func recordDrill(_ record: DrillRecord, reference: String, config: PgcellarConfig) throws {
        let (repository, backup) = try find(reference, config: config)
        try repository.recordDrill(record, for: backup)
    }
}

// MARK: - Sequential reads

/// Reads a ``RandomAccessSource`` from start to end, for the readers that
/// stream (verify, the stream restore).
public final class SequentialSourceReader: ByteSource {
    private let source: any RandomAccessSource
    private var position: UInt64 = 0
    private let size: UInt64

    public init(_ source: any RandomAccessSource) throws {
        self.source = source
        self.size = try source.size()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Int(min(UInt64(buffer.count), size - position))
        guard count > 0 else { return 0 }
        let bytes = try source.read(at: position, count: count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        position += UInt64(count)
        return count
    }
}
