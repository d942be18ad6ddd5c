import CellarSupport
import Foundation

/// What a successful verification found.
public struct ArchiveVerification: Codable, Sendable, Equatable {
    public var header: ArchiveHeader
    public var entries: Int
    /// Tables with at least one data chunk.
    public var tables: Int
    public var dataChunks: Int
    public var rows: Int
    /// SQL bytes after decompression.
    public var uncompressedBytes: UInt64
    /// Bytes of the archive file.
    public var archiveBytes: UInt64
    /// With `deep`: every chunk's rows counted and their digest recomputed.
    public var rowDigests: RowDigestCheck?
}

/// Checks an archive without a server: every frame, every entry's SHA-256,
/// the table of contents and the footer; deeply, also every data chunk's
/// rows against its row count and row digest.
public enum ArchiveVerifier {
    /// Reads the whole archive from `source`, front to back.
    ///
    /// - Parameter deep: Also split every data chunk into its rows, count
    ///   them and recompute its ``RowDigest``: catches an archive whose
    ///   metadata was written wrongly, which the SHA-256s (computed from the
    ///   same bytes) cannot. Differences are collected in
    ///   ``ArchiveVerification/rowDigests``, not thrown.
    /// - Throws: ``ArchiveError`` describing the first problem: which entry,
    ///   at which byte, and what is wrong; `FileError` when reading fails.
    public static func verify(_ source: ByteSource, deep: Bool = false) throws -> ArchiveVerification {
        let reader = try ArchiveStreamReader(source: source)
        var tables = Set<String>()
        var chunks = 0, rows = 0
        var uncompressed: UInt64 = 0
        var rowDigests = deep ? RowDigestCheck(header: reader.header) : nil
        while let entry = try reader.next() {
            if rowDigests != nil && entry.data != nil {
                try rowDigests?.check(entry) { try reader.readCopyRows($0) }
            } else {
                try reader.readPayload { _ in }
            }
            uncompressed += entry.uncompressedSize
            if let data = entry.data {
                tables.insert(data.tableSchema + "." + data.tableName)
                chunks += 1
                rows += data.rows
            }
        }
        return ArchiveVerification(
            header: reader.header, entries: reader.entriesRead.count, tables: tables.count,
            dataChunks: chunks, rows: rows, uncompressedBytes: uncompressed, archiveBytes: reader.position,
            rowDigests: rowDigests)
    }

    /// Verifies the archive file at `path`.
    public static func verify(path: String, deep: Bool = false) throws -> ArchiveVerification {
        let input = try FileDescriptorInput(path: path)
        defer { try? input.close() }
        return try verify(input, deep: deep)
    }
}

/// Reads a source in large pieces so that many small reads (frame headers)
/// do not each become a system call.
final class BufferedByteSource: ByteSource {
    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0

    init(_ source: ByteSource, capacity: Int = 1 << 20) {
        self.source = source
        self.buffer = [UInt8](repeating: 0, count: capacity)
    }

    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard destination.count > 0 else { return 0 }
        if start == end {
            // Large reads bypass the buffer.
            if destination.count >= buffer.count { return try source.read(into: destination) }
            end = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            start = 0
            if end == 0 { return 0 }
        }
        let count = min(destination.count, end - start)
        buffer.withUnsafeBytes { destination.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: count) }
        start += count
        return count
    }
}

// MARK: - Listing

/// The table of contents as `pg_restore -l` prints it: a comment block about
/// the archive, then one line per entry.
public enum ArchiveListing {
    public static func text(header: ArchiveHeader, entries: [ArchiveEntry], fileSize: UInt64? = nil) -> String {
        var lines: [String] = [
            ";",
            "; Archive created at \(header.snapshotTakenAt)",
            ";     dbname: \(header.database.name)",
            ";     TOC Entries: \(entries.count)",
            ";     Compression: zstd level \(header.options.compressionLevel)",
            ";     Format: \(header.format) version \(header.formatVersion)",
            ";     Encoding: \(header.database.encoding)",
            ";     Dumped from database version: \(header.server.version)",
            ";     Dumped by: \(header.producer)",
        ]
        if let fileSize { lines.append(";     Size: \(fileSize) bytes") }
        lines += [";", ";", "; Selected TOC Entries:", ";"]
        for entry in entries {
            var line = "\(entry.id); \(entry.section.rawValue) \(entry.kind) \(entry.schema ?? "-") \(entry.name) \(entry.owner ?? "-")"
            if let data = entry.data {
                line += " (chunk \(data.chunkOrdinal)"
                if let count = data.chunkCount { line += " of \(count)" }
                line += ", \(data.rows) rows)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
