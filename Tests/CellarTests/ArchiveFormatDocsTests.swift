@testable import Cellar
import CellarSupport
import Foundation
import Testing

/// docs/archive-format.md is the design of record for the `.sql.zst` format,
/// for readers written in other languages. These tests hold it to the code:
/// the version, the magic number and frame tags, the footer's layout, every
/// key of the header and of an entry that the writer emits (from encoding real
/// values, not from a list kept here), every entry kind and section, and the
/// numbers of the limits the readers enforce. They fail when the document
/// falls behind the code, or names a key, tag or kind the code does not have.
@Suite("docs/archive-format.md and the archive code")
struct ArchiveFormatDocsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document() throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent("docs/archive-format.md"), encoding: .utf8)
    }

    /// From `## Title` (or `### Title`) to the next heading of that level or higher.
    static func section(_ heading: String, in document: String) throws -> String {
        let level = String(heading.prefix { $0 == "#" })
        let start = try #require(document.range(of: "\n" + heading + "\n"), "the document has no section \(heading)")
        let rest = document[start.upperBound...]
        var end = rest.endIndex
        for marker in (2...level.count).map({ "\n" + String(repeating: "#", count: $0) + " " }) {
            if let found = rest.range(of: marker), found.lowerBound < end { end = found.lowerBound }
        }
        return String(rest[..<end])
    }

    /// A Markdown table's rows, cells split at unescaped `|`, after the
    /// header row `header` (e.g. `| key | meaning |`) and its separator.
    static func tableRows(after header: String, in text: String) throws -> [[String]] {
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: header), "no table headed \(header)")
        var rows: [[String]] = []
        for line in lines[(start + 2)...] {
            guard line.hasPrefix("|") else { break }
            var cells: [String] = [], cell = "", previous: Character = " "
            for character in line.dropFirst() {
                if character == "|" && previous != "\\" {
                    cells.append(cell.trimmingCharacters(in: .whitespaces))
                    cell = ""
                } else {
                    cell.append(character)
                }
                previous = character
            }
            rows.append(cells)
        }
        return rows
    }

    /// The `code spans` in a piece of Markdown.
    static func codeSpans(_ text: String) -> [String] {
        text.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    /// Every key path of a JSON value: `database.tablespace`, `roles[].name`, ...
    static func keyPaths(_ value: Any, _ prefix: String = "") -> Set<String> {
        if let object = value as? [String: Any] {
            return object.reduce(into: []) { paths, member in
                let path = prefix.isEmpty ? member.key : prefix + "." + member.key
                paths.insert(path)
                paths.formUnion(keyPaths(member.value, path))
            }
        }
        if let array = value as? [Any] {
            return array.reduce(into: []) { $0.formUnion(keyPaths($1, prefix + "[]")) }
        }
        return []
    }

    static func keyPaths(encoding value: some Encodable) throws -> Set<String> {
        keyPaths(try JSONSerialization.jsonObject(with: try JSONEncoder.archive.encode(value)))
    }

    /// A header with every optional field set and one element in every
    /// array, so that encoding it shows every key the writer can emit.
    static var fullHeader: ArchiveHeader {
        var header = ArchiveHeader(
            producer: "pgcellar 0.1.0", snapshotTakenAt: "2026-01-01T12:00:00.000000Z", snapshotID: "00000003-0000001B-1",
            server: .init(version: "15.18", versionNumber: 150018),
            database: .init(name: "shop", owner: "shop_admin", encoding: "UTF8", collate: "C", ctype: "C",
                            localeProvider: "i", iculocale: "und", connectionLimit: 5, comment: "the shop",
                            privileges: [.init(grantor: "shop_admin", grantee: "shop_app", privilege: "CONNECT", grantable: false)],
                            settingValues: [.init(role: "shop_app", name: "work_mem", value: "8MB")],
                            settings: ["ALTER DATABASE shop SET work_mem = '8MB';"], grants: ["GRANT CONNECT ON DATABASE shop TO shop_app;"],
                            tablespace: "fast_ssd"),
            roles: [.init(name: "shop_admin", referencedAs: ["owner"])],
            options: .init(tables: ["public.t"], excludedTables: ["public.u"], schemas: ["public"], excludedUnsupported: ["x"]),
            rowDigest: .init(seed: 42), copySettings: [.init(name: "DateStyle", value: "ISO, MDY")])
        header.tablespaces = ["fast_ssd"]
        return header
    }

    /// An entry with every optional field set, as the table of contents holds it.
    static var fullEntry: ArchiveEntry {
        var entry = ArchiveEntry(
            id: 7, kind: .tableData, section: .data, schema: "public", name: "film", owner: "shop_admin", dependencies: [3],
            data: .init(tableSchema: "public", tableName: "film", copyStatement: "COPY public.film (id) FROM stdin;",
                        chunk: 0, chunkCount: 2, rows: 10, rowDigest: String(repeating: "0", count: 32)),
            tablespace: "fast_ssd")
        entry.uncompressedSize = 100
        entry.compressedSize = 50
        entry.sha256 = String(repeating: "ab", count: 32)
        entry.offset = 4096
        entry.blockOffset = 16
        return entry
    }

    // MARK: - Version, magic, tags, footer

    @Test("the title, the header example and the footer name the version the writer writes")
    func version() throws {
        let document = try Self.document()
        let title = try #require(document.components(separatedBy: "\n").first)
        #expect(title.hasSuffix("version \(ArchiveFormat.version)"), "the title names another version: \(title)")
        let versions = try Self.section("## Versions", in: document)
        #expect(versions.contains("**Version \(ArchiveFormat.version)** (pgcellar writes it)"),
                "*Versions* does not say that pgcellar writes version \(ArchiveFormat.version)")
        let footer = try Self.tableRows(after: "| offset | size | content |", in: try Self.section("## Footer", in: document))
        let versionRow = try #require(footer.first { $0.count > 2 && $0[2].hasPrefix("format version") })
        #expect(versionRow[2] == "format version (\(ArchiveFormat.version))", "the footer table says \(versionRow[2])")
    }

    @Test("the skippable magic and every frame tag, and no tag the code does not have")
    func magicAndTags() throws {
        let document = try Self.document()
        let magic = "0x" + String(ArchiveFormat.skippableMagic, radix: 16, uppercase: true)
        #expect(document.contains("magic `\(magic)`"), "the document does not give the skippable magic \(magic)")
        let rows = try Self.tableRows(after: "| tag | frame | payload after the tag |", in: document)
        let documented = rows.compactMap { Self.codeSpans($0[0]).first }
        #expect(documented == ArchiveFormat.Tag.allCases.map(\.rawValue), "the tag table lists \(documented)")
        let mentioned = Set(try NSRegularExpression(pattern: "PGCL-[A-Z]+").matches(in: document, range: NSRange(document.startIndex..., in: document))
            .map { String(document[Range($0.range, in: document)!]) })
        #expect(mentioned.subtracting(ArchiveFormat.Tag.allCases.map(\.rawValue)).isEmpty, "the document names tags the code lacks: \(mentioned)")
    }

    @Test("the footer table lays out exactly the footer the writer encodes")
    func footer() throws {
        let section = try Self.section("## Footer", in: try Self.document())
        #expect(section.contains("The last \(ArchiveFooter.size) bytes"))
        let rows = try Self.tableRows(after: "| offset | size | content |", in: section)
        var next = 0
        for row in rows {
            #expect(Int(row[0]) == next, "a field of the footer table starts at \(row[0]), not \(next)")
            next = (Int(row[0]) ?? 0) + (Int(row[1]) ?? 0)
        }
        #expect(next == ArchiveFooter.size, "the footer table covers \(next) bytes")
        // The fields the table names hold what an encoded footer holds there.
        let bytes = try ArchiveFooter(formatVersion: UInt32(ArchiveFormat.version), tableOfContentsOffset: 1234, tableOfContentsLength: 99,
                                      contentSHA256: Array(repeating: 7, count: 32)).encoded()
        func field(_ name: String) throws -> [UInt8] {
            let row = try #require(rows.first { $0[2].hasPrefix(name) }, "no footer field \(name)")
            let offset = try #require(Int(row[0])), size = try #require(Int(row[1]))
            return Array(bytes[offset..<(offset + size)])
        }
        #expect(try field("skippable magic") == [0x5C, 0x2A, 0x4D, 0x18])
        #expect(try field("payload size") == [UInt8(ArchiveFooter.size - 8), 0, 0, 0])
        #expect(try rows.first { $0[2].hasPrefix("payload size") }?[2] == "payload size, \(ArchiveFooter.size - 8)")
        #expect(try field("tag") == Array("PGCL-END".utf8))
        #expect(try field("format version") == [UInt8(ArchiveFormat.version), 0, 0, 0])
        #expect(try field("offset of the table-of-contents") == [0xD2, 0x04, 0, 0, 0, 0, 0, 0])
        #expect(try field("length of the table-of-contents") == [99, 0, 0, 0, 0, 0, 0, 0])
        #expect(try field("SHA-256 of every byte") == Array(repeating: 7, count: 32))
    }

    // MARK: - JSON keys

    @Test("the header example holds every key the writer emits, and no other, and decodes")
    func headerKeys() throws {
        let section = try Self.section("## Header", in: try Self.document())
        let start = try #require(section.range(of: "```json\n"))
        let end = try #require(section[start.upperBound...].range(of: "```"))
        let example = Data(section[start.upperBound..<end.lowerBound].utf8)
        let written = try Self.keyPaths(encoding: Self.fullHeader)
        let documented = Self.keyPaths(try JSONSerialization.jsonObject(with: example))
        #expect(written.subtracting(documented).isEmpty, "the header example lacks \(written.subtracting(documented).sorted())")
        #expect(documented.subtracting(written).isEmpty, "the header example has keys the writer never emits: \(documented.subtracting(written).sorted())")
        let decoded = try JSONDecoder().decode(ArchiveHeader.self, from: example)
        #expect(decoded.format == ArchiveFormat.name)
        #expect(decoded.formatVersion == ArchiveFormat.version, "the header example says formatVersion \(decoded.formatVersion)")
    }

    @Test("the entries table names every key of an entry and of its data, and no other")
    func entryKeys() throws {
        let section = try Self.section("## Entries", in: try Self.document())
        let rows = try Self.tableRows(after: "| key | meaning |", in: section)
        let written = try Self.keyPaths(encoding: Self.fullEntry)
        let topLevel = Set(written.filter { !$0.contains(".") })
        let documented = Set(rows.flatMap { Self.codeSpans($0[0]) })
        #expect(documented == topLevel, "the entries table lists \(documented.sorted()); an entry has \(topLevel.sorted())")
        let dataRow = try #require(rows.first { Self.codeSpans($0[0]) == ["data"] })
        let dataKeys = Set(written.filter { $0.hasPrefix("data.") }.map { String($0.dropFirst(5)) })
        let documentedDataKeys = Set(Self.codeSpans(dataRow[1]).filter { $0.first?.isLowercase == true && !$0.contains(" ") })
        #expect(documentedDataKeys == dataKeys, "the data row lists \(documentedDataKeys.sorted()); data has \(dataKeys.sorted())")
        // The table of contents: {"entries": [...]}.
        let contents = try Self.keyPaths(encoding: ArchiveTableOfContents(entries: [Self.fullEntry])).filter { !$0.contains(".") }
        let tocRow = try #require(try Self.tableRows(after: "| tag | frame | payload after the tag |", in: try Self.document())
            .first { $0[0] == "`PGCL-TOC`" })
        for key in contents {
            #expect(tocRow[2].contains("\"\(key)\""), "the PGCL-TOC row does not name the key \(key)")
        }
    }

    // MARK: - Kinds and sections

    /// Every `static let name = Kind(rawValue: "WORD")` in EntryKind.swift.
    static func kindWords() throws -> [String] {
        let source = try String(contentsOf: packageRoot.appendingPathComponent("Sources/Cellar/Archive/EntryKind.swift"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"static let `?\w+`? = Kind\(rawValue: "([^"]+)"\)"#)
        return regex.matches(in: source, range: NSRange(source.startIndex..., in: source)).map {
            String(source[Range($0.range(at: 1), in: source)!])
        }
    }

    @Test("every entry kind the code defines is in the document")
    func everyKind() throws {
        let words = try Self.kindWords()
        #expect(words.count > 60, "read only \(words.count) kinds from EntryKind.swift: the test reads the wrong file")
        #expect(words.contains(ArchiveEntry.Kind.tableData.rawValue))
        let spans = Set(Self.codeSpans(try Self.document()))
        let missing = words.filter { !spans.contains($0) }
        #expect(missing.isEmpty, "docs/archive-format.md does not list these kinds: \(missing)")
        for section in ArchiveEntry.Section.allCases {
            #expect(spans.contains(section.rawValue), "docs/archive-format.md does not name the section \(section.rawValue)")
        }
    }

    @Test("every kind the document's tables list is one the code defines")
    func noUnknownKind() throws {
        let document = try Self.document()
        let known = Set(try Self.kindWords())
        var listed: [String] = []
        for header in ["| kind | statements |", "| kind | section | SQL (as pg_dump 15 writes it) |", "| kind | section | SQL |", "| kind | what the entry holds |"] {
            listed += try Self.tableRows(after: header, in: document).flatMap { Self.codeSpans($0[0]) }
        }
        let kindRow = try #require(try Self.tableRows(after: "| key | meaning |", in: document).first { $0[0] == "`kind`" })
        listed += Self.codeSpans(kindRow[1])
        #expect(listed.count > 40)
        let unknown = listed.filter { !known.contains($0) }
        #expect(unknown.isEmpty, "docs/archive-format.md lists kinds the code does not define: \(unknown)")
    }

    // MARK: - Limits

    /// A size written as the document writes one: `1 GiB + 64 MiB - 1`, `2^31 - 1`, `1,024`.
    static func size(_ text: String) throws -> Int {
        var total = 0, sign = 1
        let tokens = text.split(separator: " ").map(String.init)
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            if token == "+" { sign = 1 } else if token == "-" { sign = -1 } else {
                var value: Int
                if let caret = token.firstIndex(of: "^") {
                    value = 1 << (try #require(Int(token[token.index(after: caret)...]), "cannot read \(text)"))
                    #expect(token[..<caret] == "2")
                } else {
                    value = try #require(Int(token.replacingOccurrences(of: ",", with: "")), "cannot read \(text)")
                }
                if index + 1 < tokens.count, let unit = ["KiB": 10, "MiB": 20, "GiB": 30][tokens[index + 1]] {
                    value <<= unit
                    index += 1
                }
                total += sign * value
            }
            index += 1
        }
        return total
    }

    /// The first match's captures in `text`, as sizes.
    static func sizes(_ pattern: String, in text: String) throws -> [Int] {
        let regex = try NSRegularExpression(pattern: pattern)
        let match = try #require(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), "the document no longer says /\(pattern)/")
        return try (1..<match.numberOfRanges).map { try size(String(text[Range(match.range(at: $0), in: text)!])) }
    }

    /// Every size in a cell, in order: `0 to 2^31 - 1` gives 0 and 2^31 - 1.
    static func allSizes(in text: String) throws -> [Int] {
        let regex = try NSRegularExpression(pattern: #"2\^\d+(?: - 1)?|\d[\d,]*(?: [KMG]iB)?(?: [+-] \d[\d,]*(?: [KMG]iB)?)*"#)
        return try regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            try size(String(text[Range($0.range, in: text)!]))
        }
    }

    @Test("the limits table gives the numbers the readers enforce")
    func limits() throws {
        let document = try Self.document()
        let rows = try Self.tableRows(after: "| field | accepted |", in: document)
        func limit(_ field: String) throws -> [Int] {
            let row = try #require(rows.first { $0[0] == field }, "the limits table has no row \(field)")
            return try Self.allSizes(in: row[1])
        }
        #expect(try limit("`uncompressedSize`, `compressedSize`") == [ArchiveFormat.maximumEntryFrameSize])
        #expect(try limit("`blockOffset`") == [ArchiveFrames.maximumBlockSize])
        #expect(try limit("`data.chunk`") == [0, Int(Int32.max)])
        #expect(try limit("metadata frames") == [ArchiveFormat.maximumFrameSize])
        // Where the limits are explained in prose.
        #expect(try Self.sizes(#"the sequential\s+reader reads a frame in steps of at most (\d+ [KMG]iB)"#, in: document) == [CountingInput.allocationStep])
        #expect(try Self.sizes(#"DDL entries of at most (\d+ [KMG]iB), up to (\d+ [KMG]iB) a block"#, in: document)
                == [ArchiveWriter.smallEntryLimit, ArchiveWriter.blockByteLimit])
        #expect(try Self.sizes(#"at most\s+(\d[\d,]*) entries or about (\d+ [KMG]iB) of frames"#, in: document)
                == [ArchiveWriter.groupEntryLimit, ArchiveWriter.groupByteLimit])
    }

    @Test("sizes read as the document writes them")
    func sizeReading() throws {
        #expect(try Self.size("1 GiB + 64 MiB - 1") == (1 << 30) + (64 << 20) - 1)
        #expect(try Self.size("2^31 - 1") == Int(Int32.max))
        #expect(try Self.size("1,024") == 1024)
        #expect(try Self.allSizes(in: "0 to 2^31 - 1") == [0, Int(Int32.max)])
        #expect(try Self.allSizes(in: "at most 1 GiB + 64 MiB - 1 (the largest row)") == [(1 << 30) + (64 << 20) - 1])
    }
}
