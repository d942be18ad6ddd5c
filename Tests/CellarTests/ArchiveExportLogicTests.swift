@testable import Cellar
@testable import CellarCommands
import Testing

/// The export's pure pieces: ordering, name patterns, quoting, the preamble.
@Suite("Export logic")
struct ArchiveExportLogicTests {
    static func object(_ kind: ArchiveEntry.Kind, _ name: String, oid: UInt32, section: DumpSection = .preData, after: [UInt32] = []) -> DumpObject {
        DumpObject(key: ObjectKey(catalog: "pg_class", oid: oid), kind: kind, schema: "public", name: name, owner: nil,
                   section: section, sql: "", dependencies: after.map { ObjectKey(catalog: "pg_class", oid: $0) })
    }

    @Test("objects come after what they depend on, otherwise in pg_dump's priority order")
    func dependencyOrder() {
        let objects = [
            Self.object(.view, "v", oid: 1, after: [3]),
            Self.object(.table, "t", oid: 2),
            Self.object(.function, "f", oid: 3, after: [2]),  // a SQL-standard body that reads t
            Self.object(.schema, "s", oid: 4),
            Self.object(.type, "e", oid: 5),
        ]
        let (ordered, broken) = DependencyOrder.sort(objects)
        #expect(broken.isEmpty)
        #expect(ordered.map(\.name) == ["s", "e", "t", "f", "v"])
    }

    @Test("a dependency cycle is broken rather than looping or dropping objects")
    func cyclesAreBroken() {
        let objects = [Self.object(.table, "a", oid: 1, after: [2]), Self.object(.table, "b", oid: 2, after: [1])]
        let (ordered, broken) = DependencyOrder.sort(objects)
        #expect(ordered.count == 2)
        #expect(broken.count == 1)
    }

    @Test("table patterns follow psql: schema.name, wildcards, case folding unless quoted")
    func namePatterns() {
        #expect(NamePattern("film").matches(schema: "public", name: "film"))
        #expect(!NamePattern("film").matches(schema: "public", name: "film_actor"))
        #expect(NamePattern("film*").matches(schema: "public", name: "film_actor"))
        #expect(NamePattern("public.Film").matches(schema: "public", name: "film"))
        #expect(!NamePattern("app.film").matches(schema: "public", name: "film"))
        #expect(NamePattern("\"MixedCase\"").matches(schema: "public", name: "MixedCase"))
        #expect(NamePattern("pay?ent_p2022_0*").matches(schema: "public", name: "payment_p2022_01"))
        #expect(NamePattern("*.t").matches(schema: "any", name: "t"))
    }

    @Test("the script starts with pg_dump's session settings")
    func preamble() throws {
        let header = ArchiveHeader(
            producer: "pgcellar", snapshotTakenAt: "now", server: .init(version: "15", versionNumber: 150000),
            database: .init(name: "x\ny", owner: "o", encoding: "UTF8", collate: "C", ctype: "C", localeProvider: "c"))
        let text = try Exporter.preamble(header: header)
        #expect(text.contains("SET client_encoding = 'UTF8';\n"))
        #expect(text.contains("SET standard_conforming_strings = on;\n"))
        #expect(text.contains("SELECT pg_catalog.set_config('search_path', '', false);\n"))
        #expect(text.contains("SET check_function_bodies = false;\n"))
        #expect(!text.contains("x\ny"), "a newline in the name must not end the comment")
    }

    @Test("chunk sizes parse with K and M suffixes")
    func chunkSizes() {
        #expect(ExportCommand.parseSize("4M") == 4 << 20)
        #expect(ExportCommand.parseSize("512K") == 512 << 10)
        #expect(ExportCommand.parseSize("64KiB") == 64 << 10)
        #expect(ExportCommand.parseSize("1000") == 1000)
        #expect(ExportCommand.parseSize("x") == nil)
    }

    @Test("a chunk size too large for an integer is no size (a usage error), not a trap")
    func chunkSizeOverflow() {
        #expect(ExportCommand.parseSize("9000000000000G") == nil)
        #expect(ExportCommand.parseSize("99999999999999999999") == nil)
        #expect(throws: (any Error).self) { try ExportCommand.parse(["-d", "x", "-o", "/tmp/x", "--chunk-size", "9000000000000G"]) }
    }

    @Test("the writer refuses an entry larger than any reader accepts, naming it, before touching its bytes")
    func oversizedEntryRefused() throws {
        let encoder = try ArchiveEntryEncoder(level: 1)
        // Never initialized or read: the size check comes first.
        let huge = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveFormat.maximumEntryFrameSize + 1, alignment: 1)
        defer { huge.deallocate() }
        let entry = ArchiveEntry(id: 7, kind: .tableData, section: .data, schema: "public", name: "big")
        let error = #expect(throws: ArchiveError.self) { try encoder.encode(entry, sql: UnsafeRawBufferPointer(huge)) }
        #expect(error?.description.contains("TABLE DATA public big") == true, "\(String(describing: error))")
        // A chunk is at most --chunk-size (256 MiB at most) or one row with its
        // COPY statement: both must fit what the readers accept.
        #expect(ArchiveFormat.maximumEntryFrameSize >= max(256 << 20, ArchiveFormat.maximumRowSize) + (1 << 20))
    }
}
