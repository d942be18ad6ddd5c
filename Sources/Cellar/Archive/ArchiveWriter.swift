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
    /// The group's metadata as JSON, before compression; its room is kept.
    private var groupJSON: [UInt8] = []

    /// The table of contents, compressed as entries are written (an export
    /// of thousands of tables held every entry to the end before: 12 MiB of
    /// its memory at 5,000 tables).
    private let tableOfContents: TableOfContentsStream
    /// How many entries were written so far.
    public private(set) var entryCount = 0
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
        self.tableOfContents = try TableOfContentsStream(level: level)
        blockBytes.reserveCapacity(Self.blockByteLimit + Self.smallEntryLimit)
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
        let small = try sql.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= Self.smallEntryLimit else { return false }
            var member = entry
            member.offset = nil
            member.blockOffset = UInt64(blockBytes.count)
            member.uncompressedSize = UInt64(bytes.count)
            member.sha256 = try SHA256.hexHash(UnsafeRawBufferPointer(bytes))
            blockEntries.append(member)
            // Into the block's buffer directly, which keeps its room from
            // block to block: a copy an entry and a buffer grown anew each
            // block left the heap fragmented, 5 MiB of resident memory
            // never used again at 5,000 tables.
            blockBytes.append(contentsOf: bytes)
            return true
        }
        guard small else {
            try closeBlock()
            var encoded = try encoder.encode(entry, sql: sql)
            encoded.entry.blockOffset = nil
            try addToGroup([encoded.entry], frame: encoded.dataFrame)
            return
        }
        if blockBytes.count >= Self.blockByteLimit || blockEntries.count >= Self.blockEntryLimit { try closeBlock() }
    }

    /// Says how many chunks a table's data has in all, once its last chunk
    /// is appended or about to be (any order). Its entries, and those
    /// written after them, reach the table of contents once every chunk is
    /// written, with their `chunkCount`; a table never noted waits for
    /// ``finish()``, which counts its chunks.
    public func noteChunkCount(schema: String, table: String, chunks: Int) throws {
        try tableOfContents.noteChunkCount(schema: schema, table: table, chunks: chunks)
    }

    /// Writes the table of contents and the footer. The archive is complete
    /// once this returns; nothing may be appended after.
    public func finish() throws {
        precondition(!finished, "finish() twice")
        try closeBlock()
        try writeGroup()
        finished = true
        let tocFrame = ArchiveFormat.skippableFrame(.tableOfContents, try tableOfContents.finish())
        let tocOffset = bytesWritten
        try write(tocFrame)
        let footer = ArchiveFooter(
            formatVersion: UInt32(ArchiveFormat.version), tableOfContentsOffset: tocOffset,
            tableOfContentsLength: UInt64(tocFrame.count), contentSHA256: digest.finalize())
        try sink.write(try footer.encoded())
        bytesWritten += UInt64(ArchiveFooter.size)
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
        blockEntries.removeAll(keepingCapacity: true)
        blockBytes.removeAll(keepingCapacity: true)
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
        groupJSON.removeAll(keepingCapacity: true)
        ArchiveEntry.appendJSONArray(groupEntries, to: &groupJSON)
        try write(ArchiveFormat.skippableFrame(.entry, try encoder.compress(groupJSON)))
        var next = 0
        for (frame, count) in groupFrames {
            for index in next..<next + count {
                var entry = groupEntries[index]
                entry.offset = bytesWritten
                try tableOfContents.add(entry)
                entryCount += 1
            }
            next += count
            try write(frame)
        }
        groupEntries.removeAll(keepingCapacity: true)
        groupFrames.removeAll(keepingCapacity: true)
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

/// The table of contents' JSON, `{"entries":[...]}`, compressed as entries
/// are written, in file order. A table's data entries need its chunk count,
/// known only once its last chunk is written; an entry waits until then, and
/// the entries after it wait behind it, so that the order stays the file's.
/// What waits is what is written while a table is being copied: little, as
/// chunks reach the writer soon after their table's copy ends.
private final class TableOfContentsStream {
    private let compressor: ZstdCompressor
    /// The compressed frame so far: a few bytes per entry.
    private var frame: [UInt8] = []
    /// JSON not yet compressed, in pieces of about 128 KiB.
    private var pending: [UInt8] = []
    private var first = true
    /// Entries waiting for a table's chunk count; `waiting[head...]` are live.
    private var waiting: [ArchiveEntry] = []
    private var head = 0
    /// Per table (schema NUL name): chunks written, chunks already in the
    /// table of contents, and the count ``noteChunkCount`` gave. A table is
    /// forgotten once its last chunk is in.
    private var chunks: [String: (written: Int, listed: Int, count: Int?)] = [:]

    init(level: Int) throws {
        // It lives as long as the writer: a window of 128 KiB instead of the
        // level's 2 MiB keeps its context under a megabyte, for a table of
        // contents a few percent larger.
        compressor = try ZstdCompressor(level: Int32(clamping: level), workers: 0, checksum: true, windowLog: 17)
        pending.reserveCapacity(160 * 1024)
        pending += Array("{\"entries\":[".utf8)
    }

    private static func key(schema: String, table: String) -> String { schema + "\u{0}" + table }

    func add(_ entry: ArchiveEntry) throws {
        if let data = entry.data {
            chunks[Self.key(schema: data.tableSchema, table: data.tableName), default: (0, 0, nil)].written += 1
        }
        waiting.append(entry)
        try release(finishing: false)
    }

    func noteChunkCount(schema: String, table: String, chunks count: Int) throws {
        chunks[Self.key(schema: schema, table: table), default: (0, 0, nil)].count = count
        try release(finishing: false)
    }

    /// The whole frame; after the entries still waiting, each data entry
    /// with the count of its table's chunks in the archive.
    func finish() throws -> [UInt8] {
        try release(finishing: true)
        pending += Array("]}".utf8)
        try flush()
        try compressor.endFrame { frame.append(contentsOf: $0) }
        return frame
    }

    /// Writes the waiting entries out from the front, while they are ready:
    /// every entry but a data chunk of a table not yet written whole.
    private func release(finishing: Bool) throws {
        while head < waiting.count {
            var entry = waiting[head]
            if let data = entry.data {
                let key = Self.key(schema: data.tableSchema, table: data.tableName)
                guard var table = chunks[key] else { break }
                // At the end every chunk is written: its count is the table's.
                guard let count = finishing ? table.written : table.count, count == table.written else { break }
                entry.data?.chunkCount = count
                table.listed += 1
                chunks[key] = table.listed == count ? nil : table
            }
            try emit(entry)
            waiting[head] = ArchiveEntry(id: 0, kind: .settings, section: .preData, name: "")
            head += 1
        }
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: waiting.capacity <= 4096)
            head = 0
        } else if head >= 4096, head * 2 >= waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
    }

    private func emit(_ entry: ArchiveEntry) throws {
        if !first { pending.append(UInt8(ascii: ",")) }
        first = false
        entry.appendJSON(to: &pending)
        if pending.count >= 128 * 1024 { try flush() }
    }

    private func flush() throws {
        try compressor.compress(pending) { frame.append(contentsOf: $0) }
        pending.removeAll(keepingCapacity: true)
    }
}
