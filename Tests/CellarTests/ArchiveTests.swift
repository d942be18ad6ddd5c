import Cellar
import CellarSupport
import Foundation
import Testing

@Suite("Archive format")
struct ArchiveTests {
    static let header = ArchiveHeader(
        producer: "pgcellar test", snapshotTakenAt: "2026-01-01T00:00:00Z", snapshotID: "00000003-0000001B-1",
        server: .init(version: "15.18", versionNumber: 150018),
        database: .init(name: "shop", owner: "shop_admin", encoding: "UTF8", collate: "C", ctype: "C", localeProvider: "c",
                        settingValues: [.init(name: "work_mem", value: "8MB")],
                        settings: ["ALTER DATABASE shop SET work_mem = '8MB';"]),
        roles: [.init(name: "shop_admin", referencedAs: ["owner"])])

    static let copyStatement = "COPY public.items (id, label) FROM stdin;"
    static let rows1 = "1\tbière\n2\t\\N\n3\ttab\\there\n"
    static let rows2 = "4\t\\\\.\n"

    /// A small archive: settings, a table, two chunks of data, an index.
    static func makeArchive() throws -> (bytes: [UInt8], sql: String) {
        let sink = MemoryByteSink()
        let writer = try ArchiveWriter(sink: sink, header: header, level: 3)
        var sql = ""
        func add(_ entry: ArchiveEntry, _ text: String) throws {
            try writer.append(entry, sql: text)
            sql += text
        }
        try add(ArchiveEntry(id: 1, kind: .settings, section: .preData, name: "settings"),
                "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n")
        try add(ArchiveEntry(id: 2, kind: .table, section: .preData, schema: "public", name: "items", owner: "shop_admin"),
                "CREATE TABLE public.items (\n    id integer NOT NULL,\n    label text\n);\n\n")
        let encoder = try ArchiveEntryEncoder(level: 3)
        for (index, rows) in [rows1, rows2].enumerated() {
            let entry = ArchiveEntry(
                id: 3 + index, kind: .tableData, section: .data, schema: "public", name: "items", owner: "shop_admin",
                dependencies: [2],
                data: .init(tableSchema: "public", tableName: "items", copyStatement: copyStatement, chunk: index,
                            rows: rows.split(separator: "\n").count))
            let text = copyStatement + "\n" + rows + "\\.\n\n"
            try writer.append(try encoder.encode(entry, sql: text))
            sql += text
        }
        try add(ArchiveEntry(id: 5, kind: .constraint, section: .postData, schema: "public", name: "items items_pkey",
                             owner: "shop_admin", dependencies: [2]),
                "ALTER TABLE ONLY public.items\n    ADD CONSTRAINT items_pkey PRIMARY KEY (id);\n\n")
        try writer.finish()
        return (sink.bytes, sql)
    }

    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "pgcellar-archive-test-\(UInt32.random(in: 0...UInt32.max)).sql.zst"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("the table of contents is written as the archive is, in file order, each chunk with its table's chunk count")
    func tableOfContentsInFileOrderWithChunkCounts() throws {
        let sink = MemoryByteSink()
        let writer = try ArchiveWriter(sink: sink, header: Self.header, level: 3)
        let encoder = try ArchiveEntryEncoder(level: 3)
        var id = 0
        func chunk(_ table: String, _ chunk: Int) throws {
            id += 1
            let entry = ArchiveEntry(
                id: id, kind: .tableData, section: .data, schema: "public", name: table,
                data: .init(tableSchema: "public", tableName: table, copyStatement: "COPY public.\(table) FROM stdin;",
                            chunk: chunk, rows: 1))
            try writer.append(try encoder.encode(entry, sql: "COPY public.\(table) FROM stdin;\n\(chunk)\n\\.\n\n"))
        }
        func ddl(_ name: String) throws {
            id += 1
            try writer.append(ArchiveEntry(id: id, kind: .constraint, section: .postData, schema: "public", name: name),
                              sql: "-- \(name)\n")
        }
        // As two copying connections and two compression threads write
        // them: chunks of tables interleaved, out of chunk order, a count
        // noted before, between or after its chunks, and one never noted.
        try ddl("first")
        try writer.noteChunkCount(schema: "public", table: "a", chunks: 3)
        try chunk("a", 1)
        try chunk("b", 0)
        try chunk("a", 0)
        try writer.noteChunkCount(schema: "public", table: "b", chunks: 1)
        try chunk("c", 0)
        try ddl("middle")
        try chunk("a", 2)
        try chunk("c", 1)
        try writer.noteChunkCount(schema: "public", table: "c", chunks: 2)
        try chunk("never noted", 0)
        try chunk("never noted", 1)
        try ddl("last")
        try writer.finish()
        #expect(writer.entryCount == 11)

        let path = try Self.temporaryFile(sink.bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        #expect(archive.entries.map(\.id) == Array(1...11))
        #expect(archive.entries.map(\.offset) == archive.entries.map(\.offset).sorted { ($0 ?? 0) < ($1 ?? 0) })
        let counts = archive.entries.compactMap { entry in entry.data.map { "\($0.tableName) \($0.chunk)/\($0.chunkCount ?? -1)" } }
        #expect(counts == ["a 1/3", "b 0/1", "a 0/3", "c 0/2", "a 2/3", "c 1/2", "never noted 0/2", "never noted 1/2"])
        // The inline metadata and the table of contents agree (verify checks it).
        let report = try ArchiveVerifier.verify(path: path)
        #expect(report.entries == 11)
    }

    @Test("a stock zstd decoder sees exactly the SQL script")
    func decompressesToTheScript() throws {
        let (bytes, sql) = try Self.makeArchive()
        var output: [UInt8] = []
        let decompressor = try ZstdDecompressor()
        try decompressor.decompress(bytes) { output.append(contentsOf: $0) }
        try decompressor.finish()
        #expect(String(decoding: output, as: UTF8.self) == sql)
    }

    @Test("the seekable reader finds the header, every entry, and the rows of each chunk")
    func seekableReader() throws {
        let (bytes, _) = try Self.makeArchive()
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        #expect(archive.header == Self.header)
        #expect(archive.entries.map(\.id) == [1, 2, 3, 4, 5])
        #expect(archive.entries.map(\.kind) == [.settings, .table, .tableData, .tableData, .constraint])
        let data = archive.entries.filter { $0.data != nil }
        #expect(data.map { $0.data?.chunkCount } == [2, 2])
        #expect(data.map { $0.data?.rows } == [3, 1])
        // Read in reverse, as a parallel restore might.
        var rows: [String] = []
        for entry in data.reversed() {
            var collected: [UInt8] = []
            try archive.readCopyRows(entry) { collected.append(contentsOf: $0) }
            rows.append(String(decoding: collected, as: UTF8.self))
        }
        #expect(rows == [Self.rows2, Self.rows1])
        #expect(try archive.sql(archive.entries[1]).hasPrefix("CREATE TABLE public.items"))
    }

    @Test("the sequential reader streams entries and proves the whole file")
    func sequentialReader() throws {
        let (bytes, sql) = try Self.makeArchive()
        let reader = try ArchiveStreamReader(source: MemoryByteSource(bytes))
        var script: [UInt8] = []
        var kinds: [ArchiveEntry.Kind] = []
        while let entry = try reader.next() {
            kinds.append(entry.kind)
            if entry.kind == .table { continue }  // skipped entries are still checked
            try reader.readPayload { script.append(contentsOf: $0) }
        }
        #expect(kinds == [.settings, .table, .tableData, .tableData, .constraint])
        #expect(reader.tableOfContents?.entries.count == 5)
        #expect(String(decoding: script, as: UTF8.self) == sql.replacingOccurrences(
            of: "CREATE TABLE public.items (\n    id integer NOT NULL,\n    label text\n);\n\n", with: ""))
    }

    @Test("verify accepts an intact archive and reports its contents")
    func verifyIntact() throws {
        let (bytes, _) = try Self.makeArchive()
        let report = try ArchiveVerifier.verify(MemoryByteSource(bytes))
        #expect(report.entries == 5)
        #expect(report.tables == 1)
        #expect(report.dataChunks == 2)
        #expect(report.rows == 4)
        #expect(report.archiveBytes == UInt64(bytes.count))
    }

    @Test("verify rejects every single corrupted byte, whichever frame it is in")
    func verifyRejectsEveryCorruptByte() throws {
        let (bytes, _) = try Self.makeArchive()
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var accepted: [Int] = []
        for offset in 0..<bytes.count {
            var damaged = bytes
            damaged[offset] ^= 0x20
            if (try? ArchiveVerifier.verify(MemoryByteSource(damaged))) != nil { accepted.append(offset) }
        }
        #expect(accepted.isEmpty, "corruption at these offsets went unnoticed: \(accepted)")
        // Also through the file path, at a few places: header, an entry, the TOC, the footer.
        let entryOffset = Int(try ArchiveReader(path: path).entries[2].offset!) + 10
        for offset in [3, 40, entryOffset, bytes.count - 100, bytes.count - 50, bytes.count - 1] {
            var damaged = bytes
            damaged[offset] &+= 1
            let damagedPath = try Self.temporaryFile(damaged)
            defer { try? FileManager.default.removeItem(atPath: damagedPath) }
            #expect(throws: ArchiveError.self, "offset \(offset)") { try ArchiveVerifier.verify(path: damagedPath) }
        }
    }

    @Test("verify names the damaged entry")
    func verifyNamesTheEntry() throws {
        let (bytes, _) = try Self.makeArchive()
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let entry = try ArchiveReader(path: path).entries[3]
        var damaged = bytes
        damaged[Int(entry.offset!) + Int(entry.compressedSize) / 2] ^= 0xFF
        let error = try #require(throws: ArchiveError.self) { try ArchiveVerifier.verify(MemoryByteSource(damaged)) }
        #expect(error.entryID == 4)
        #expect(error.description.contains("TABLE DATA public items"))
    }

    @Test("verify rejects every truncation")
    func verifyRejectsTruncation() throws {
        let (bytes, _) = try Self.makeArchive()
        for length in 0..<bytes.count {
            #expect(throws: ArchiveError.self, "truncated to \(length) bytes") {
                try ArchiveVerifier.verify(MemoryByteSource(Array(bytes[0..<length])))
            }
        }
        let error = try #require(throws: ArchiveError.self) {
            try ArchiveVerifier.verify(MemoryByteSource(Array(bytes.dropLast(1))))
        }
        #expect(error.kind == .truncated)
        // Bytes after the footer are refused too.
        #expect(throws: ArchiveError.self) { try ArchiveVerifier.verify(MemoryByteSource(bytes + [0])) }
    }

    @Test("the seekable reader refuses truncated files and other zstd files")
    func seekableRefusals() throws {
        let (bytes, _) = try Self.makeArchive()
        let truncated = try Self.temporaryFile(Array(bytes.dropLast(7)))
        defer { try? FileManager.default.removeItem(atPath: truncated) }
        #expect(throws: ArchiveError.self) { try ArchiveReader(path: truncated) }

        let plain = try ZstdCompressor().compressFrame(Array("SELECT 1;\n".utf8))
        let plainPath = try Self.temporaryFile(plain + [UInt8](repeating: 0, count: 100))
        defer { try? FileManager.default.removeItem(atPath: plainPath) }
        #expect(throws: ArchiveError.self) { try ArchiveReader(path: plainPath) }
        let error = try #require(throws: ArchiveError.self) { try ArchiveVerifier.verify(MemoryByteSource(plain)) }
        #expect(error.kind == .notAnArchive)
    }

    @Test("a damaged entry read by offset fails with its checksum, others still read")
    func seekableDetectsDamage() throws {
        let (bytes, _) = try Self.makeArchive()
        let clean = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: clean) }
        let entry = try ArchiveReader(path: clean).entries[2]
        var damaged = bytes
        damaged[Int(entry.offset!) + Int(entry.compressedSize) - 2] ^= 0x01
        let path = try Self.temporaryFile(damaged)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        #expect(throws: ArchiveError.self) { try archive.read(archive.entries[2]) { _ in } }
        #expect(try archive.sql(archive.entries[4]).contains("items_pkey"))
    }

    @Test("list prints one line per entry like pg_restore -l")
    func listing() throws {
        let (bytes, _) = try Self.makeArchive()
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        let text = ArchiveListing.text(header: archive.header, entries: archive.entries)
        #expect(text.contains(";     dbname: shop"))
        #expect(text.contains("2; pre-data TABLE public items shop_admin\n"))
        #expect(text.contains("4; data TABLE DATA public items shop_admin (chunk 2 of 2, 1 rows)\n"))
    }

    @Test("two entries with one id are refused; a newer format version is refused with advice")
    func misuseAndVersions() throws {
        let writer = try ArchiveWriter(sink: MemoryByteSink(), header: Self.header)
        try writer.append(ArchiveEntry(id: 1, kind: .schema, section: .preData, name: "a"), sql: "CREATE SCHEMA a;\n")
        #expect(throws: ArchiveError.self) {
            try writer.append(ArchiveEntry(id: 1, kind: .schema, section: .preData, name: "b"), sql: "CREATE SCHEMA b;\n")
        }

        var future = Self.header
        future.formatVersion = ArchiveFormat.version + 1
        let sink = MemoryByteSink()
        try ArchiveWriter(sink: sink, header: future).finish()
        let error = try #require(throws: ArchiveError.self) { try ArchiveVerifier.verify(MemoryByteSource(sink.bytes)) }
        #expect(error.kind == .unsupportedVersion)
        #expect(error.description.contains("upgrade pgcellar"))
    }

    @Test("an empty archive (no entries) is valid")
    func emptyArchive() throws {
        let sink = MemoryByteSink()
        try ArchiveWriter(sink: sink, header: Self.header).finish()
        let report = try ArchiveVerifier.verify(MemoryByteSource(sink.bytes))
        #expect(report.entries == 0)
        let path = try Self.temporaryFile(sink.bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ArchiveReader(path: path).entries.isEmpty)
    }

    @Test("thousands of small entries share block frames and metadata groups, and both readers see each one")
    func manySmallEntries() throws {
        let sink = MemoryByteSink()
        let writer = try ArchiveWriter(sink: sink, header: Self.header, level: 3)
        let encoder = try ArchiveEntryEncoder(level: 3)
        var texts: [Int: String] = [:]
        var id = 0
        for table in 0..<3000 {
            id += 1
            let ddl = "CREATE TABLE public.t\(table) (\n    id integer NOT NULL\n);\n\n"
            try writer.append(ArchiveEntry(id: id, kind: .table, section: .preData, schema: "public", name: "t\(table)"), sql: ddl)
            texts[id] = ddl
            if table % 1000 == 999 {
                // A large entry between small ones gets a frame of its own.
                id += 1
                let big = "-- " + String(repeating: "x", count: 40_000) + "\n"
                try writer.append(ArchiveEntry(id: id, kind: .comment, section: .preData, name: "big \(table)"), sql: big)
                texts[id] = big
            }
        }
        for table in 0..<50 {
            id += 1
            let copy = "COPY public.t\(table) (id) FROM stdin;"
            let text = copy + "\n" + "\(table)\n" + "\\.\n\n"
            let entry = ArchiveEntry(id: id, kind: .tableData, section: .data, schema: "public", name: "t\(table)",
                                     data: .init(tableSchema: "public", tableName: "t\(table)", copyStatement: copy, chunk: 0, rows: 1))
            try writer.append(try encoder.encode(entry, sql: text))
            texts[id] = text
        }
        try writer.finish()
        let bytes = sink.bytes
        // Far less than an uncompressed metadata frame per entry would take.
        #expect(bytes.count < 3000 * 120)  // version 1 took about 350 bytes an entry

        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        #expect(archive.entries.count == texts.count)
        #expect(archive.entries.contains { $0.blockOffset != nil })
        // Any order, as a parallel restore reads.
        for entry in archive.entries.reversed() {
            #expect(try archive.sql(entry) == texts[entry.id], "entry \(entry.id)")
        }
        let reader = try ArchiveStreamReader(source: MemoryByteSource(bytes))
        var seen = 0
        while let entry = try reader.next() {
            if entry.id % 3 == 0 { continue }  // skipped entries are checked too
            var collected: [UInt8] = []
            try reader.readPayload { collected.append(contentsOf: $0) }
            #expect(String(decoding: collected, as: UTF8.self) == texts[entry.id])
            seen += 1
        }
        #expect(reader.entriesRead.map(\.offset) == archive.entries.map(\.offset))
        #expect(seen > 2000)
        let report = try ArchiveVerifier.verify(MemoryByteSource(bytes))
        #expect(report.entries == texts.count)
        // The script is still every entry's SQL in order.
        var script: [UInt8] = []
        let decompressor = try ZstdDecompressor()
        try decompressor.decompress(bytes) { script.append(contentsOf: $0) }
        try decompressor.finish()
        #expect(String(decoding: script, as: UTF8.self) == archive.entries.map { texts[$0.id]! }.joined())
    }

    @Test("a damaged header is refused before any entry is read")
    func headerChecksum() throws {
        let (bytes, _) = try Self.makeArchive()
        // The database name sits in the header's JSON, after the SHA-256.
        let json = String(decoding: bytes, as: UTF8.self)
        let name = try #require(json.range(of: "\"name\":\"shop\""))
        var damaged = bytes
        let position = json.utf8.distance(from: json.startIndex, to: name.lowerBound) + 9
        damaged[position] = UInt8(ascii: "x")  // "shop" -> "xhop": still valid JSON
        let error = try #require(throws: ArchiveError.self) { try ArchiveStreamReader(source: MemoryByteSource(damaged)) }
        #expect(error.kind == .checksumMismatch)
        #expect(error.description.contains("header"))
    }

    @Test("version 1 archives (one metadata frame per entry, no header checksum) are still read")
    func readsVersionOne() throws {
        var header = Self.header
        header.formatVersion = 1
        var bytes: [UInt8] = []
        func skippable(_ tag: String, _ body: [UInt8]) {
            bytes.appendLittleEndianForTest(UInt32(0x184D_2A5C))
            bytes.appendLittleEndianForTest(UInt32(8 + body.count))
            bytes += Array(tag.utf8) + body
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        skippable("PGCL-HDR", Array(try encoder.encode(header)))
        let compressor = try ZstdCompressor(level: 3, workers: 0, checksum: true)
        var tocEntries: [ArchiveEntry] = []
        for (id, text) in [(1, "SET statement_timeout = 0;\n"), (2, "CREATE TABLE public.items (id integer);\n")] {
            let sqlBytes = Array(text.utf8)
            let frame = try compressor.compressFrame(sqlBytes)
            var entry = ArchiveEntry(id: id, kind: id == 1 ? .settings : .table, section: .preData, name: "e\(id)")
            entry.uncompressedSize = UInt64(sqlBytes.count)
            entry.compressedSize = UInt64(frame.count)
            entry.sha256 = try SHA256.hexHash(sqlBytes)
            skippable("PGCL-ENT", Array(try encoder.encode(entry)))
            entry.offset = UInt64(bytes.count)
            bytes += frame
            tocEntries.append(entry)
        }
        let tocOffset = bytes.count
        skippable("PGCL-TOC", try compressor.compressFrame(Array(try encoder.encode(ArchiveTableOfContents(entries: tocEntries)))))
        var footer: [UInt8] = []
        footer.appendLittleEndianForTest(UInt32(0x184D_2A5C))
        footer.appendLittleEndianForTest(UInt32(72))
        footer += Array("PGCL-END".utf8)
        footer.appendLittleEndianForTest(UInt32(1))
        footer.appendLittleEndianForTest(UInt32(0))
        footer.appendLittleEndianForTest(UInt64(tocOffset))
        footer.appendLittleEndianForTest(UInt64(bytes.count - tocOffset))
        footer += try SHA256.hash(bytes)
        footer += Array(try SHA256.hash(footer).prefix(8))
        bytes += footer

        let report = try ArchiveVerifier.verify(MemoryByteSource(bytes))
        #expect(report.entries == 2)
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try ArchiveReader(path: path)
        #expect(archive.header.formatVersion == 1)
        #expect(try archive.sql(archive.entries[1]) == "CREATE TABLE public.items (id integer);\n")
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndianForTest<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
