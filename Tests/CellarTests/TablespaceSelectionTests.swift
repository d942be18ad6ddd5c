@testable import Cellar
import Foundation
import Testing

/// How an entry's SQL selects its tablespace, and what restore makes of it.
@Suite("Tablespace selection")
struct TablespaceSelectionTests {
    static let ddl = "CREATE TABLE public.t (\n    id integer\n);\n\n"

    @Test("an entry's SQL selects its tablespace as pg_dump does and sets it back; unwrapping gives the DDL again")
    func wrapAndUnwrap() throws {
        let wrapped = try TablespaceSelection.wrap(Self.ddl, in: "fast \"ssd\"")
        #expect(wrapped == "SET default_tablespace = \"fast \"\"ssd\"\"\";\n\n" + Self.ddl + "SET default_tablespace = '';\n\n")
        #expect(TablespaceSelection.statements(of: wrapped, in: "fast \"ssd\"") == Self.ddl)
        #expect(try TablespaceSelection.wrap(Self.ddl, in: nil) == Self.ddl)
        // Already unwrapped, or another tablespace's selection: left as it is.
        #expect(TablespaceSelection.statements(of: Self.ddl, in: "fast") == Self.ddl)
        #expect(TablespaceSelection.statements(of: wrapped, in: "slow") == wrapped)
        #expect(TablespaceSelection.statements(of: wrapped, in: nil) == wrapped)
    }

    static func plan(tablespaces: [String]?, database: String?, _ change: (inout RestoreOptions) -> Void = { _ in }) -> RestorePlan {
        var header = RestorePlanTests.header
        header.tablespaces = tablespaces
        header.database.tablespace = database
        var options = RestoreOptions(dsn: "dbname=copy")
        change(&options)
        return RestorePlan(header: header, options: options)
    }

    @Test("a restore needs the entries' tablespaces, the database's own only with --create, none with --no-tablespaces or --data-only")
    func requiredTablespaces() throws {
        #expect(Self.plan(tablespaces: ["fast", "home"], database: "home").requiredTablespaces == ["fast"])
        #expect(Self.plan(tablespaces: ["fast", "home"], database: "home") { $0.create = true }.requiredTablespaces == ["fast", "home"])
        #expect(Self.plan(tablespaces: ["fast"], database: nil) { $0.noTablespaces = true }.requiredTablespaces.isEmpty)
        #expect(Self.plan(tablespaces: ["fast"], database: nil) { $0.dataOnly = true }.requiredTablespaces.isEmpty)
        #expect(Self.plan(tablespaces: nil, database: nil) { $0.create = true }.requiredTablespaces.isEmpty)
    }

    @Test("--create names the database's own tablespace unless --no-tablespaces; --no-tablespaces runs the entry's DDL alone")
    func createAndStatements() throws {
        let create = try Self.plan(tablespaces: ["home"], database: "home") { $0.create = true }.createDatabaseStatement(name: "copy")
        #expect(create.hasSuffix(" CONNECTION LIMIT = 20 TABLESPACE = \"home\""))
        let bare = try Self.plan(tablespaces: ["home"], database: "home") { $0.create = true; $0.noTablespaces = true }
            .createDatabaseStatement(name: "copy")
        #expect(!bare.contains("TABLESPACE"))

        var entry = ArchiveEntry(id: 2, kind: .table, section: .preData, schema: "public", name: "t", tablespace: "fast")
        let sql = try TablespaceSelection.wrap(Self.ddl, in: entry.tablespace)
        #expect(Self.plan(tablespaces: ["fast"], database: nil).statements(of: entry, sql: sql) == sql)
        #expect(Self.plan(tablespaces: ["fast"], database: nil) { $0.noTablespaces = true }.statements(of: entry, sql: sql) == Self.ddl)
        entry.tablespace = nil
        #expect(Self.plan(tablespaces: nil, database: nil) { $0.noTablespaces = true }.statements(of: entry, sql: Self.ddl) == Self.ddl)
    }

    @Test("old archives without the fields read as no tablespaces")
    func oldArchivesReadAsDefault() throws {
        let json = #"{"compressedSize":1,"dependencies":[],"id":3,"kind":"TABLE","name":"t","section":"pre-data","sha256":"x","uncompressedSize":1}"#
        #expect(try JSONDecoder().decode(ArchiveEntry.self, from: Data(json.utf8)).tablespace == nil)
        var header = RestorePlanTests.header
        let encoded = try JSONEncoder.archive.encode(header)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("tablespace"))
        header = try JSONDecoder().decode(ArchiveHeader.self, from: encoded)
        #expect(header.tablespaces == nil && header.database.tablespace == nil)
    }
}
