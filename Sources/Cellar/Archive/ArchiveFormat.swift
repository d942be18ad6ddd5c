import CellarSupport
import Foundation

/// The constants and fixed-layout pieces of the `.sql.zst` archive format;
/// docs/archive-format.md describes them for readers in other languages.
public enum ArchiveFormat {
    /// The `format` value of every header.
    public static let name = "pgcellar-export"
    /// The version this code writes and the newest it reads. Version 2 added
    /// the header's own SHA-256, grouped entry metadata and block frames;
    /// version 1 archives are still read.
    public static let version = 2

    /// The skippable-frame magic number pgcellar uses for its metadata
    /// frames (RFC 8878 reserves 0x184D2A50...0x184D2A5F for skippable frames).
    static let skippableMagic: UInt32 = 0x184D_2A5C
    /// The magic number of an ordinary zstd frame.
    static let zstdMagic: UInt32 = 0xFD2F_B528

    /// The 8-byte tag that starts every pgcellar skippable frame's payload.
    enum Tag: String, CaseIterable {
        case header = "PGCL-HDR"
        case entry = "PGCL-ENT"
        case tableOfContents = "PGCL-TOC"
        case footer = "PGCL-END"

        var bytes: [UInt8] { Array(rawValue.utf8) }

        init?(bytes: some Collection<UInt8>) {
            guard bytes.count == 8, let tag = Tag(rawValue: String(decoding: bytes, as: UTF8.self)) else { return nil }
            self = tag
        }
    }

    /// The upper bound on a metadata frame (header, entry group, table of
    /// contents) that a reader will hold in memory.
    static let maximumFrameSize = 512 * 1024 * 1024

    /// The largest COPY text line PostgreSQL can send: COPY TO builds each row
    /// in one StringInfo, which cannot grow past MaxAllocSize (1 GiB - 1).
    static let maximumRowSize = (1 << 30) - 1

    /// The upper bound on an entry's frame, compressed or not. The writer
    /// closes a chunk before a row would take it past `--chunk-size` (at most
    /// 256 MiB), so only a single row can make a chunk larger, and no row is
    /// larger than ``maximumRowSize``; the rest is room for the COPY statement
    /// and zstd's worst-case expansion. The writer refuses anything larger
    /// (``ArchiveEntryEncoder``), so every frame it writes can be read back.
    public static let maximumEntryFrameSize = maximumRowSize + 64 * 1024 * 1024

    /// The header frame: the tag, the SHA-256 of the header's JSON, the JSON.
    /// The checksum lets a reader of a stream trust the header (whose
    /// settings and grants `restore --create` executes) before anything else.
    static func headerFrame(_ header: ArchiveHeader) throws -> [UInt8] {
        let json = Array(try JSONEncoder.archive.encode(header))
        return skippableFrame(.header, try SHA256.hash(json) + json)
    }

    /// A skippable frame: magic, little-endian payload size, payload.
    static func skippableFrame(_ tag: Tag, _ body: some Collection<UInt8>) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(16 + body.count)
        frame.appendLittleEndian(skippableMagic)
        frame.appendLittleEndian(UInt32(8 + body.count))
        frame.append(contentsOf: tag.bytes)
        frame.append(contentsOf: body)
        return frame
    }
}

// MARK: - Footer

/// The archive's fixed-size last 80 bytes: a skippable frame that locates the
/// table of contents and carries a SHA-256 of everything before it.
///
/// ```
/// offset size
///  0      4   skippable magic 0x184D2A5C (little-endian)
///  4      4   payload size = 72
///  8      8   tag "PGCL-END"
/// 16      4   format version
/// 20      4   reserved, zero
/// 24      8   offset of the table-of-contents frame
/// 32      8   length of the table-of-contents frame
/// 40     32   SHA-256 of bytes [0, footer offset)
/// 72      8   first 8 bytes of SHA-256 of footer bytes [0, 72)
/// ```
struct ArchiveFooter: Equatable {
    static let size = 80

    var formatVersion: UInt32
    var tableOfContentsOffset: UInt64
    var tableOfContentsLength: UInt64
    var contentSHA256: [UInt8]

    func encoded() throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.size)
        bytes.appendLittleEndian(ArchiveFormat.skippableMagic)
        bytes.appendLittleEndian(UInt32(Self.size - 8))
        bytes.append(contentsOf: ArchiveFormat.Tag.footer.bytes)
        bytes.appendLittleEndian(formatVersion)
        bytes.appendLittleEndian(UInt32(0))
        bytes.appendLittleEndian(tableOfContentsOffset)
        bytes.appendLittleEndian(tableOfContentsLength)
        bytes.append(contentsOf: contentSHA256)
        bytes.append(contentsOf: try SHA256.hash(bytes).prefix(8))
        return bytes
    }

    /// Decodes and checks a footer.
    ///
    /// - Throws: ``ArchiveError`` naming the field that is wrong.
    init(decoding bytes: some Collection<UInt8>, at offset: UInt64) throws {
        let bytes = Array(bytes)
        guard bytes.count == Self.size else {
            throw ArchiveError(.truncated, "the file is too short to hold a footer", offset: offset)
        }
        guard bytes.readLittleEndian(UInt32.self, at: 0) == ArchiveFormat.skippableMagic,
              bytes.readLittleEndian(UInt32.self, at: 4) == UInt32(Self.size - 8),
              ArchiveFormat.Tag(bytes: bytes[8..<16]) == .footer
        else {
            throw ArchiveError(.notAnArchive, "the last \(Self.size) bytes are not a pgcellar footer (a truncated file, or not a pgcellar export)", offset: offset)
        }
        guard Array(try SHA256.hash(Array(bytes[0..<72])).prefix(8)) == Array(bytes[72..<80]) else {
            throw ArchiveError(.corrupt, "the footer's own checksum does not match", offset: offset)
        }
        formatVersion = bytes.readLittleEndian(UInt32.self, at: 16)
        guard bytes.readLittleEndian(UInt32.self, at: 20) == 0 else {
            throw ArchiveError(.corrupt, "the footer's reserved field is not zero", offset: offset + 20)
        }
        tableOfContentsOffset = bytes.readLittleEndian(UInt64.self, at: 24)
        tableOfContentsLength = bytes.readLittleEndian(UInt64.self, at: 32)
        contentSHA256 = Array(bytes[40..<72])
        guard formatVersion >= 1, formatVersion <= UInt32(ArchiveFormat.version) else {
            throw ArchiveError(.unsupportedVersion, "format version \(formatVersion) is newer than this pgcellar reads (\(ArchiveFormat.version)); upgrade pgcellar", offset: offset + 16)
        }
        // Crafted values must not overflow (a trap), only fail.
        let (end, overflow) = tableOfContentsOffset.addingReportingOverflow(tableOfContentsLength)
        guard !overflow, end == offset else {
            throw ArchiveError(.corrupt, "the footer does not point at a table of contents just before it", offset: offset + 24)
        }
    }

    init(formatVersion: UInt32, tableOfContentsOffset: UInt64, tableOfContentsLength: UInt64, contentSHA256: [UInt8]) {
        self.formatVersion = formatVersion
        self.tableOfContentsOffset = tableOfContentsOffset
        self.tableOfContentsLength = tableOfContentsLength
        self.contentSHA256 = contentSHA256
    }
}

// MARK: - Errors

/// Why an archive cannot be read: what is wrong, where, and in which entry.
public struct ArchiveError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let notAnArchive = Kind(rawValue: "not-an-archive")
        public static let unsupportedVersion = Kind(rawValue: "unsupported-version")
        public static let truncated = Kind(rawValue: "truncated")
        public static let corrupt = Kind(rawValue: "corrupt")
        public static let checksumMismatch = Kind(rawValue: "checksum-mismatch")
        public static let invalidUse = Kind(rawValue: "invalid-use")
    }

    public var kind: Kind
    public var message: String
    /// Where in the file the problem was found, when known.
    public var offset: UInt64?
    /// The entry the problem is in, when it is in one.
    public var entryID: Int?
    /// A short description of that entry ("TABLE DATA public film (chunk 2)").
    public var entryDescription: String?

    public init(_ kind: Kind, _ message: String, offset: UInt64? = nil, entry: ArchiveEntry? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.entryID = entry?.id
        self.entryDescription = entry.map(\.displayName)
    }

    public var description: String {
        var text = ""
        if let entryID, let entryDescription {
            text += "entry \(entryID) (\(entryDescription)): "
        }
        text += message
        if let offset { text += " (at byte \(offset))" }
        return text
    }
}

extension ArchiveEntry {
    /// "TABLE DATA public film (chunk 2 of 3)", for messages and listings.
    public var displayName: String {
        var text = kind.rawValue
        if let schema { text += " \(schema)" } else { text += " -" }
        text += " \(name)"
        if let data {
            if let count = data.chunkCount, count > 1 {
                text += " (chunk \(data.chunkOrdinal) of \(count))"
            } else if data.chunk > 0 {
                text += " (chunk \(data.chunkOrdinal))"
            }
        }
        return text
    }
}

extension ArchiveEntry.DataInfo {
    /// The chunk's 1-based number, for people. Messages about a damaged
    /// entry name it before its numbers are checked, so this must not trap
    /// on `Int.max`.
    public var chunkOrdinal: String {
        let (ordinal, overflow) = chunk.addingReportingOverflow(1)
        return overflow ? "\(chunk) (0-based)" : String(ordinal)
    }
}

// MARK: - Little-endian helpers

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func readLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size {
            value |= T(self[offset + index]) << (8 * index)
        }
        return value
    }
}

extension JSONEncoder {
    /// Compact, sorted-key JSON: the archive's metadata encoding.
    static var archive: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
