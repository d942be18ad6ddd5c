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
        entry.uncompressedSize = UInt64(sql.count)
        entry.sha256 = try SHA256.hexHash(sql)
        let frame = try compressor.compressFrame(sql)
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
/// The caller owns the sink: commit an `AtomicFileWriter` after ``finish()``
/// succeeds, or abort it.
///
/// - Important: Not `Sendable`; serialize calls (``append(_:)`` is cheap: the
///   compression happens in ``ArchiveEntryEncoder``s on worker threads).
public final class ArchiveWriter {
    private let sink: ByteSink
    private let digest: SHA256
    private let encoder: ArchiveEntryEncoder
    private var ids = Set<Int>()
    private var finished = false

    /// The entries appended so far, with their offsets.
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
    ///     and for the table of contents.
    public init(sink: ByteSink, header: ArchiveHeader, level: Int = 3) throws {
        self.sink = sink
        self.digest = try SHA256()
        self.encoder = try ArchiveEntryEncoder(level: level)
        try write(ArchiveFormat.skippableFrame(.header, try JSONEncoder.archive.encode(header)))
    }

    /// Appends an entry compressed elsewhere.
    ///
    /// - Returns: The entry as the table of contents records it.
    @discardableResult
    public func append(_ encoded: EncodedArchiveEntry) throws -> ArchiveEntry {
        precondition(!finished, "append after finish()")
        guard ids.insert(encoded.entry.id).inserted else {
            throw ArchiveError(.invalidUse, "two entries have the id \(encoded.entry.id)", entry: encoded.entry)
        }
        var entry = encoded.entry
        entry.offset = nil
        try write(ArchiveFormat.skippableFrame(.entry, try JSONEncoder.archive.encode(entry)))
        entry.offset = bytesWritten
        try write(encoded.dataFrame)
        uncompressedBytes += entry.uncompressedSize
        entries.append(entry)
        return entry
    }

    /// Compresses and appends an entry on the calling thread.
    @discardableResult
    public func append(_ entry: ArchiveEntry, sql: String) throws -> ArchiveEntry {
        try append(try encoder.encode(entry, sql: sql))
    }

    /// Writes the table of contents and the footer. The archive is complete
    /// once this returns; nothing may be appended after.
    /// Each data entry's chunk count is filled in here, from the entries.
    public func finish() throws {
        precondition(!finished, "finish() twice")
        finished = true
        var chunkCounts: [String: Int] = [:]
        for entry in entries {
            if let data = entry.data { chunkCounts[data.tableSchema + "\u{0}" + data.tableName, default: 0] += 1 }
        }
        let toc = ArchiveTableOfContents(entries: entries.map { entry in
            var entry = entry
            if let data = entry.data { entry.data?.chunkCount = chunkCounts[data.tableSchema + "\u{0}" + data.tableName] }
            return entry
        })
        let json = try JSONEncoder.archive.encode(toc)
        let tocFrame = ArchiveFormat.skippableFrame(.tableOfContents, try encoder.compress(Array(json)))
        let tocOffset = bytesWritten
        try write(tocFrame)
        let footer = ArchiveFooter(
            formatVersion: UInt32(ArchiveFormat.version), tableOfContentsOffset: tocOffset,
            tableOfContentsLength: UInt64(tocFrame.count), contentSHA256: digest.finalize())
        try sink.write(try footer.encoded())
        bytesWritten += UInt64(ArchiveFooter.size)
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            digest.update(buffer)
            try sink.write(buffer)
        }
        bytesWritten += UInt64(bytes.count)
    }
}
