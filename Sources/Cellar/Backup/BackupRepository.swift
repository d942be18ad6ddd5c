import CellarSupport
import Foundation
import ObjectStore

// MARK: - BackupRepository

/// The backups in one object store, and the layout of their keys
/// (docs/backups.md, "Key layout"):
///
/// ```
/// <database>/<id>/archive         the export (age-encrypted when configured)
/// <database>/<id>/manifest.json   written last; a backup exists once it does
/// <database>/<id>/drill.json      the last drill's result, when drilled
/// ```
///
/// Keys are relative to the store's root (the directory, or the bucket and
/// its prefix). Database names are percent-encoded where they hold anything
/// but letters, digits, `_` and `-`.
public struct BackupRepository: Sendable {
    public let store: any ObjectStore
    /// How old an abandoned upload must be before ``sweep()`` removes it.
    public let sweepAfter: TimeInterval

    public init(store: any ObjectStore, sweepAfter: TimeInterval = RepositoryConfig.defaultSweepAfter) {
        self.store = store
        self.sweepAfter = sweepAfter
    }

    // MARK: Keys

    static let archiveName = "archive"
    static let manifestName = "manifest.json"
    static let drillName = "drill.json"

    /// `<database>/`: where one database's backups are.
    public static func databasePrefix(_ database: String) -> String {
        keyComponent(database) + "/"
    }

    public static func directory(database: String, id: String) -> String {
        databasePrefix(database) + id + "/"
    }

    /// A database name as one key component: letters, digits, `_` and `-`
    /// stay, every other byte becomes `%XX`, so no name can add a level,
    /// start with a dot or collide with another.
    static func keyComponent(_ name: String) -> String {
        var result = ""
        for byte in name.utf8 {
            let scalar = Unicode.Scalar(byte)
            if scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")) {
                result.unicodeScalars.append(scalar)
            } else {
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// A new backup id: the time (UTC, to the second) and 6 random hex digits.
    public static func newID(at date: Date = Date()) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", p.year!, p.month!, p.day!, p.hour!, p.minute!, p.second!)
        return stamp + "-" + Hex.encode(try SecureRandom.bytes(count: 3))
    }

    // MARK: Listing

    /// Every complete backup (one whose manifest exists), newest snapshot
    /// first, with its last drill's result.
    ///
    /// - Parameter database: Only this database's backups; nil for all.
    /// - Throws: When the store cannot be listed or a manifest cannot be read.
    public func backups(database: String? = nil) throws -> [StoredBackup] {
        let prefix = database.map(Self.databasePrefix) ?? ""
        let objects = try store.list(prefix: prefix)
        let drilled = Set(objects.map(\.key).filter { $0.hasSuffix("/" + Self.drillName) })
        var found: [StoredBackup] = []
        for object in objects where object.key.hasSuffix("/" + Self.manifestName) && object.key.split(separator: "/").count == 3 {
            guard let bytes = try store.get(key: object.key) else { continue }
            let manifest = try Self.decodeManifest(bytes, key: object.key, store: store)
            let directory = String(object.key.dropLast(Self.manifestName.count))
            var drill: DrillRecord?
            if drilled.contains(directory + Self.drillName), let record = try store.get(key: directory + Self.drillName) {
                drill = try? BackupJSON.decoder().decode(DrillRecord.self, from: Data(record))
            }
            found.append(StoredBackup(manifest: manifest, lastDrill: drill, directory: directory))
        }
        return found.sorted { ($0.manifest.snapshotTakenAt, $0.manifest.id) > ($1.manifest.snapshotTakenAt, $1.manifest.id) }
    }

    static func decodeManifest(_ bytes: [UInt8], key: String, store: any ObjectStore) throws -> BackupManifest {
        let manifest: BackupManifest
        do {
            manifest = try BackupJSON.decoder().decode(BackupManifest.self, from: Data(bytes))
        } catch {
            throw BackupError("\(store.description)/\(key) is not a pgcellar backup manifest (\(error)); remove that backup's directory or restore the file")
        }
        guard manifest.formatVersion <= BackupManifest.currentFormatVersion else {
            throw BackupError("\(store.description)/\(key) has manifest format \(manifest.formatVersion), newer than this pgcellar reads (\(BackupManifest.currentFormatVersion)); upgrade pgcellar")
        }
        return manifest
    }

    // MARK: Writing

    /// Writes the manifest that makes a backup exist.
    func publish(_ manifest: BackupManifest) throws {
        let bytes = try BackupJSON.encoder().encode(manifest)
        try store.put(key: Self.directory(database: manifest.database, id: manifest.id) + Self.manifestName, bytes: [UInt8](bytes))
    }

    /// Records a drill's result beside the backup's manifest, replacing the
    /// previous one.
    public func recordDrill(_ record: DrillRecord, for backup: StoredBackup) throws {
        let bytes = try BackupJSON.encoder().encode(record)
        try store.put(key: backup.directory + Self.drillName, bytes: [UInt8](bytes))
    }

    // MARK: Removing

    /// Deletes a backup: the manifest first, so it stops listing at once and
    /// a prune killed halfway leaves only objects ``sweep()`` removes.
    public func delete(_ backup: StoredBackup) throws {
        try store.delete(key: backup.directory + Self.manifestName)
        try store.delete(key: backup.directory + Self.drillName)
        try store.delete(key: backup.manifest.archiveKey)
    }

    /// What ``sweep()`` removed.
    public struct SweepResult: Sendable, Equatable {
        /// Temporary files and incomplete multipart uploads.
        public var incompleteUploads: Int
        /// Objects of backups that never got their manifest (killed after
        /// the archive was complete) or lost it (a prune killed halfway).
        public var orphanedObjects: Int

        public init(incompleteUploads: Int, orphanedObjects: Int) {
            self.incompleteUploads = incompleteUploads
            self.orphanedObjects = orphanedObjects
        }
    }

    /// Removes what killed backups and prunes left, once it is older than
    /// ``sweepAfter``, so a backup running meanwhile is never touched.
    public func sweep(now: Date = Date()) throws -> SweepResult {
        let uploads = try store.sweepIncompleteUploads(prefix: "", olderThan: .seconds(sweepAfter))
        let cutoff = now.addingTimeInterval(-sweepAfter)
        var byDirectory: [String: [ObjectInfo]] = [:]
        for object in try store.list(prefix: "") {
            let parts = object.key.split(separator: "/")
            guard parts.count == 3 else { continue }
            byDirectory["\(parts[0])/\(parts[1])/", default: []].append(object)
        }
        var orphaned = 0
        for (directory, objects) in byDirectory.sorted(by: { $0.key < $1.key }) {
            guard !objects.contains(where: { $0.key == directory + Self.manifestName }),
                  objects.allSatisfy({ $0.lastModified < cutoff }) else { continue }
            for object in objects {
                try store.delete(key: object.key)
                orphaned += 1
            }
        }
        return SweepResult(incompleteUploads: uploads, orphanedObjects: orphaned)
    }
}

/// A complete backup as `list` finds it.
public struct StoredBackup: Sendable, Equatable {
    public var manifest: BackupManifest
    public var lastDrill: DrillRecord?
    /// `<database>/<id>/`.
    public var directory: String

    public init(manifest: BackupManifest, lastDrill: DrillRecord?, directory: String) {
        self.manifest = manifest
        self.lastDrill = lastDrill
        self.directory = directory
    }
}

/// A backup that cannot be written, found or read; the message says what to do.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
