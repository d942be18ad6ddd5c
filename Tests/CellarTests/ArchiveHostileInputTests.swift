@testable import Cellar
import CellarSupport
import Foundation
import Testing

/// Archives crafted to hold numbers the writer never writes (issue 12, "No
/// trap on crafted input"): each was a trap (an overflow, `UInt64` of a
/// negative number) before; now each is an ``ArchiveError`` that names the
/// entry and the number.
@Suite("Archive readers on crafted input")
struct ArchiveHostileInputTests {
    // MARK: - Crafted archives

    static let copyStatement = "COPY public.items (id) FROM stdin;"

    /// A version 2 archive with one data entry whose metadata `tamper`
    /// changes after its sizes and digest are set, in the inline group and
    /// the table of contents alike; `footer` may change the footer's fields.
    static func archive(tamper: (inout ArchiveEntry) -> Void,
                        footer: (inout ArchiveFooter) -> Void = { _ in }) throws -> [UInt8] {
        let sql = Array((copyStatement + "\n1\n2\n\\.\n\n").utf8)
        let compressor = try ZstdCompressor(level: 3, workers: 0, checksum: true)
        let frame = try compressor.compressFrame(sql)
        var entry = ArchiveEntry(id: 1, kind: .tableData, section: .data, schema: "public", name: "items",
                                 data: .init(tableSchema: "public", tableName: "items", copyStatement: copyStatement, chunk: 0, rows: 2))
        entry.uncompressedSize = UInt64(sql.count)
        entry.compressedSize = UInt64(frame.count)
        entry.sha256 = try SHA256.hexHash(sql)
        tamper(&entry)

        var bytes = try ArchiveFormat.headerFrame(ArchiveTests.header)
        bytes += ArchiveFormat.skippableFrame(.entry, try compressor.compressFrame(ArchiveEntry.jsonArray([entry])))
        entry.offset = UInt64(bytes.count)
        bytes += frame
        let tocOffset = UInt64(bytes.count)
        let tocJSON = Array(#"{"entries":"#.utf8) + ArchiveEntry.jsonArray([entry]) + Array("}".utf8)
        bytes += ArchiveFormat.skippableFrame(.tableOfContents, try compressor.compressFrame(tocJSON))
        var fields = ArchiveFooter(formatVersion: 2, tableOfContentsOffset: tocOffset,
                                   tableOfContentsLength: UInt64(bytes.count) - tocOffset, contentSHA256: try SHA256.hash(bytes))
        footer(&fields)
        return bytes + (try fields.encoded())
    }

    /// Reads an archive both ways, as restore and verify do; returns the
    /// errors, expecting both readers to fail.
    static func readBothWays(_ bytes: [UInt8]) throws -> (seekable: ArchiveError, sequential: ArchiveError) {
        let seekable = try #require(throws: ArchiveError.self) {
            let reader = try ArchiveReader(source: InMemoryRandomAccessSource(bytes))
            for entry in reader.entries { try reader.readCopyRows(entry) { _ in } }
            _ = RestorePlan.schedule(reader.entries, allEntries: reader.entries, analyze: true, wholeTablesFor: 2)
        }
        let sequential = try #require(throws: ArchiveError.self) {
            _ = try ArchiveVerifier.verify(MemoryByteSource(bytes), deep: true)
        }
        return (seekable, sequential)
    }

    @Test("the crafted archive is valid until tampered with")
    func untamperedArchiveReads() throws {
        let bytes = try Self.archive(tamper: { _ in })
        let report = try ArchiveVerifier.verify(MemoryByteSource(bytes), deep: true)
        #expect(report.rows == 2)
        let reader = try ArchiveReader(source: InMemoryRandomAccessSource(bytes))
        #expect(reader.entries.count == 1)
    }

    // MARK: - Numbers in entries

    @Test("a chunk number of Int.max is refused, and messages that name the entry do not overflow")
    func hugeChunkNumber() throws {
        let bytes = try Self.archive(tamper: { $0.data?.chunk = Int.max })
        let (seekable, sequential) = try Self.readBothWays(bytes)
        for error in [seekable, sequential] {
            #expect(error.kind == .corrupt)
            #expect(error.message.contains("its chunk number is \(Int.max)"))
            #expect(error.description.contains("chunk \(Int.max) (0-based)"))
        }
    }

    @Test("a negative chunk number is refused (restore's planner took UInt64 of it)")
    func negativeChunkNumber() throws {
        let (seekable, sequential) = try Self.readBothWays(try Self.archive(tamper: { $0.data?.chunk = -1 }))
        #expect(seekable.message.contains("its chunk number is -1"))
        #expect(sequential.message.contains("its chunk number is -1"))
    }

    @Test("a chunk count not above the chunk number is refused")
    func chunkCountBelowChunk() throws {
        let bytes = try Self.archive(tamper: { $0.data?.chunk = 3; $0.data?.chunkCount = 2 })
        // Only the table of contents carries chunk counts.
        let error = try #require(throws: ArchiveError.self) { try ArchiveReader(source: InMemoryRandomAccessSource(bytes)) }
        #expect(error.message.contains("chunk 3 (0-based) of 2"))
    }

    @Test("row counts that overflow a sum or exceed the entry's bytes are refused (verify added them up)")
    func impossibleRowCounts() throws {
        for rows in [Int.max, -5, 1_000] {
            let (seekable, sequential) = try Self.readBothWays(try Self.archive(tamper: { $0.data?.rows = rows }))
            #expect(seekable.message.contains("it holds \(rows) rows in"))
            #expect(sequential.message.contains("it holds \(rows) rows in"))
        }
    }

    @Test("sizes beyond the largest entry are refused before anything is allocated for them")
    func hugeSizes() throws {
        for size in [UInt64.max, UInt64(Int.max) + 1, UInt64(ArchiveFormat.maximumEntryFrameSize) + 1] {
            let uncompressed = try Self.readBothWays(try Self.archive(tamper: { $0.uncompressedSize = size }))
            #expect(uncompressed.seekable.message.contains("its SQL size is \(size) bytes"))
            #expect(uncompressed.sequential.message.contains("its SQL size is \(size) bytes"))
            let compressed = try Self.readBothWays(try Self.archive(tamper: { $0.compressedSize = size }))
            #expect(compressed.seekable.message.contains("its frame size is \(size) bytes"))
            #expect(compressed.sequential.message.contains("its frame size is \(size) bytes"))
        }
    }

    @Test("a block member at a huge offset is refused (the stream reader's running block size overflowed)")
    func hugeBlockOffset() throws {
        let (seekable, sequential) = try Self.readBothWays(try Self.archive(tamper: { $0.blockOffset = UInt64.max }))
        #expect(seekable.message.contains("it starts at byte \(UInt64.max) of a block"))
        #expect(sequential.message.contains("it starts at byte \(UInt64.max) of a block"))
    }

    @Test("a negative entry id is refused")
    func negativeID() throws {
        let (seekable, sequential) = try Self.readBothWays(try Self.archive(tamper: { $0.id = Int.min }))
        #expect(seekable.message.contains("its id is \(Int.min)"))
        #expect(sequential.message.contains("its id is \(Int.min)"))
    }

    // MARK: - The footer

    @Test("a footer whose table-of-contents offset and length overflow is refused")
    func footerOverflow() throws {
        let bytes = try Self.archive(tamper: { _ in }, footer: { $0.tableOfContentsOffset = .max; $0.tableOfContentsLength = 2 })
        let (seekable, sequential) = try Self.readBothWays(bytes)
        for error in [seekable, sequential] {
            #expect(error.kind == .corrupt)
            #expect(error.message.contains("does not point at a table of contents"))
        }
    }

    // MARK: - Memory

    @Test("a short stream whose frame claims 1 GiB fails as truncated, having allocated only for what arrived")
    func claimedSizeIsNotAllocated() throws {
        let size = ArchiveFormat.maximumEntryFrameSize
        let bytes = try Self.archive(tamper: { _ in })
        let source = LargestReadSource(bytes)
        let input = try CountingInput(source)
        let error = try #require(throws: ArchiveError.self) { _ = try input.readExactly(size, what: "the entry's data") }
        #expect(error.kind == .truncated)
        #expect(input.position == UInt64(bytes.count))
        // The buffer each read fills is what the reader allocated.
        #expect(source.largestRead <= CountingInput.allocationStep)
    }

    @Test("restore's planner divides the data among connections rather than multiply sizes (which overflowed)")
    func plannerSizesDoNotOverflow() throws {
        var entries: [ArchiveEntry] = []
        for table in 0..<3 {
            for chunk in 0..<2 {
                var entry = ArchiveEntry(id: table * 2 + chunk + 1, kind: .tableData, section: .data, schema: "public", name: "t\(table)",
                                         data: .init(tableSchema: "public", tableName: "t\(table)", copyStatement: "COPY t FROM stdin;",
                                                     chunk: chunk, chunkCount: 2, rows: 1))
                entry.uncompressedSize = 1 << 60
                entries.append(entry)
            }
        }
        let items = RestorePlan.schedule(entries, allEntries: entries, analyze: true, wholeTablesFor: 64)
        // Each table holds a third of the data, more than a 64th: loaded chunk by chunk.
        #expect(items.allSatisfy { $0.wholeTable.isEmpty })
        #expect(items.count == entries.count + 3)
    }
}

/// An archive in memory, read as restore reads a file.
final class InMemoryRandomAccessSource: RandomAccessSource, @unchecked Sendable {
    // @unchecked Sendable: immutable.
    let bytes: [UInt8]
    let name = "crafted archive"

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func size() throws -> UInt64 { UInt64(bytes.count) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0, offset <= UInt64(bytes.count), UInt64(count) <= UInt64(bytes.count) - offset else {
            throw ArchiveError(.truncated, "read of \(count) bytes at \(offset) past the end")
        }
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
}

/// Bytes in memory that remember the largest buffer a reader offered.
final class LargestReadSource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    private(set) var largestRead = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        largestRead = max(largestRead, buffer.count)
        let count = min(buffer.count, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: count) }
        position += count
        return count
    }
}
