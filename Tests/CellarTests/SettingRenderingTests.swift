@testable import Cellar
import Testing

/// Database settings, privileges and qualified names as SQL: built from typed
/// values through PostgresClient's quoting, never by pasting catalog text.
@Suite("Setting rendering")
struct SettingRenderingTests {
    // MARK: - SplitGUCList

    @Test("list values split as pg_dump's SplitGUCList splits them", arguments: [
        ("\"$user\", public", ["$user", "public"]),
        ("\"\"", [""]),
        ("a,b", ["a", "b"]),
        ("  a ,\t\"B c\"  ", ["a", "B c"]),
        ("\"say \"\"hi\"\"\"", ["say \"hi\""]),
        ("Mixed", ["Mixed"]),  // not folded to lower case
        ("x;CREATE/**/ROLE/**/evil/**/SUPERUSER;--", ["x;CREATE/**/ROLE/**/evil/**/SUPERUSER;--"]),
        ("a\"b", ["a\"b"]),  // a quote inside an unquoted item is just a character
        ("", []),
        ("   ", []),
    ])
    func splitsLists(_ text: String, _ items: [String]) {
        #expect(SettingValue.splitList(text) == items)
    }

    @Test("text that is no list is refused", arguments: ["a,", ",a", "a,,b", "\"open", "a b", "\"a\"b", "x; CREATE ROLE evil; --"])
    func refusesNonLists(_ text: String) {
        #expect(SettingValue.splitList(text) == nil)
    }

    // MARK: - Statements

    @Test("a plain value is one quoted literal")
    func plainValue() throws {
        #expect(try SettingValue(name: "work_mem", value: "8MB").statement(database: "shop")
            == "ALTER DATABASE \"shop\" SET \"work_mem\" TO '8MB'")
        #expect(try SettingValue(name: "DateStyle", value: "ISO, MDY").statement(database: "shop")
            == "ALTER DATABASE \"shop\" SET \"DateStyle\" TO 'ISO, MDY'")
        #expect(try SettingValue(role: "app", name: "statement_timeout", value: "5s").statement(database: "shop")
            == "ALTER ROLE \"app\" IN DATABASE \"shop\" SET \"statement_timeout\" TO '5s'")
    }

    @Test("a list value is one literal per item, whatever the case of the name")
    func listValue() throws {
        #expect(try SettingValue(name: "search_path", value: "\"$user\", public").statement(database: "shop")
            == "ALTER DATABASE \"shop\" SET \"search_path\" TO '$user', 'public'")
        #expect(try SettingValue(name: "search_path", value: "\"\"").statement(database: "d")
            == "ALTER DATABASE \"d\" SET \"search_path\" TO ''")
        #expect(try SettingValue(name: "Search_Path", value: "a").statement(database: "d")
            == "ALTER DATABASE \"d\" SET \"Search_Path\" TO 'a'")
        #expect(try SettingValue(name: "temp_tablespaces", value: "fast, \"Slow Disk\"").statement(database: "d")
            == "ALTER DATABASE \"d\" SET \"temp_tablespaces\" TO 'fast', 'Slow Disk'")
        for name in ["local_preload_libraries", "session_preload_libraries", "shared_preload_libraries", "unix_socket_directories"] {
            #expect(SettingValue(name: name, value: "x").isList)
        }
        #expect(!SettingValue(name: "work_mem", value: "x").isList)
    }

    @Test("planted SQL stays inside a literal, in every spelling", arguments: [
        ("search_path", "x;CREATE/**/ROLE/**/evil/**/SUPERUSER;--", "'x;CREATE/**/ROLE/**/evil/**/SUPERUSER;--'"),
        ("search_path", "\"a'; CREATE ROLE evil; --\"", "'a''; CREATE ROLE evil; --'"),
        ("work_mem", "1'; CREATE ROLE evil; --", "'1''; CREATE ROLE evil; --'"),
        ("work_mem", #"\'; CREATE ROLE evil; --"#, #" E'\\''; CREATE ROLE evil; --'"#),
    ])
    func injectionIsQuoted(_ name: String, _ value: String, _ rendered: String) throws {
        #expect(try SettingValue(name: name, value: value).valueSQL() == rendered)
    }

    @Test("a list value pg_dump cannot restate has no statement; FROM CURRENT replays it")
    func unrenderableList() throws {
        let setting = SettingValue(role: "me", name: "search_path", value: "")
        #expect(throws: SettingValue.Unrenderable.self) { try setting.statement(database: "d") }
        #expect(try setting.fromCurrentStatement(database: "d") == "ALTER ROLE \"me\" IN DATABASE \"d\" SET \"search_path\" FROM CURRENT")
    }

    @Test("a config item splits at its first equals sign")
    func configItems() {
        #expect(SettingValue(role: nil, configItem: "search_path=a=b") == SettingValue(name: "search_path", value: "a=b"))
        #expect(SettingValue(role: "r", configItem: "work_mem=") == SettingValue(role: "r", name: "work_mem", value: ""))
        #expect(SettingValue(role: nil, configItem: "nonsense") == nil)
    }

    // MARK: - Privileges

    @Test("grants follow the ACL, as its grantors, and refuse privileges a database cannot have")
    func grants() throws {
        let privileges: [ArchiveHeader.Privilege] = [
            .init(grantor: "own", grantee: "own", privilege: "CREATE", grantable: false),
            .init(grantor: "own", grantee: nil, privilege: "CONNECT", grantable: false),
            .init(grantor: "own", grantee: "lead", privilege: "CONNECT", grantable: true),
            .init(grantor: "lead", grantee: "app", privilege: "CONNECT", grantable: false),
        ]
        #expect(try DatabaseGrants.statements(privileges: privileges, database: "d", sourceOwner: "own", owner: .role("new")) == [
            "REVOKE ALL ON DATABASE \"d\" FROM PUBLIC",
            "REVOKE ALL ON DATABASE \"d\" FROM \"new\"",
            "GRANT CREATE ON DATABASE \"d\" TO \"new\"",
            "GRANT CONNECT ON DATABASE \"d\" TO PUBLIC",
            "GRANT CONNECT ON DATABASE \"d\" TO \"lead\" WITH GRANT OPTION",
            "SET ROLE \"lead\"",
            "GRANT CONNECT ON DATABASE \"d\" TO \"app\"",
            "RESET ROLE",
        ])
        #expect(DatabaseGrants.roles(in: privileges, sourceOwner: "own") == ["lead", "app"])
        let planted = [ArchiveHeader.Privilege(grantor: "own", grantee: "x", privilege: "CONNECT ON DATABASE d TO x; DROP", grantable: false)]
        #expect(throws: DatabaseGrants.UnknownPrivilege.self) {
            try DatabaseGrants.statements(privileges: planted, database: "d", sourceOwner: "own", owner: .currentUser)
        }
    }

    // MARK: - Qualified names

    @Test("names with dots stay two parts: as keys, in SQL and in messages")
    func qualifiedNames() throws {
        let first = QualifiedName(schema: "a", name: "b.c"), second = QualifiedName(schema: "a.b", name: "c")
        #expect(first != second)
        #expect(Set([first, second]).count == 2)
        #expect(try first.sql == "\"a\".\"b.c\"")
        #expect(try second.sql == "\"a.b\".\"c\"")
        #expect(first.description == "a.\"b.c\"")
        #expect(QualifiedName(schema: "say \"hi\"", name: "t").description == "\"say \"\"hi\"\"\".t")
        #expect([second, first].sorted() == [first, second])
    }

    @Test("the restore counts tables that collide as text as two")
    func countersKeepCollidingNamesApart() {
        let counters = RestoreCounters()
        counters.addChunk(table: QualifiedName(schema: "a", name: "b.c"), rows: 1, bytes: 10)
        counters.addChunk(table: QualifiedName(schema: "a.b", name: "c"), rows: 2, bytes: 20)
        counters.addChunk(table: QualifiedName(schema: "a.b", name: "c"), rows: 3, bytes: 30)
        #expect(counters.loadedTables == [QualifiedName(schema: "a", name: "b.c"), QualifiedName(schema: "a.b", name: "c")])
        #expect(counters.rows == 6)
    }

    @Test("the schedule analyzes each of two tables whose names collide as text")
    func scheduleKeepsCollidingNamesApart() {
        func chunk(_ id: Int, _ schema: String, _ table: String) -> ArchiveEntry {
            var entry = ArchiveEntry(id: id, kind: .tableData, section: .data, schema: schema, name: table,
                                     data: .init(tableSchema: schema, tableName: table, copyStatement: "COPY x FROM stdin;", chunk: 0, chunkCount: 1, rows: 1))
            entry.uncompressedSize = UInt64(id) * RestorePlan.analyzeMinimumBytes
            return entry
        }
        let items = RestorePlan.schedule([chunk(1, "a", "b.c"), chunk(2, "a.b", "c")], allEntries: [], analyze: true)
        let analyzed = items.filter { $0.entry.kind == RestorePlan.analyzeKind }.map { QualifiedName(schema: $0.entry.schema ?? "", name: $0.entry.name) }
        #expect(Set(analyzed) == [QualifiedName(schema: "a", name: "b.c"), QualifiedName(schema: "a.b", name: "c")])
    }
}
