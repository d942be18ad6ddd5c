import Foundation

// MARK: - BackupManifest

/// The small plaintext object that makes a backup exist:
/// `<database>/<id>/manifest.json`, written after the archive is complete.
/// `backups list` reads only these (docs/backups.md, "Manifests").
///
/// - Important: For an encrypted backup, ``contents`` is nil: table counts,
///   row counts and digests stay inside the ciphertext.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// What the rows hold, for a backup that is not encrypted.
    public struct Contents: Codable, Sendable, Equatable {
        public var tables: Int
        public var rows: Int
        public var entries: Int
        public var dataChunks: Int
        /// Bytes of SQL the archive decompresses to.
        public var uncompressedBytes: UInt64
    }

    /// The manifest layout; readers refuse a version they do not know.
    public var formatVersion: Int
    /// `20261205T061512Z-3f9a1c`: the backup's start (UTC) and a random
    /// suffix, so ids sort by time and never collide.
    public var id: String
    public var database: String
    /// When the export's snapshot was taken (ISO 8601, UTC): what retention counts by.
    public var snapshotTakenAt: Date
    public var startedAt: Date
    public var finishedAt: Date
    /// `pgcellar 0.9.0`.
    public var tool: String
    /// The archive's key, relative to the repository root.
    public var archiveKey: String
    /// Bytes stored (ciphertext when encrypted).
    public var archiveBytes: UInt64
    public var encrypted: Bool
    /// Fingerprints of the age recipients the archive is encrypted to; an
    /// identity must match one to restore.
    public var recipientFingerprints: [String]
    /// Nil when encrypted.
    public var contents: Contents?

    public static let currentFormatVersion = 1

}

// MARK: - DrillRecord

/// The result of the last `pgcellar drill repo:<id>`, kept beside the
/// manifest in `<database>/<id>/drill.json`, so `backups list` can show it
/// without touching the manifest that makes the backup exist.
public struct DrillRecord: Codable, Sendable, Equatable {
    public var drilledAt: Date
    public var passed: Bool
    /// What did not match, in words; empty when it passed.
    public var mismatches: [String]
    public var tool: String

    public init(drilledAt: Date, passed: Bool, mismatches: [String], tool: String = "pgcellar \(PgCellarVersion.current)") {
        self.drilledAt = drilledAt
        self.passed = passed
        self.mismatches = mismatches
        self.tool = tool
    }
}

// MARK: - JSON

enum BackupJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(BackupJSON.timestamp(date))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = BackupJSON.date(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(text) is not an ISO 8601 time"))
            }
            return date
        }
        return decoder
    }

    /// `2026-12-05T06:15:12.345Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Reads `2026-12-05T06:15:12Z` with up to nine fractional digits
    /// (PostgreSQL's `now()` has six, which not every ISO 8601 parser takes).
    static func date(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        let body = text.dropLast()
        let parts = body.split(separator: ".", maxSplits: 1)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let whole = formatter.date(from: parts[0] + "Z") else { return nil }
        guard parts.count == 2 else { return whole }
        guard (1...9).contains(parts[1].count), parts[1].allSatisfy(\.isASCII), let fraction = Double("0." + parts[1]) else { return nil }
        return whole.addingTimeInterval(fraction)
    }
}
