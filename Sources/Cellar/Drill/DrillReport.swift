import Foundation

/// One thing a drill found different between the archive and its restore.
public struct DrillMismatch: Codable, Sendable, Equatable, CustomStringConvertible {
    /// What was compared. A struct with constants, so that a new kind of
    /// proof (large objects, extension configuration tables) adds a constant
    /// and a ``DrillProof``, not a case every switch must learn.
    public struct Kind: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A table's rows: count and row digest.
        public static let tableRows = Kind(rawValue: "table rows")
        /// A sequence's value (its SEQUENCE SET entry).
        public static let sequence = Kind(rawValue: "sequence")
        /// A schema object: missing, unexpected, or with other SQL.
        public static let schemaObject = Kind(rawValue: "schema object")
        /// A large object: missing, or other bytes (size and SHA-256).
        public static let largeObject = Kind(rawValue: "large object")
    }

    public var kind: Kind
    /// The object, as `pg_restore -l` names it ("TABLE public.film", "INDEX public.film_pkey").
    public var object: String
    public var detail: String

    public init(kind: Kind, object: String, detail: String) {
        self.kind = kind
        self.object = object
        self.detail = detail
    }

    public var description: String { "\(object): \(detail)" }
}

/// One table's rows as the archive holds them and as the restore gave them back.
public struct DrillTableCheck: Codable, Sendable, Equatable {
    public var schema: String
    public var name: String
    public var archiveRows: Int
    public var restoredRows: Int
    /// nil when the archive has no usable digests.
    public var archiveDigest: String?
    public var restoredDigest: String?
    /// COPY text bytes read back.
    public var bytes: UInt64

    public var matches: Bool { archiveRows == restoredRows && archiveDigest == restoredDigest }
}

/// What a drill did and found.
public struct DrillReport: Codable, Sendable {
    public var archive: String
    public var sourceDatabase: String
    public var snapshotTakenAt: String
    /// Where the scratch database was made ("user@host:port").
    public var server: String
    public var scratchDatabase: String
    public var scratchOID: UInt32?
    /// Whether the scratch database is gone again (false with `--keep`).
    public var scratchDropped = false
    /// Roles the archive references that the server lacks; when any, the
    /// restore ran without owners and privileges and the schema comparison
    /// ignored them.
    public var rolesMissing: [String] = []
    public var ownersAndPrivilegesSkipped: Bool { !rolesMissing.isEmpty }
    /// Tablespaces the archive names that the drill server lacks: the
    /// restore ran with `--no-tablespaces` and the schema comparison
    /// ignored tablespaces.
    public var tablespacesMissing: [String] = []
    /// Whether tables were compared by row digest; when false, ``digestNote`` says why.
    public var digestsCompared = false
    public var digestNote: String?
    public var tables: [DrillTableCheck] = []
    public var rows = 0
    public var bytes: UInt64 = 0
    public var sequencesChecked = 0
    /// Large objects read back and compared by size and SHA-256, and their bytes.
    public var largeObjects = 0
    public var largeObjectBytes: Int64 = 0
    public var schemaObjectsChecked = 0
    public var mismatches: [DrillMismatch] = []
    /// Why the drill could not finish (the restore failed, a connection
    /// broke); the mismatches found before stay listed.
    public var failure: String?
    /// Seconds per phase, in the order they ran: restore, data, schema, cleanup.
    public var phases: [Phase] = []
    public var seconds = 0.0

    public init(archive: String, sourceDatabase: String, snapshotTakenAt: String, server: String, scratchDatabase: String) {
        self.archive = archive
        self.sourceDatabase = sourceDatabase
        self.snapshotTakenAt = snapshotTakenAt
        self.server = server
        self.scratchDatabase = scratchDatabase
    }

    public struct Phase: Codable, Sendable, Equatable {
        public var name: String
        public var seconds: Double
    }

    public var passed: Bool { failure == nil && mismatches.isEmpty }

    /// The report as a person reads it: one line per mismatch, then the summary.
    public func lines() -> [String] {
        var lines = mismatches.map { "mismatch: \($0)" }
        if let failure { lines.append("failed: \(failure)") }
        if !rolesMissing.isEmpty {
            lines.append("roles missing on the server: \(rolesMissing.joined(separator: ", ")); restored with --no-owner --no-privileges, so owners and privileges were not compared")
        }
        if !tablespacesMissing.isEmpty {
            lines.append("tablespaces missing on the server: \(tablespacesMissing.joined(separator: ", ")); restored with --no-tablespaces, so tablespaces were not compared")
        }
        if let digestNote { lines.append(digestNote) }
        let phaseText = phases.map { String(format: "%@ %.1fs", $0.name, $0.seconds) }.joined(separator: ", ")
        let verdict = passed ? "OK" : "FAILED"
        lines.append("drill of \(sourceDatabase) (snapshot \(snapshotTakenAt)) into \(scratchDatabase) on \(server): \(verdict): "
            + "\(tables.count) tables, \(rows) rows, \(bytes) bytes compared by \(digestsCompared ? "row digest and count" : "row count"); "
            + (largeObjects > 0 ? "\(largeObjects) large objects (\(largeObjectBytes) bytes) by SHA-256; " : "")
            + "\(sequencesChecked) sequences, \(schemaObjectsChecked) schema objects; \(mismatches.count) mismatches; "
            + String(format: "%.1fs (%@)", seconds, phaseText)
            + (scratchDropped ? "; scratch database dropped" : "; scratch database \(scratchDatabase) kept"))
        return lines
    }
}
