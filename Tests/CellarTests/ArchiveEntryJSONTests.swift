@testable import Cellar
import Foundation
import Testing

/// The hand-written entry JSON must be exactly what JSONEncoder writes, and
/// must write every stored property.
@Suite("Archive entry JSON")
struct ArchiveEntryJSONTests {
    static let awkward = [
        "plain", "", "quote \" and backslash \\ and slash /", "tab\tnewline\nreturn\rbell\u{07}nul\u{00}esc\u{1B}del\u{7F}",
        "formfeed\u{0C}backspace\u{08}", "Ünïcödé ☃ 𝄞 日本", "\u{1F}\u{10}",
    ]

    static var entries: [ArchiveEntry] {
        var result: [ArchiveEntry] = []
        for (index, text) in awkward.enumerated() {
            var entry = ArchiveEntry(id: index * 1_000_003, kind: .init(rawValue: "KIND \(text)"), section: .postData,
                                     schema: index % 2 == 0 ? text : nil, name: text, owner: index % 3 == 0 ? nil : text,
                                     dependencies: index == 0 ? [] : [1, Int.max, -5])
            entry.uncompressedSize = UInt64.max - UInt64(index)
            entry.compressedSize = UInt64(index)
            entry.sha256 = index == 1 ? "not hex \(text)" : String(repeating: "0123456789abcdef", count: 4)
            if index % 2 == 1 { entry.offset = 1 << 40 }
            if index % 3 == 1 { entry.blockOffset = 0 }
            if index % 3 == 2 { entry.tablespace = text }
            if index % 2 == 0 {
                entry.data = .init(tableSchema: text, tableName: text + "t", copyStatement: "COPY \(text) FROM stdin;", chunk: index,
                                   chunkCount: index % 4 == 0 ? nil : 9, rows: Int.max - index,
                                   rowDigest: index % 4 == 2 ? nil : "00112233445566778899aabbccddeeff")
            }
            result.append(entry)
        }
        return result
    }

    @Test("entries and arrays of entries are byte for byte what JSONEncoder.archive writes, and decode to the same entries")
    func sameBytesAsJSONEncoder() throws {
        for entry in Self.entries {
            var bytes: [UInt8] = []
            entry.appendJSON(to: &bytes)
            let expected = [UInt8](try JSONEncoder.archive.encode(entry))
            #expect(bytes == expected, "\(String(decoding: bytes, as: UTF8.self))\n\(String(decoding: expected, as: UTF8.self))")
            #expect(try JSONDecoder().decode(ArchiveEntry.self, from: Data(bytes)) == entry)
        }
        #expect(ArchiveEntry.jsonArray(Self.entries) == [UInt8](try JSONEncoder.archive.encode(Self.entries)))
        #expect(ArchiveEntry.jsonArray([]) == Array("[]".utf8))
    }

    @Test("every stored property of an entry and of its data info is written (add a new one to appendJSON)")
    func everyPropertyWritten() throws {
        let entry = Self.entries[0]
        #expect(Mirror(reflecting: entry).children.compactMap(\.label) == ArchiveEntry.jsonStoredProperties)
        #expect(Mirror(reflecting: try #require(entry.data)).children.compactMap(\.label) == ArchiveEntry.DataInfo.jsonStoredProperties)
    }

    @Test("a version 2 header whose SHA-256 starts with \"{\" (one in 256) is read, not taken for version 1")
    func headerChecksumStartingWithBrace() throws {
        var found = 0
        for attempt in 0..<4000 where found < 3 {
            let header = ArchiveHeader(
                producer: "pgcellar", snapshotTakenAt: "2026-12-05T00:00:00Z", server: .init(version: "15", versionNumber: 150000),
                database: .init(name: "db\(attempt)", owner: "o", encoding: "UTF8", collate: "C", ctype: "C", localeProvider: "c"))
            let frame = try ArchiveFormat.headerFrame(header)
            let body = Array(frame[16...])
            guard body.first == UInt8(ascii: "{") else { continue }
            found += 1
            #expect(try ArchiveFrames.decodeHeader(body).database.name == "db\(attempt)")
        }
        #expect(found > 0, "no header in 4,000 had a checksum starting with {")
    }
}
