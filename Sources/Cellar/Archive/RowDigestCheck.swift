import Foundation

/// What `verify --deep` found when it recomputed every chunk's row digest
/// from the archive's own COPY lines.
public struct RowDigestCheck: Codable, Sendable, Equatable {
    /// Whether the archive carries digests this reader can recompute; when
    /// false, ``unavailableReason`` says why and only row counts were checked.
    public var digestsAvailable: Bool
    public var unavailableReason: String?
    /// Data chunks whose rows were read.
    public var chunksChecked = 0
    /// Rows read, across all chunks.
    public var rows = 0
    /// Every chunk whose rows disagree with its metadata, in file order.
    public var mismatches: [Mismatch] = []

    public var passed: Bool { mismatches.isEmpty }

    /// One chunk whose recorded digest or row count its rows do not give.
    public struct Mismatch: Codable, Sendable, Equatable, CustomStringConvertible {
        public var entryID: Int
        public var tableSchema: String
        public var tableName: String
        public var chunk: Int
        public var recordedRows: Int
        public var countedRows: Int
        /// nil when the chunk has no digest (the header says it should).
        public var recordedDigest: String?
        /// nil when the archive has no digests.
        public var computedDigest: String?

        public var description: String {
            let table = "\(tableSchema).\(tableName)"
            var problems: [String] = []
            if recordedRows != countedRows { problems.append("it records \(recordedRows) rows but holds \(countedRows)") }
            if let computedDigest {
                if let recordedDigest {
                    if recordedDigest != computedDigest {
                        problems.append("its row digest is \(recordedDigest) but its rows give \(computedDigest)")
                    }
                } else {
                    problems.append("it has no row digest though the header says every chunk has one")
                }
            }
            return "entry \(entryID), chunk \(chunk + 1) of \(table): " + problems.joined(separator: "; ")
        }
    }

    /// Starts a check of an archive with this header.
    init(header: ArchiveHeader) {
        switch header.rowDigest {
        case nil:
            digestsAvailable = false
            unavailableReason = "the archive has no row digests (written by a pgcellar before they were recorded); rows were counted only"
        case let info? where info.usableSeed == nil:
            digestsAvailable = false
            unavailableReason = "the archive's row digests use \(info.algorithm) with seed \(info.seed), which this pgcellar does not compute; rows were counted only"
        default:
            digestsAvailable = true
            unavailableReason = nil
        }
        seed = header.rowDigest?.usableSeed
    }

    /// nil when the digests cannot be recomputed (not encoded: a report need not show it).
    private var seed: UInt64?

    enum CodingKeys: String, CodingKey {
        case digestsAvailable, unavailableReason, chunksChecked, rows, mismatches
    }

    /// Reads one data chunk's rows through `readRows` (which streams them in
    /// pieces, as ``ArchiveStreamReader/readCopyRows(_:)`` does) and compares.
    mutating func check(_ entry: ArchiveEntry, readRows: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard let data = entry.data else { return }
        var digester = RowDigester(seed: seed ?? 0)
        try readRows { digester.add(lines: $0) }
        if digester.hasPartialLine {
            throw ArchiveError(.corrupt, "the chunk's last row does not end with a newline", entry: entry)
        }
        chunksChecked += 1
        rows += digester.rows
        let computed = seed == nil ? nil : digester.digest.hex
        let recorded = data.rowDigest.map { $0.lowercased() }
        if digester.rows != data.rows || (computed != nil && recorded != computed) {
            mismatches.append(Mismatch(
                entryID: entry.id, tableSchema: data.tableSchema, tableName: data.tableName, chunk: data.chunk,
                recordedRows: data.rows, countedRows: digester.rows, recordedDigest: recorded, computedDigest: computed))
        }
    }
}
