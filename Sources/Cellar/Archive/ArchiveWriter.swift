import CellarSupport
import Foundation

/// An entry compressed and ready to be appended. Made by
/// ``ArchiveEntryEncoder`` on any thread, appended by the one ``ArchiveWriter``.
public struct EncodedArchiveEntry: Sendable {
    /// The entry's metadata with sizes and digest filled in (offset still nil).
    /// The id and dependencies may still be changed before appending.
    public var entry: ArchiveEntry
    let dataFrame: [UInt8]
}

/// Compresses entries; one per thread (it owns a zstd context).
public final class ArchiveEntryEncoder {
    private let compressor: ZstdCompressor

    /// - Parameter level: zstd level (1...19 sensible; 3 is zstd's default).
    public init(level: Int) throws {
        compressor = try ZstdCompressor(level: Int32(clamping: level), workers: 0, checksum: true)
    }

    /// Compresses `sql` into one zstd frame and describes it.
    ///
    /// - Parameters:
    ///   - entry: The entry's identity (id, kind, names, dependencies, data info).
    ///   - sql: The entry's complete SQL text.
    public func encode(_ entry: ArchiveEntry, sql: UnsafeRawBufferPointer) throws -> EncodedArchiveEntry {
        var entry = entry
        entry.offset = nil
        // Nothing the writer makes may be rejected by the reader.
        guard sql.count <= ArchiveFormat.maximumEntryFrameSize else {
            throw ArchiveError(.invalidUse, "\(entry.displayName) holds \(sql.count) bytes, more than an archive entry may (\(ArchiveFormat.maximumEntryFrameSize))")
        }
        entry.uncompressedSize = UInt64(sql.count)
        entry.sha256 = try SHA256.hexHash(sql)
        let frame = try compressor.compressFrame(sql)
        guard frame.count <= ArchiveFormat.maximumEntryFrameSize else {
            throw ArchiveError(.invalidUse, "\(entry.displayName) compresses to \(frame.count) bytes, more than an archive entry may (\(ArchiveFormat.maximumEntryFrameSize))")
        }
        entry.compressedSize = UInt64(frame.count)
        return EncodedArchiveEntry(entry: entry, dataFrame: frame)
    }

    public func encode(_ entry: ArchiveEntry, sql: String) throws -> EncodedArchiveEntry {
        var sql = sql
        return try sql.withUTF8 { try encode(entry, sql: UnsafeRawBufferPointer($0)) }
    }

    public func encode(_ entry: ArchiveEntry, sql: [UInt8]) throws -> EncodedArchiveEntry {
        try sql.withUnsafeBytes { try encode(entry, sql: $0) }
    }

    /// Compresses metadata for the table of contents.
    func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        try compressor.compressFrame(bytes)
    }
}

/// Writes an archive to a sink: the header at once, then entries in the order
/// they are appended, then the table of contents and footer at ``finish()``.
///
/// Entries are written in *groups* (docs/archive-format.md, "Entries"): one
/// compressed metadata frame describing up to a few hundred entries, then
/// their zstd frames. Small entries (DDL) appended through
/// ``append(_:sql:)`` share *block* frames, so that thousands of tables cost
/// little more than their SQL. Memory stays bounded: a group is written once
/// it holds ``groupByteLimit`` bytes of frames or ``groupEntryLimit`` entries.
///
/// The caller owns the sink: commit an `AtomicFileWriter` after ``finish()``
/// succeeds, or abort it.
///
/// - Important: Not `Sendable`; serialize calls (``append(_:)`` is cheap: the
///   compression happens in ``ArchiveEntryEncoder``s on worker threads).
public final class ArchiveWriter {
    /// Entries of at most this many bytes of SQL share block frames.
    static let smallEntryLimit = 16 * 1024
    /// A block is closed once it holds this many bytes of SQL.
    static let blockByteLimit = 256 * 1024
    static let blockEntryLimit = 1024
    /// A group is written once its frames reach this many bytes...
    static let groupByteLimit = 1 << 20
    /// ... or it describes this many entries.
    static let groupEntryLimit = 1024

    private let sink: ByteSink
    private let digest: SHA256
    private let encoder: ArchiveEntryEncoder
    private let level: Int
    private var ids = Set<Int>()
    private var finished = false

    /// The open block: small entries' metadata and their SQL, one after the other.
    private var blockEntries: [ArchiveEntry] = []
    private var blockBytes: [UInt8] = []
    /// The open group: entries in order, and each frame with how many entries it holds.
    private var groupEntries: [ArchiveEntry] = []
    private var groupFrames: [(frame: [UInt8], entries: Int)] = []
    private var groupFrameBytes = 0

    /// The entries written so far, with their offsets.
    public private(set) var entries: [ArchiveEntry] = []
    /// Bytes written so far.
    public private(set) var bytesWritten: UInt64 = 0
    /// Uncompressed SQL bytes appended so far.
    public private(set) var uncompressedBytes: UInt64 = 0

    /// Writes the header frame.
    ///
    /// - Parameters:
    ///   - sink: Where the archive goes.
    ///   - header: The archive's header.
    ///   - level: zstd level for the entries appended through ``append(_:sql:)``
    ///     and for the metadata.
    public init(sink: ByteSink, header: ArchiveHeader, level: Int = 3) throws {
        self.sink = sink
        self.digest = try SHA256()
        self.encoder = try ArchiveEntryEncoder(level: level)
        self.level = level
        try write(try ArchiveFormat.headerFrame(header))
    }

    /// Appends an entry compressed elsewhere, as a frame of its own.
    public func append(_ encoded: EncodedArchiveEntry) throws {
        precondition(!finished, "append after finish()")
        try claim(encoded.entry)
        try closeBlock()
        var entry = encoded.entry
        entry.offset = nil
        entry.blockOffset = nil
        try addToGroup([entry], frame: encoded.dataFrame)
    }

    /// Appends an entry, compressing it on the calling thread; a small one
    /// joins the open block.
    public func append(_ entry: ArchiveEntry, sql: String) throws {
        precondition(!finished, "append after finish()")
        try claim(entry)
        var sql = sql
        let bytes = sql.withUTF8 { Array($0) }
        guard !bytes.isEmpty, bytes.count <= Self.smallEntryLimit else {
            try closeBlock()
            var encoded = try encoder.encode(entry, sql: bytes)
            encoded.entry.blockOffset = nil
            try addToGroup([encoded.entry], frame: encoded.dataFrame)
            return
        }
        var member = entry
        member.offset = nil
        member.blockOffset = UInt64(blockBytes.count)
        member.uncompressedSize = UInt64(bytes.count)
        member.sha256 = try SHA256.hexHash(bytes)
        blockEntries.append(member)
        blockBytes += bytes
        if blockBytes.count >= Self.blockByteLimit || blockEntries.count >= Self.blockEntryLimit { try closeBlock() }
    }

    /// Makes room for `count` entries in all: an export of thousands of
    /// tables knows about how many it writes, and an array that doubles
    /// past it holds both its copies for a moment.
    public func reserveEntries(_ count: Int) {
        entries.reserveCapacity(count)
    }

    /// Writes the table of contents and the footer. The archive is complete
    /// once this returns; nothing may be appended after.
    /// Each data entry's chunk count is filled in here, from the entries.
    public func finish() throws {
        precondition(!finished, "finish() twice")
        try closeBlock()
        try writeGroup()
        finished = true
        var chunkCounts: [String: Int] = [:]
        for entry in entries {
            if let data = entry.data { chunkCounts[data.tableSchema + "\u{0}" + data.tableName, default: 0] += 1 }
        }
        for index in entries.indices {
            if let data = entries[index].data {
                entries[index].data?.chunkCount = chunkCounts[data.tableSchema + "\u{0}" + data.tableName]
            }
        }
        let toc = ArchiveTableOfContents(entries: entries)
        let tocFrame = ArchiveFormat.skippableFrame(.tableOfContents, try Self.compressedTableOfContents(toc.entries, level: level))
        let tocOffset = bytesWritten
        try write(tocFrame)
        let footer = ArchiveFooter(
            formatVersion: UInt32(ArchiveFormat.version), tableOfContentsOffset: tocOffset,
            tableOfContentsLength: UInt64(tocFrame.count), contentSHA256: digest.finalize())
        try sink.write(try footer.encoded())
        bytesWritten += UInt64(ArchiveFooter.size)
    }

    /// The table of contents' JSON, `{"entries":[...]}`, compressed as it is
    /// made, one entry at a time: encoding hundreds of thousands of entries in
    /// one piece would take several times their size in memory.
    static func compressedTableOfContents(_ entries: [ArchiveEntry], level: Int) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: Int32(clamping: level), workers: 0, checksum: true)
        var frame: [UInt8] = []
        func add(_ bytes: some ContiguousBytes) throws { try compressor.compress(bytes) { frame.append(contentsOf: $0) } }
        try add(Array("{\"entries\":[".utf8))
        // Entries are encoded a few hundred at a time into one reused buffer.
        var pending: [UInt8] = []
        pending.reserveCapacity(256 * 1024)
        for (index, entry) in entries.enumerated() {
            if index > 0 { pending.append(UInt8(ascii: ",")) }
            entry.appendJSON(to: &pending)
            if pending.count >= 128 * 1024 {
                try add(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try add(pending)
        try add(Array("]}".utf8))
        try compressor.endFrame { frame.append(contentsOf: $0) }
        return frame
    }

    // MARK: - Blocks and groups

    private func claim(_ entry: ArchiveEntry) throws {
        guard ids.insert(entry.id).inserted else {
            throw ArchiveError(.invalidUse, "two entries have the id \(entry.id)", entry: entry)
        }
    }

    /// Compresses the open block into one frame and adds it to the group.
    private func closeBlock() throws {
        guard !blockEntries.isEmpty else { return }
        let frame = try encoder.compress(blockBytes)
        var members = blockEntries
        for index in members.indices {
            members[index].compressedSize = UInt64(frame.count)
            // A block of one is an ordinary entry frame.
            if members.count == 1 { members[index].blockOffset = nil }
        }
        blockEntries = []
        blockBytes = []
        try addToGroup(members, frame: frame)
    }

    private func addToGroup(_ members: [ArchiveEntry], frame: [UInt8]) throws {
        groupEntries += members
        groupFrames.append((frame, members.count))
        groupFrameBytes += frame.count
        uncompressedBytes += members.reduce(0) { $0 + $1.uncompressedSize }
        if groupFrameBytes >= Self.groupByteLimit || groupEntries.count >= Self.groupEntryLimit { try writeGroup() }
    }

    /// Writes the group's metadata frame, then its frames.
    private func writeGroup() throws {
        guard !groupEntries.isEmpty else { return }
        let json = ArchiveEntry.jsonArray(groupEntries)
        try write(ArchiveFormat.skippableFrame(.entry, try encoder.compress(json)))
        var next = 0
        for (frame, count) in groupFrames {
            for index in next..<next + count {
                var entry = groupEntries[index]
                entry.offset = bytesWritten
                entries.append(entry)
            }
            next += count
            try write(frame)
        }
        groupEntries = []
        groupFrames = []
        groupFrameBytes = 0
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            digest.update(buffer)
            try sink.write(buffer)
        }
        bytesWritten += UInt64(bytes.count)
    }
}
