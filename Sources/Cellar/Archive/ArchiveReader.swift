import CellarSupport
import Foundation

// MARK: - Seekable reader

/// Reads an archive file by its table of contents: the footer locates the
/// table of contents, which locates every entry, so entries can be read in any
/// order and from several threads at once (restore's parallel workers).
///
/// Opening checks the footer, the header and the table of contents but not
/// the whole file's SHA-256 (that needs a full read: ``ArchiveVerifier``).
/// Every ``read(_:_:)`` checks its entry's zstd checksum, size and SHA-256.
///
/// ```swift
/// let archive = try ArchiveReader(path: "export.sql.zst")
/// for entry in archive.entries where entry.section == .preData {
///     try archive.read(entry) { sql in ... }
/// }
/// ```
public final class ArchiveReader: @unchecked Sendable {
    // @unchecked Sendable: after init the reader only calls pread(2) on its
    // descriptor, which is safe from many threads, and every read creates its
    // own decompressor; nothing else is mutable.

    public let path: String
    public let header: ArchiveHeader
    /// Every entry in file order.
    public let entries: [ArchiveEntry]
    /// The file's size in bytes.
    public let fileSize: UInt64
    /// The footer's SHA-256 of every byte before it.
    private let contentSHA256: [UInt8]
    private let file: any RandomAccessSource
    /// Entry id → position in `entries` (not a second copy of every entry).
    private let entriesByID: [Int: Int]

    /// Opens an archive file and reads its header and table of contents.
    ///
    /// - Throws: ``ArchiveError`` when the file is not a pgcellar archive, is
    ///   truncated or damaged in its metadata; `FileError` when it cannot be read.
    public convenience init(path: String) throws {
        try self.init(source: try FileDescriptorInput(path: path))
    }

    /// Opens an archive held by any random-access source (a file, an object
    /// in a store, a decrypting view) and reads its header and table of contents.
    ///
    /// - Throws: ``ArchiveError`` when the source is not a pgcellar archive, is
    ///   truncated or damaged in its metadata; the source's error when it cannot be read.
    public init(source file: any RandomAccessSource) throws {
        let path = file.name
        self.path = path
        self.file = file
        fileSize = try file.size()
        guard fileSize >= UInt64(ArchiveFooter.size + 16) else {
            throw ArchiveError(.truncated, "\(path) is only \(fileSize) bytes long: not a complete pgcellar export")
        }
        let footerOffset = fileSize - UInt64(ArchiveFooter.size)
        let footer = try ArchiveFooter(decoding: try file.read(at: footerOffset, count: ArchiveFooter.size), at: footerOffset)
        contentSHA256 = footer.contentSHA256

        // The header: the first frame.
        let headerPrefix = try file.read(at: 0, count: 16)
        let headerLength = try ArchiveFrames.metadataFrameLength(headerPrefix, expecting: .header, at: 0, limit: footer.tableOfContentsOffset)
        header = try ArchiveFrames.decodeHeader(try file.read(at: 16, count: headerLength - 16))

        // The table of contents.
        guard footer.tableOfContentsLength >= 16, footer.tableOfContentsLength <= UInt64(ArchiveFormat.maximumFrameSize) else {
            throw ArchiveError(.corrupt, "the footer gives an impossible table-of-contents length \(footer.tableOfContentsLength)", offset: footerOffset + 32)
        }
        let tocFrame = try file.read(at: footer.tableOfContentsOffset, count: Int(footer.tableOfContentsLength))
        let tocLength = try ArchiveFrames.metadataFrameLength(Array(tocFrame.prefix(16)), expecting: .tableOfContents,
                                                              at: footer.tableOfContentsOffset, limit: footerOffset)
        guard tocLength == tocFrame.count else {
            throw ArchiveError(.corrupt, "the table of contents' frame length disagrees with the footer", offset: footer.tableOfContentsOffset)
        }
        let toc = try ArchiveFrames.decodeTableOfContents(tocFrame[16...], at: footer.tableOfContentsOffset)
        LargeBuffers.trimFreedMemory()
        var byID: [Int: Int] = [:]
        byID.reserveCapacity(toc.entries.count)
        for (position, entry) in toc.entries.enumerated() {
            // Crafted sizes must not overflow (a trap), only fail.
            guard let offset = entry.offset, case let (end, overflow) = offset.addingReportingOverflow(entry.compressedSize),
                  !overflow, end <= footer.tableOfContentsOffset else {
                throw ArchiveError(.corrupt, "the table of contents places the entry outside the file", entry: entry)
            }
            guard byID.updateValue(position, forKey: entry.id) == nil else {
                throw ArchiveError(.corrupt, "the table of contents lists entry id \(entry.id) twice", entry: entry)
            }
        }
        entries = toc.entries
        entriesByID = byID
    }

    /// Reads every byte before the footer and checks it against the footer's
    /// SHA-256: what a restore does before it executes anything, so that a
    /// file damaged or altered anywhere (header, table of contents, an entry
    /// it would run first) runs nothing at all.
    ///
    /// - Throws: ``ArchiveError`` (`checksumMismatch`) when the bytes differ.
    public func verifyContentDigest() throws {
        let hasher = try SHA256()
        let end = fileSize - UInt64(ArchiveFooter.size)
        let piece = 1 << 20
        var offset: UInt64 = 0
        while offset < end {
            let count = Int(min(UInt64(piece), end - offset))
            hasher.update(try file.read(at: offset, count: count))
            offset += UInt64(count)
        }
        guard hasher.finalize() == contentSHA256 else {
            throw ArchiveError(.checksumMismatch, "\(path) does not match the SHA-256 in its footer: the file is damaged or was altered; nothing was restored (run pgcellar verify on it, and restore from an intact copy)")
        }
    }

    /// The entry with this id.
    public func entry(id: Int) -> ArchiveEntry? { entriesByID[id].map { entries[$0] } }

    /// Decompresses an entry's SQL, streaming it to `consume` in pieces of up
    /// to 128 KiB, and checks it.
    ///
    /// - Important: The check completes only after the last piece: when this
    ///   throws, treat everything already consumed as untrustworthy (roll back).
    /// - Throws: ``ArchiveError`` (`checksumMismatch`, `corrupt`) naming the entry.
    public func read(_ entry: ArchiveEntry, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let offset = entry.offset else {
            throw ArchiveError(.invalidUse, "the entry has no offset (it is not from this archive's table of contents)", entry: entry)
        }
        guard entry.compressedSize <= UInt64(ArchiveFormat.maximumEntryFrameSize) else {
            throw ArchiveError(.corrupt, "the entry claims an impossible compressed size \(entry.compressedSize)", offset: offset, entry: entry)
        }
        if entry.blockOffset != nil {
            let block = try blocks.block(at: offset) {
                try ArchiveFrames.decompressBlock(try file.read(at: offset, count: Int(entry.compressedSize)), at: offset, entry: entry)
            }
            try ArchiveFrames.checkBlockMember(entry, in: block, at: offset, consume)
            return
        }
        let frame = try file.read(at: offset, count: Int(entry.compressedSize))
        try ArchiveFrames.decompressEntry(entry, frame: frame, at: offset, consume)
    }

    /// Recently decompressed block frames: restore reads a block's entries
    /// one after another, often on one thread.
    private let blocks = BlockCache()

    /// The entry's SQL as bytes (for small entries: DDL, not table data).
    public func sql(_ entry: ArchiveEntry) throws -> String {
        var bytes: [UInt8] = []
        try read(entry) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Streams only the rows of a "TABLE DATA" entry, in COPY text format,
    /// for `COPY ... FROM STDIN` on a connection: without the entry's
    /// `COPY ...;` line and its closing `\.` line.
    ///
    /// - Throws: ``ArchiveError`` when the entry is not table data or its
    ///   bytes are not framed as the format says.
    public func readCopyRows(_ entry: ArchiveEntry, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let data = entry.data else {
            throw ArchiveError(.invalidUse, "not a TABLE DATA entry", entry: entry)
        }
        var splitter = try CopyRowsSplitter(entry: entry, data: data)
        try read(entry) { try splitter.feed($0, consume) }
        try splitter.finish()
    }
}

// MARK: - Sequential reader

/// Reads an archive front to back from any byte source (standard input, a
/// pipe), checking everything on the way: each entry's metadata, zstd
/// checksum, size and SHA-256, then the table of contents against the entries
/// seen, then the footer's SHA-256 of everything before it, then that nothing
/// follows.
///
/// ```swift
/// let reader = try ArchiveStreamReader(source: FileDescriptorInput.standardInput())
/// while let entry = try reader.next() {
///     try reader.readPayload { sql in ... }   // or skip: next() reads and checks it anyway
/// }
/// // reaching nil means the whole archive checked out
/// ```
///
/// - Important: An entry's bytes are delivered before the archive as a whole
///   is proven intact; a restore that must be all-or-nothing should do its
///   work in a transaction it commits only after `next()` returned nil.
public final class ArchiveStreamReader {
    public let header: ArchiveHeader
    /// Entries read so far, with the offsets they were found at.
    public private(set) var entriesRead: [ArchiveEntry] = []
    /// The table of contents, once the end is reached.
    public private(set) var tableOfContents: ArchiveTableOfContents?
    /// Bytes read so far.
    public var position: UInt64 { input.position }

    private let input: CountingInput
    private var pending: ArchiveEntry?
    private var finished = false
    /// The entries of the current metadata group not yet returned.
    private var group: [ArchiveEntry] = []
    private var groupNext = 0
    /// The current block frame's content, and how much of it entries covered.
    private var block: (offset: UInt64, content: [UInt8], covered: UInt64)?

    /// Reads and checks the header.
    public init(source: ByteSource) throws {
        // Frame headers are small reads: gather them from larger ones.
        input = try CountingInput(source is BufferedByteSource ? source : BufferedByteSource(source))
        let prefix = try input.readExactly(16, what: "the header")
        let length = try ArchiveFrames.metadataFrameLength(prefix, expecting: .header, at: 0, limit: nil)
        header = try ArchiveFrames.decodeHeader(try input.readExactly(length - 16, what: "the header"))
    }

    /// Moves to the next entry and returns its metadata; nil at the end, once
    /// the table of contents and footer have been checked.
    ///
    /// If the previous entry's payload was not read, it is read and checked now.
    public func next() throws -> ArchiveEntry? {
        if pending != nil { try readPayload { _ in } }
        if finished { return nil }
        while groupNext == group.count {
            try closeBlock()
            let frameOffset = input.position
            let prefix = try input.readExactly(16, what: "the next frame", after: entriesRead.last)
            let tag = try ArchiveFrames.tag(of: prefix, at: frameOffset, after: entriesRead.last)
            let length = try ArchiveFrames.metadataFrameLength(prefix, expecting: tag, at: frameOffset, limit: nil)
            let body = try input.readExactly(length - 16, what: "a metadata frame", after: entriesRead.last)
            switch tag {
            case .entry:
                group = try ArchiveFrames.decodeEntryGroup(body, at: frameOffset, after: entriesRead.last)
                groupNext = 0
                guard !group.isEmpty else {
                    throw ArchiveError(.corrupt, "an entry metadata frame describes no entries (\(Self.after(entriesRead.last)))", offset: frameOffset)
                }
            case .tableOfContents:
                try finish(tocBody: body, tocOffset: frameOffset, tocLength: UInt64(length))
                return nil
            case .header, .footer:
                throw ArchiveError(.corrupt, "unexpected \(tag.rawValue) frame (\(Self.after(entriesRead.last)))", offset: frameOffset)
            }
        }
        var entry = group[groupNext]
        groupNext += 1
        guard entry.offset == nil, entry.compressedSize <= UInt64(ArchiveFormat.maximumEntryFrameSize) else {
            throw ArchiveError(.corrupt, "the entry's metadata is not valid", offset: input.position, entry: entry)
        }
        switch entry.blockOffset {
        case nil:
            try closeBlock()
            entry.offset = input.position
        case 0:
            // The first entry of a block: read and decompress the whole block.
            try closeBlock()
            let offset = input.position
            let frame = try input.readExactly(Int(entry.compressedSize), what: "a block of entries", entry: entry)
            block = (offset, try ArchiveFrames.decompressBlock(frame, at: offset, entry: entry), 0)
            entry.offset = offset
        case let start?:
            guard let current = block, start == current.covered else {
                throw ArchiveError(.corrupt, "the entry does not follow the previous one in its block", offset: input.position, entry: entry)
            }
            entry.offset = current.offset
        }
        if let current = block, entry.blockOffset != nil {
            block?.covered = current.covered + entry.uncompressedSize
        }
        pending = entry
        return entry
    }

    /// Checks that the entries of the block just finished covered all of it.
    private func closeBlock() throws {
        guard let current = block else { return }
        block = nil
        guard current.covered == UInt64(current.content.count) else {
            throw ArchiveError(.corrupt, "a block holds \(current.content.count) bytes but its entries cover \(current.covered)",
                               offset: current.offset, entry: entriesRead.last)
        }
    }

    /// Decompresses the current entry's SQL to `consume` and checks it.
    public func readPayload(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let entry = pending, let offset = entry.offset else {
            throw ArchiveError(.invalidUse, "readPayload() without a current entry (call next() first)")
        }
        pending = nil
        if entry.blockOffset != nil, let current = block {
            try ArchiveFrames.checkBlockMember(entry, in: current.content, at: offset, consume)
        } else {
            let frame = try input.readExactly(Int(entry.compressedSize), what: "the entry's data", entry: entry)
            try ArchiveFrames.decompressEntry(entry, frame: frame, at: offset, consume)
        }
        entriesRead.append(entry)
    }

    /// Like ``ArchiveReader/readCopyRows(_:_:)`` for the current entry.
    public func readCopyRows(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let entry = pending, let data = entry.data else {
            throw ArchiveError(.invalidUse, "the current entry is not TABLE DATA", entry: pending)
        }
        var splitter = try CopyRowsSplitter(entry: entry, data: data)
        try readPayload { try splitter.feed($0, consume) }
        try splitter.finish()
    }

    private func finish(tocBody: [UInt8], tocOffset: UInt64, tocLength: UInt64) throws {
        let toc = try ArchiveFrames.decodeTableOfContents(tocBody[...], at: tocOffset)
        guard toc.entries.count == entriesRead.count else {
            throw ArchiveError(.corrupt, "the table of contents lists \(toc.entries.count) entries but the file holds \(entriesRead.count)", offset: tocOffset)
        }
        for (listed, seen) in zip(toc.entries, entriesRead) {
            guard listed.offset == seen.offset, listed.matchesInline(seen) else {
                throw ArchiveError(.corrupt, "the table of contents disagrees with the entry found in the file", offset: tocOffset, entry: seen)
            }
        }
        let contentDigest = input.finishDigest()
        let footerOffset = input.position
        let footerBytes = try input.readExactly(ArchiveFooter.size, what: "the footer", after: entriesRead.last)
        let footer = try ArchiveFooter(decoding: footerBytes, at: footerOffset)
        guard footer.tableOfContentsOffset == tocOffset, footer.tableOfContentsLength == tocLength else {
            throw ArchiveError(.corrupt, "the footer does not point at the table of contents", offset: footerOffset)
        }
        guard footer.contentSHA256 == contentDigest else {
            throw ArchiveError(.checksumMismatch, "the SHA-256 of the file does not match the footer's: a metadata frame was altered", offset: footerOffset)
        }
        guard try input.atEnd() else {
            throw ArchiveError(.corrupt, "bytes follow the footer", offset: input.position)
        }
        tableOfContents = toc
        finished = true
    }

    static func after(_ entry: ArchiveEntry?) -> String {
        entry.map { "after entry \($0.id), \($0.displayName)" } ?? "before any entry"
    }
}

// MARK: - Shared frame handling

enum ArchiveFrames {
    /// Checks a metadata frame's first 16 bytes and returns its total length.
    static func metadataFrameLength(_ prefix: [UInt8], expecting tag: ArchiveFormat.Tag, at offset: UInt64, limit: UInt64?) throws -> Int {
        guard prefix.count == 16 else { throw ArchiveError(.truncated, "the file ends inside a frame header", offset: offset) }
        let magic = prefix.readLittleEndian(UInt32.self, at: 0)
        guard magic == ArchiveFormat.skippableMagic, ArchiveFormat.Tag(bytes: prefix[8..<16]) == tag else {
            if offset == 0 {
                if magic == ArchiveFormat.zstdMagic {
                    throw ArchiveError(.notAnArchive, "this is a zstd file but not a pgcellar export (it has no pgcellar header)", offset: 0)
                }
                throw ArchiveError(.notAnArchive, "not a pgcellar export (it does not start with a pgcellar header frame)", offset: 0)
            }
            throw ArchiveError(.corrupt, "expected a \(tag.rawValue) frame", offset: offset)
        }
        let size = Int(prefix.readLittleEndian(UInt32.self, at: 4))
        guard size >= 8, size <= ArchiveFormat.maximumFrameSize, limit.map({ offset + 8 + UInt64(size) <= $0 }) ?? true else {
            throw ArchiveError(.corrupt, "a \(tag.rawValue) frame has an impossible length \(size)", offset: offset + 4)
        }
        return 8 + size
    }

    static func tag(of prefix: [UInt8], at offset: UInt64, after entry: ArchiveEntry?) throws -> ArchiveFormat.Tag {
        guard prefix.readLittleEndian(UInt32.self, at: 0) == ArchiveFormat.skippableMagic,
              let tag = ArchiveFormat.Tag(bytes: prefix[8..<16])
        else {
            throw ArchiveError(.corrupt, "expected an entry's metadata frame or the table of contents (\(ArchiveStreamReader.after(entry)))", offset: offset)
        }
        return tag
    }

    /// Decodes the header frame's payload (after the tag): in version 2 the
    /// SHA-256 of the JSON, then the JSON; in version 1 the JSON alone.
    static func decodeHeader(_ body: [UInt8]) throws -> ArchiveHeader {
        struct Probe: Decodable { var format: String?; var formatVersion: Int? }
        var json = body[...]
        var checked = false
        // Version 2 first: its SHA-256 starts with "{" once in 256 headers, so
        // the first byte alone cannot tell the versions apart.
        if body.count > 32, try SHA256.hash(Array(body[32...])) == Array(body[0..<32]) {
            json = body[32...]
            checked = true
        } else if body.first != UInt8(ascii: "{") {
            guard body.count > 32 else { throw ArchiveError(.corrupt, "the header frame is too short", offset: 16) }
            throw ArchiveError(.checksumMismatch, "the header's SHA-256 does not match: the header was altered or damaged", offset: 16)
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(json)) else {
            throw ArchiveError(.corrupt, "the header is not valid JSON", offset: 16)
        }
        guard probe.format == ArchiveFormat.name else {
            throw ArchiveError(.notAnArchive, "the header names the format \(probe.format ?? "nil"), not \(ArchiveFormat.name)", offset: 16)
        }
        guard let version = probe.formatVersion, version >= 1, version <= ArchiveFormat.version else {
            throw ArchiveError(.unsupportedVersion, "format version \(probe.formatVersion.map(String.init) ?? "nil") is newer than this pgcellar reads (\(ArchiveFormat.version)); upgrade pgcellar", offset: 16)
        }
        guard checked || version == 1 else {
            throw ArchiveError(.corrupt, "the header of a version \(version) archive has no SHA-256", offset: 16)
        }
        do {
            return try JSONDecoder().decode(ArchiveHeader.self, from: Data(json))
        } catch {
            throw ArchiveError(.corrupt, "the header cannot be read: \(error)", offset: 16)
        }
    }

    /// Decodes an entry metadata frame's payload (after the tag): in version
    /// 2 a zstd frame holding a JSON array of entries (a group), in version 1
    /// one JSON object.
    static func decodeEntryGroup(_ body: [UInt8], at offset: UInt64, after previous: ArchiveEntry?) throws -> [ArchiveEntry] {
        let group: [ArchiveEntry]
        do {
            if body.first == UInt8(ascii: "{") {
                group = [try JSONDecoder().decode(ArchiveEntry.self, from: Data(body))]
            } else {
                let json = try ZstdDecompressor().decompressFrame(body, limit: ArchiveFormat.maximumFrameSize)
                group = try JSONDecoder().decode([ArchiveEntry].self, from: Data(json))
            }
        } catch {
            throw ArchiveError(.corrupt, "an entry metadata frame cannot be read (\(ArchiveStreamReader.after(previous))): \(error)", offset: offset)
        }
        for entry in group { try entry.checkBounds(at: offset) }
        return group
    }

    /// Decodes the table of contents entry by entry as it decompresses, so
    /// that memory holds the entries but never the whole JSON text at once.
    static func decodeTableOfContents(_ body: ArraySlice<UInt8>, at offset: UInt64) throws -> ArchiveTableOfContents {
        var scanner = TableOfContentsScanner()
        var entries: [ArchiveEntry] = []
        let decoder = JSONDecoder()
        do {
            let decompressor = try ZstdDecompressor()
            try decompressor.decompress(Array(body)) { piece in
                try scanner.feed(piece) { object in
                    let entry = try decoder.decode(ArchiveEntry.self, from: object)
                    try entry.checkBounds(at: offset)
                    entries.append(entry)
                }
            }
            try decompressor.finish()
        } catch let error as ZstdError {
            throw ArchiveError(.corrupt, "the table of contents cannot be decompressed: \(error)", offset: offset)
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError(.corrupt, "the table of contents cannot be read: \(error)", offset: offset)
        }
        guard scanner.complete else {
            throw ArchiveError(.corrupt, "the table of contents is not a complete JSON object with an entries array", offset: offset)
        }
        return ArchiveTableOfContents(entries: entries)
    }

    /// The largest block content a reader accepts: the writer's blocks hold
    /// at most a few hundred KiB; a larger claim is a damaged or hostile file.
    static let maximumBlockSize = 64 << 20

    /// Decompresses a block frame whole, checking its zstd checksum.
    static func decompressBlock(_ frame: [UInt8], at offset: UInt64, entry: ArchiveEntry) throws -> [UInt8] {
        guard frame.count >= 4, frame.readLittleEndian(UInt32.self, at: 0) == ArchiveFormat.zstdMagic else {
            throw ArchiveError(.corrupt, "the entry's block is not a zstd frame", offset: offset, entry: entry)
        }
        do {
            return try ZstdDecompressor().decompressFrame(frame, limit: maximumBlockSize)
        } catch let error as ZstdError {
            let kind: ArchiveError.Kind = error.code == .checksumMismatch ? .checksumMismatch : (error.code == .truncatedInput ? .truncated : .corrupt)
            throw ArchiveError(kind, "the entry's block frame is damaged: \(error.reason)", offset: offset, entry: entry)
        }
    }

    /// Hands a block member's bytes to `consume` after checking its place and SHA-256.
    static func checkBlockMember(_ entry: ArchiveEntry, in block: [UInt8], at offset: UInt64,
                                 _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let start = entry.blockOffset, start <= UInt64(block.count),
              entry.uncompressedSize <= UInt64(block.count) - start else {
            throw ArchiveError(.corrupt, "the entry lies outside its block", offset: offset, entry: entry)
        }
        try block.withUnsafeBytes { bytes in
            let slice = UnsafeRawBufferPointer(rebasing: bytes[Int(start)..<Int(start + entry.uncompressedSize)])
            guard try SHA256.hexHash(slice) == entry.sha256 else {
                throw ArchiveError(.checksumMismatch, "the entry's SHA-256 does not match", offset: offset, entry: entry)
            }
            try consume(slice)
        }
    }

    /// Decompresses one entry's frame, streaming the content and checking its
    /// size and SHA-256.
    static func decompressEntry(_ entry: ArchiveEntry, frame: [UInt8], at offset: UInt64,
                                _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard frame.count >= 4, frame.readLittleEndian(UInt32.self, at: 0) == ArchiveFormat.zstdMagic else {
            throw ArchiveError(.corrupt, "the entry's data is not a zstd frame", offset: offset, entry: entry)
        }
        let decompressor = try ZstdDecompressor()
        let digest = try SHA256()
        var size: UInt64 = 0
        do {
            try decompressor.decompress(frame) { piece in
                size += UInt64(piece.count)
                guard size <= entry.uncompressedSize else {
                    throw ArchiveError(.corrupt, "the entry decompresses to more than its recorded \(entry.uncompressedSize) bytes", offset: offset, entry: entry)
                }
                digest.update(piece)
                try consume(piece)
            }
            try decompressor.finish()
        } catch let error as ZstdError {
            let kind: ArchiveError.Kind = error.code == .checksumMismatch ? .checksumMismatch : (error.code == .truncatedInput ? .truncated : .corrupt)
            throw ArchiveError(kind, "the entry's zstd frame is damaged: \(error.reason)", offset: offset, entry: entry)
        }
        guard size == entry.uncompressedSize else {
            throw ArchiveError(.corrupt, "the entry decompresses to \(size) bytes, not the recorded \(entry.uncompressedSize)", offset: offset, entry: entry)
        }
        guard digest.hexDigest() == entry.sha256 else {
            throw ArchiveError(.checksumMismatch, "the entry's SHA-256 does not match", offset: offset, entry: entry)
        }
    }
}

/// Cuts the `COPY ...;` line and the `\.` trailer off a data entry's bytes.
struct CopyRowsSplitter {
    private let prefixLength: UInt64
    private let rowsEnd: UInt64
    private let entry: ArchiveEntry
    private var position: UInt64 = 0
    private var prefix: [UInt8] = []
    private var trailer: [UInt8] = []

    static let trailerBytes = Array("\\.\n\n".utf8)

    init(entry: ArchiveEntry, data: ArchiveEntry.DataInfo) throws {
        self.entry = entry
        prefixLength = UInt64(data.copyStatement.utf8.count + 1)
        guard entry.uncompressedSize >= prefixLength + UInt64(Self.trailerBytes.count) else {
            throw ArchiveError(.corrupt, "the data entry is shorter than its COPY statement and trailer", entry: entry)
        }
        rowsEnd = entry.uncompressedSize - UInt64(Self.trailerBytes.count)
    }

    mutating func feed(_ piece: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let start = position
        let end = position + UInt64(piece.count)
        position = end
        // The COPY line.
        if start < prefixLength {
            let upto = Int(min(end, prefixLength) - start)
            prefix.append(contentsOf: piece[0..<upto])
        }
        // The rows.
        let rowsFrom = max(start, prefixLength), rowsTo = min(end, rowsEnd)
        if rowsFrom < rowsTo {
            try consume(UnsafeRawBufferPointer(rebasing: piece[Int(rowsFrom - start)..<Int(rowsTo - start)]))
        }
        // The trailer.
        if end > rowsEnd {
            trailer.append(contentsOf: piece[Int(max(start, rowsEnd) - start)...])
        }
    }

    func finish() throws {
        guard let data = entry.data, prefix == Array((data.copyStatement + "\n").utf8), trailer == Self.trailerBytes else {
            throw ArchiveError(.corrupt, "the data entry does not start with its COPY statement or end with \\.", entry: entry)
        }
    }
}

/// Reads exactly the bytes asked for, counting and hashing them.
final class CountingInput {
    let source: ByteSource
    private let digest: SHA256
    private var hashing = true
    private(set) var position: UInt64 = 0

    init(_ source: ByteSource) throws {
        self.source = source
        self.digest = try SHA256()
    }

    /// The SHA-256 of everything read so far; later reads are not hashed.
    func finishDigest() -> [UInt8] {
        hashing = false
        return digest.finalize()
    }

    /// The most memory a read takes before its bytes arrive: a frame's
    /// length comes from the archive, so a short, crafted stream must not
    /// make the reader allocate what the length claims.
    static let allocationStep = 1 << 20

    func readExactly(_ count: Int, what: String, after previous: ArchiveEntry? = nil, entry: ArchiveEntry? = nil) throws -> [UInt8] {
        let start = position
        var bytes: [UInt8] = []
        while bytes.count < count {
            // At most doubling what already arrived, as `append` grows.
            let wanted = min(count - bytes.count, max(bytes.count, Self.allocationStep))
            let piece = try Self.read(wanted, from: source)
            if bytes.isEmpty { bytes = piece } else { bytes += piece }
            if piece.count < wanted { break }
        }
        position += UInt64(bytes.count)
        guard bytes.count == count else {
            let context = entry == nil ? " (\(ArchiveStreamReader.after(previous)))" : ""
            throw ArchiveError(.truncated, "the archive ends in \(what)\(context): it is truncated", offset: start + UInt64(bytes.count), entry: entry)
        }
        if hashing { bytes.withUnsafeBytes { digest.update($0) } }
        return bytes
    }

    /// Up to `count` bytes, fewer only at the end of the source.
    private static func read(_ count: Int, from source: ByteSource) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[initialized...]))
                if got == 0 { break }
                initialized += got
            }
        }
    }

    func atEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try source.read(into: $0) } == 0
    }
}

/// A few decompressed blocks, shared by the threads reading one archive.
final class BlockCache: Sendable {
    private let blocks = Locked<[(offset: UInt64, content: [UInt8])]>([])
    private let capacity = 8

    func block(at offset: UInt64, _ load: () throws -> [UInt8]) throws -> [UInt8] {
        if let found = blocks.withLock({ $0.first { $0.offset == offset } }) { return found.content }
        let content = try load()
        blocks.withLock { blocks in
            if blocks.count >= capacity { blocks.removeFirst() }
            blocks.append((offset, content))
        }
        return content
    }
}

/// Finds the objects of the top-level `"entries"` array in the table of
/// contents' JSON as it streams past; other keys' values are skipped.
struct TableOfContentsScanner {
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The last string completed at depth 1 (a key), and whether the array
    /// being read is the value of "entries".
    private var string: [UInt8] = []
    private var lastKey: [UInt8] = []
    private var inEntries = false
    private var sawEntries = false
    private var object: [UInt8] = []
    private(set) var complete = false

    static let maximumEntrySize = 16 << 20

    mutating func feed(_ piece: UnsafeRawBufferPointer, _ emit: (Data) throws -> Void) throws {
        for byte in piece {
            if complete {
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { throw Malformed() }
                continue
            }
            if depth >= 3 {
                object.append(byte)
                guard object.count <= Self.maximumEntrySize else { throw Malformed() }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 { lastKey = string }
                } else if depth == 1 {
                    string.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                string = []
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 && byte != UInt8(ascii: "{") { throw Malformed() }
                if depth == 1 {
                    inEntries = byte == UInt8(ascii: "[") && lastKey == Array("entries".utf8)
                    sawEntries = sawEntries || inEntries
                }
                if depth == 2 && inEntries && byte == UInt8(ascii: "{") { object = [byte] }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { throw Malformed() }
                depth -= 1
                if depth == 2 && inEntries && byte == UInt8(ascii: "}") {
                    try emit(Data(object))
                    object = []
                }
                if depth == 1 { inEntries = false }
                if depth == 0 {
                    guard sawEntries else { throw Malformed() }
                    complete = true
                }
            default:
                break
            }
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String { "the table of contents is not the JSON object it should be" }
    }
}
