import CellarSupport
import Foundation
import Logging
import ObjectStore
import PostgresClient

// MARK: - Encryption hook

/// How a backup's archive is encrypted on its way into the store: a wrapper
/// around the upload (age, to the configured recipients). The age module
/// provides one; the repository code knows only this.
public struct BackupEncryption: Sendable {
    /// Fingerprints of the recipients, recorded in the manifest.
    public var recipientFingerprints: [String]
    /// Wraps the upload in an encrypting sink. Call `finish` after the last
    /// write: it writes the final chunk into the upload.
    public var wrap: @Sendable (ByteSink) throws -> (sink: ByteSink, finish: () throws -> Void)

    public init(recipientFingerprints: [String],
                wrap: @escaping @Sendable (ByteSink) throws -> (sink: ByteSink, finish: () throws -> Void)) {
        self.recipientFingerprints = recipientFingerprints
        self.wrap = wrap
    }
}

// MARK: - BackupRunner

/// `pgcellar backup`: an export written into the repository.
///
/// The archive is streamed into an upload under
/// `<database>/<id>/archive` (through the encryption wrapper when
/// configured); only when that upload has finished is the manifest written.
/// A backup killed at any point leaves at most a temporary upload or an
/// archive without a manifest: neither lists, and ``BackupRepository/sweep(now:)``
/// removes both once they are older than `sweepAfter`.
public struct BackupRunner {
    public var repository: BackupRepository
    public var exportOptions: ExportOptions
    public var encryption: BackupEncryption?
    /// `repository.encryption.required`: refuse to write plaintext.
    public var encryptionRequired: Bool
    public var logger: Logger
    public var progress: ExportProgressObserver?

    public init(repository: BackupRepository, exportOptions: ExportOptions, encryption: BackupEncryption?,
                encryptionRequired: Bool, logger: Logger, progress: ExportProgressObserver? = nil) {
        self.repository = repository
        self.exportOptions = exportOptions
        self.encryption = encryption
        self.encryptionRequired = encryptionRequired
        self.logger = logger
        self.progress = progress
    }

    /// Takes one backup.
    ///
    /// - Parameter database: The database's name, for the key layout (the
    ///   export's connection target names the same database).
    /// - Returns: The manifest written, with the export's summary.
    /// - Throws: ``BackupError`` when encryption is required but not
    ///   available; export and store errors. Nothing lists after a failure.
    public func run(database: String) throws -> (manifest: BackupManifest, summary: ExportSummary) {
        if encryptionRequired && encryption == nil {
            throw BackupError("repository.encryption.required is true but this backup would not be encrypted; list age1… recipients in repository.encryption.recipients")
        }
        let started = Date()
        let swept = try repository.sweep(now: started)
        if swept.incompleteUploads + swept.orphanedObjects > 0 {
            logger.info("removed what earlier backups left: \(swept.incompleteUploads) incomplete uploads, \(swept.orphanedObjects) objects without a manifest")
        }
        let id = try BackupRepository.newID(at: started)
        let archiveKey = BackupRepository.directory(database: database, id: id) + BackupRepository.archiveName
        let expectedSize = try? databaseSize()
        logger.debug("backup \(id) of \(database): writing \(repository.store.description)/\(archiveKey)")

        let upload = try repository.store.makeUpload(key: archiveKey, expectedSize: expectedSize)
        let counted = CountingSink(upload)
        let summary: ExportSummary
        do {
            let exporter = Exporter(options: exportOptions, logger: logger, progress: progress)
            if let encryption {
                let (sink, finish) = try encryption.wrap(counted)
                summary = try exporter.run(to: sink)
                try finish()
            } else {
                summary = try exporter.run(to: counted)
            }
            try upload.finish()
        } catch {
            upload.abort()
            throw error
        }

        guard let snapshotTakenAt = BackupJSON.date(summary.snapshotTakenAt) else {
            throw BackupError("the export's snapshot time \(summary.snapshotTakenAt) is not an ISO 8601 UTC time")
        }
        let manifest = BackupManifest(
            formatVersion: BackupManifest.currentFormatVersion, id: id, database: database,
            snapshotTakenAt: snapshotTakenAt, startedAt: started, finishedAt: Date(),
            tool: "pgcellar \(PgCellarVersion.current)", archiveKey: archiveKey, archiveBytes: counted.count,
            encrypted: encryption != nil, recipientFingerprints: encryption?.recipientFingerprints ?? [],
            contents: encryption != nil ? nil : BackupManifest.Contents(
                tables: summary.tables, rows: summary.rows, entries: summary.entries,
                dataChunks: summary.dataChunks, uncompressedBytes: summary.uncompressedBytes))
        try repository.publish(manifest)
        return (manifest, summary)
    }

    /// `pg_database_size`, so an S3 upload can size its parts.
    private func databaseSize() throws -> Int64? {
        let connection = try exportOptions.target.connect(logger: logger)
        defer { connection.close() }
        return try connection.query("SELECT pg_catalog.pg_database_size(pg_catalog.current_database())")
            .scalar().flatMap { Int64($0) }
    }
}

/// Passes bytes on and counts them: the stored size of the archive.
final class CountingSink: ByteSink {
    private let target: ByteSink
    private(set) var count: UInt64 = 0

    init(_ target: ByteSink) {
        self.target = target
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try target.write(bytes)
        count += UInt64(bytes.count)
    }
}
