import Cellar
import CellarSupport
import Foundation
import Testing

@Suite("verify --deep")
struct VerifyDeepTests {
    static let seed: UInt64 = 0x5eed_5eed_5eed_5eed
    static let copyStatement = "COPY public.items (id, label) FROM stdin;"
    static let chunks = ["1\tbière\n2\t\\N\n3\ttab\\there\n", "4\t\\\\.\n", ""]

    static func digest(_ rows: String) -> String {
        var digester = RowDigester(seed: seed)
        Array(rows.utf8).withUnsafeBytes { digester.add(lines: $0) }
        return digester.digest.hex
    }

    /// An archive of one table in three chunks (the last empty), each with
    /// its row digest unless `alter` changes the chunk's metadata.
    static func archive(digests: Bool = true, alter: (Int, inout ArchiveEntry.DataInfo) -> Void = { _, _ in }) throws -> [UInt8] {
        var header = ArchiveTests.header
        if digests { header.rowDigest = .init(seed: seed) }
        let sink = MemoryByteSink()
        let writer = try ArchiveWriter(sink: sink, header: header, level: 3)
        try writer.append(ArchiveEntry(id: 1, kind: .table, section: .preData, schema: "public", name: "items"),
                          sql: "CREATE TABLE public.items (id integer, label text);\n")
        let encoder = try ArchiveEntryEncoder(level: 3)
        for (index, rows) in chunks.enumerated() {
            var data = ArchiveEntry.DataInfo(tableSchema: "public", tableName: "items", copyStatement: copyStatement, chunk: index,
                                             rows: rows.split(separator: "\n").count, rowDigest: digests ? digest(rows) : nil)
            alter(index, &data)
            let entry = ArchiveEntry(id: 2 + index, kind: .tableData, section: .data, schema: "public", name: "items",
                                     dependencies: [1], data: data)
            try writer.append(try encoder.encode(entry, sql: copyStatement + "\n" + rows + "\\.\n\n"))
        }
        try writer.finish()
        return sink.bytes
    }

    @Test("an archive whose digests match its rows passes; the empty chunk's digest is zero")
    func intact() throws {
        let report = try ArchiveVerifier.verify(MemoryByteSource(try Self.archive()), deep: true)
        let check = try #require(report.rowDigests)
        #expect(check.digestsAvailable && check.passed)
        #expect(check.chunksChecked == 3 && check.rows == 4)
        #expect(Self.digest("") == RowDigest.zero.hex)
        // Without --deep, no rows are read.
        #expect(try ArchiveVerifier.verify(MemoryByteSource(try Self.archive())).rowDigests == nil)
    }

    @Test("a digest written wrongly is found, named by entry, chunk and table, though every SHA-256 is right")
    func wrongDigest() throws {
        let tampered = try Self.archive { index, data in
            if index == 1 { data.rowDigest = Self.digest("4\tsomething else\n") }
        }
        // The archive's own checks pass: its metadata is consistent, only untrue.
        #expect(try ArchiveVerifier.verify(MemoryByteSource(tampered)).entries == 4)
        let check = try #require(try ArchiveVerifier.verify(MemoryByteSource(tampered), deep: true).rowDigests)
        #expect(!check.passed)
        #expect(check.mismatches.count == 1)
        let mismatch = try #require(check.mismatches.first)
        #expect(mismatch.entryID == 3 && mismatch.chunk == 1 && mismatch.tableName == "items")
        #expect(mismatch.computedDigest == Self.digest(Self.chunks[1]))
        #expect(mismatch.description.contains("chunk 2 of public.items"))
        #expect(mismatch.description.contains("its rows give \(Self.digest(Self.chunks[1]))"))
    }

    @Test("a wrong row count and a missing digest are found too")
    func wrongCountAndMissingDigest() throws {
        let tampered = try Self.archive { index, data in
            if index == 0 { data.rows = 2 }
            if index == 2 { data.rowDigest = nil }
        }
        let check = try #require(try ArchiveVerifier.verify(MemoryByteSource(tampered), deep: true).rowDigests)
        #expect(check.mismatches.map(\.chunk) == [0, 2])
        #expect(check.mismatches[0].description.contains("records 2 rows but holds 3"))
        #expect(check.mismatches[1].description.contains("has no row digest"))
    }

    @Test("an archive without digests is checked by row counts, and says so")
    func olderArchive() throws {
        let check = try #require(try ArchiveVerifier.verify(MemoryByteSource(try Self.archive(digests: false)), deep: true).rowDigests)
        #expect(!check.digestsAvailable && check.passed)
        #expect(check.unavailableReason?.contains("no row digests") == true)
        let miscounted = try Self.archive(digests: false) { index, data in if index == 1 { data.rows = 5 } }
        let failed = try #require(try ArchiveVerifier.verify(MemoryByteSource(miscounted), deep: true).rowDigests)
        #expect(failed.mismatches.map(\.chunk) == [1])
    }
}
