@testable import Cellar
import Foundation
import Testing

@Suite("Restore plan")
struct RestorePlanTests {
    static let header = ArchiveHeader(
        producer: "pgcellar test", snapshotTakenAt: "2026-01-01T00:00:00Z",
        server: .init(version: "15.18", versionNumber: 150018),
        database: .init(name: "shop", owner: "shop_admin", encoding: "UTF8", collate: "en_US.UTF-8", ctype: "en_US.UTF-8",
                        localeProvider: "c", connectionLimit: 20, comment: "the shop",
                        privileges: [.init(grantor: "shop_admin", grantee: "shop_admin", privilege: "CONNECT", grantable: false),
                                     .init(grantor: "shop_admin", grantee: "app", privilege: "CONNECT", grantable: false)],
                        settingValues: [.init(name: "work_mem", value: "8MB"), .init(role: "app", name: "search_path", value: "x")],
                        // The first header layout's statements: a restore ignores them.
                        settings: ["ALTER DATABASE shop SET work_mem = '8MB'; DROP TABLE x;"],
                        grants: ["GRANT ALL ON DATABASE shop TO PUBLIC;"]),
        roles: [.init(name: "shop_admin", referencedAs: ["owner"]), .init(name: "app", referencedAs: ["grantee"]),
                .init(name: "both", referencedAs: ["grantee", "owner"])])

    static func entry(_ id: Int, _ kind: ArchiveEntry.Kind, _ section: ArchiveEntry.Section, name: String, schema: String? = "public",
                      dependencies: [Int] = [], table: String? = nil, chunk: Int = 0, chunks: Int = 1, size: UInt64 = 100) -> ArchiveEntry {
        var entry = ArchiveEntry(
            id: id, kind: kind, section: section, schema: schema, name: name, dependencies: dependencies,
            data: table.map { .init(tableSchema: "public", tableName: $0, copyStatement: "COPY public.\($0) (id) FROM stdin;",
                                    chunk: chunk, chunkCount: chunks, rows: 10) })
        entry.uncompressedSize = size
        return entry
    }

    static let entries: [ArchiveEntry] = [
        entry(1, .settings, .preData, name: "session settings", schema: nil),
        entry(2, .table, .preData, name: "orders"),
        entry(3, .owner, .preData, name: "TABLE orders", dependencies: [2]),
        entry(4, .table, .preData, name: "parts"),
        entry(5, .tableData, .data, name: "orders", dependencies: [2], table: "orders", chunk: 0, chunks: 2, size: 500),
        entry(6, .tableData, .data, name: "orders", dependencies: [2], table: "orders", chunk: 1, chunks: 2, size: 400),
        entry(7, .tableData, .data, name: "parts", dependencies: [4], table: "parts", size: 50),
        entry(8, .sequenceSet, .data, name: "orders_id_seq"),
        entry(9, .constraint, .postData, name: "orders orders_pkey", dependencies: [2]),
        entry(10, .index, .postData, name: "parts_name_idx", dependencies: [4]),
        entry(11, .foreignKeyConstraint, .postData, name: "parts parts_order_fkey", dependencies: [4, 9]),
        entry(12, .comment, .postData, name: "CONSTRAINT parts_order_fkey", dependencies: [11]),
        entry(13, .trigger, .postData, name: "orders audit", dependencies: [2]),
        entry(14, .acl, .postData, name: "TABLE orders", dependencies: [2, 3]),
        entry(15, .materializedViewData, .postData, name: "totals"),
        entry(16, .materializedViewData, .postData, name: "totals2"),
    ]

    func plan(_ configure: (inout RestoreOptions) -> Void = { _ in }) -> RestorePlan {
        var options = RestoreOptions(dsn: "dbname=shop_copy")
        configure(&options)
        return RestorePlan(header: Self.header, options: options)
    }

    @Test func selectionFollowsTheFlags() {
        let kinds = { (plan: RestorePlan) in Self.entries.filter(plan.includes).map(\.id) }
        #expect(kinds(plan()) == Array(1...16))
        #expect(kinds(plan { $0.noOwner = true }).contains(3) == false)
        #expect(kinds(plan { $0.owner = "x" }).contains(3) == false)
        #expect(kinds(plan { $0.noPrivileges = true }).contains(14) == false)
        #expect(kinds(plan { $0.schemaOnly = true }) == [1, 2, 3, 4, 9, 10, 11, 12, 13, 14])
        #expect(kinds(plan { $0.dataOnly = true }) == [1, 5, 6, 7, 8, 15, 16])
    }

    @Test func requiredRolesDependOnOwnershipAndPrivilegeFlags() {
        #expect(plan().requiredRoles == ["app", "both", "shop_admin"])
        #expect(plan { $0.noOwner = true }.requiredRoles == ["app", "both"])
        #expect(plan { $0.owner = "staging_admin" }.requiredRoles == ["app", "both", "staging_admin"])
        #expect(plan { $0.noOwner = true; $0.noPrivileges = true }.requiredRoles == [])
        // "app" has a setting in the database, applied with --create even under --no-privileges.
        #expect(plan { $0.create = true; $0.noPrivileges = true }.requiredRoles == ["app", "both", "shop_admin"])
        #expect(plan { $0.dataOnly = true }.requiredRoles == [])
    }

    @Test func scheduleStartsIndexesWithTheirTableAndKeepsForeignKeysAndRefreshesLast() {
        let later = Self.entries.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) }
        let items = RestorePlan.schedule(later, allEntries: Self.entries)
        func item(_ id: Int) -> RestorePlan.Item { items.first { $0.entry.id == id }! }
        func index(_ id: Int) -> Int { items.firstIndex { $0.entry.id == id }! }
        #expect(item(5).stage == .load && item(5).dependencies.isEmpty)
        #expect(item(9).stage == .load)
        #expect(item(9).dependencies == [index(5), index(6)])
        #expect(item(10).dependencies == [index(7)])
        #expect(item(8).stage == .afterData)
        #expect(item(13).stage == .afterData)
        #expect(item(11).stage == .foreignKeys)
        #expect(item(12).stage == .foreignKeys, "a comment on a foreign key waits for it")
        #expect(item(15).stage == .refresh && item(16).dependencies == [index(15)])
        #expect(item(14).stage == .privileges && RestorePlan.Stage.foreignKeys < .privileges && RestorePlan.Stage.privileges < .refresh,
                "privileges once everything else is done, before the refreshes")
    }

    @Test("privileges run one entry at a time, in archive order, after every trigger and constraint of their tables")
    func privilegesRunOneAtATime() {
        let entries = Self.entries + [
            Self.entry(17, .acl, .postData, name: "TABLE parts", dependencies: [4]),
            Self.entry(18, .defaultACL, .postData, name: "DEFAULT PRIVILEGES FOR TABLES"),
        ]
        let later = entries.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) }
        let items = RestorePlan.schedule(later, allEntries: entries)
        func index(_ id: Int) -> Int { items.firstIndex { $0.entry.id == id }! }
        #expect(items[index(17)].dependencies.contains(index(14)))
        #expect(items[index(18)].dependencies == [index(17)])
        // Each waits for the one before: no two are ever out at once.
        #expect(items.filter { $0.stage == .privileges }.map(\.entry.id) == [14, 17, 18])
        let scheduler = RestoreScheduler(items)
        var order: [Int] = []
        while let next = scheduler.next() {
            order.append(items[next].entry.id)
            scheduler.complete(next)
        }
        #expect(order.count == items.count)
        let firstPrivilege = order.firstIndex(of: 14)!
        #expect(order[firstPrivilege...].prefix(3) == [14, 17, 18])
        #expect(order.firstIndex(of: 13)! < firstPrivilege && order.firstIndex(of: 11)! < firstPrivilege)
    }

    @Test func schedulerRunsEveryItemOnceInDependencyOrder() {
        let later = Self.entries.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) }
        let items = RestorePlan.schedule(later, allEntries: Self.entries)
        let scheduler = RestoreScheduler(items)
        var order: [Int] = []
        while let next = scheduler.next() {
            order.append(next)
            scheduler.complete(next)
        }
        #expect(order.sorted() == Array(items.indices))
        for (position, index) in order.enumerated() {
            for dependency in items[index].dependencies {
                #expect(order.firstIndex(of: dependency)! < position)
            }
            let earlier = order[..<position].map { items[$0].stage }
            #expect(earlier.allSatisfy { $0 <= items[index].stage || items[index].stage == .load })
        }
        #expect(items[order[0]].entry.id == 5, "the largest table's first chunk goes first")
    }

    @Test func analyzeFollowsEachLargeTablesChunksAndComesLastAmongReadyItems() {
        // Sizes in KiB: orders has 900, parts 50, below the ANALYZE threshold.
        let later = Self.entries.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) }.map { entry in
            var entry = entry
            entry.uncompressedSize *= 1024
            return entry
        }
        let items = RestorePlan.schedule(later, allEntries: Self.entries, analyze: true)
        let analyze = items.filter { $0.entry.kind == RestorePlan.analyzeKind }
        #expect(analyze.map(\.entry.name) == ["orders"])
        #expect(analyze.allSatisfy { $0.stage == .load && $0.rank == .max })
        let chunks = items.indices.filter { items[$0].entry.data?.tableName == "orders" }
        #expect(analyze[0].dependencies == chunks)
    }

    @Test func tablesWithinAFairShareLoadWholeOnOneConnection() {
        let later = Self.entries.filter { [.data, .postData].contains(RestorePlan.phase(of: $0)) }
        func whole(_ jobs: Int) -> [RestorePlan.Item] {
            RestorePlan.schedule(later, allEntries: Self.entries, wholeTablesFor: jobs)
        }
        // orders is 900 of 950 bytes: more than half, so two connections share it.
        #expect(whole(2).allSatisfy { $0.wholeTable.isEmpty && !$0.merged })
        let one = whole(1)
        let first = one.first { $0.entry.id == 5 }!
        #expect(first.wholeTable.map(\.id) == [5, 6] && first.entry.uncompressedSize == 900)
        #expect(one.first { $0.entry.id == 6 }!.merged)
        #expect(one.first { $0.entry.id == 7 }!.wholeTable.isEmpty, "a single chunk already loads with FREEZE on its own")
    }

    @Test func nameFilterSelectsTablesWithTheirParts() {
        var options = RestoreOptions(dsn: "")
        options.tables = ["ord*"]
        let filter = RestoreNameFilter(options)
        let selected = Self.entries.filter(filter.includes).map(\.id)
        #expect(selected == [1, 2, 3, 5, 6, 9, 13, 14])
        options.tables = []
        options.schemas = ["other"]
        #expect(Self.entries.filter(RestoreNameFilter(options).includes).map(\.id) == [1])
    }

    @Test func freezeOnlyForLargeWholeTablesInFreshDatabases() {
        var large = Self.entries[6]
        large.uncompressedSize = RestorePlan.freezeMinimumBytes
        #expect(RestorePlan.freezable(large, options: RestoreOptions(dsn: "")))
        // A small table is not worth the TRUNCATE that FREEZE needs.
        #expect(!RestorePlan.freezable(Self.entries[6], options: RestoreOptions(dsn: "")))
        #expect(!RestorePlan.freezable(Self.entries[4], options: RestoreOptions(dsn: "")))
        var dataOnly = RestoreOptions(dsn: "")
        dataOnly.dataOnly = true
        #expect(!RestorePlan.freezable(large, options: dataOnly))
    }

    @Test func createDatabaseUsesTheHeaderAndOverrides() throws {
        #expect(try plan { $0.create = true }.createDatabaseStatement(name: "shop_copy") == """
            CREATE DATABASE "shop_copy" WITH TEMPLATE = template0 ENCODING = 'UTF8' LC_COLLATE = 'en_US.UTF-8' LC_CTYPE = 'en_US.UTF-8' OWNER = "shop_admin" CONNECTION LIMIT = 20
            """)
        #expect(try plan { $0.create = true; $0.owner = "x"; $0.locale = "C" }.createDatabaseStatement(name: "s") == """
            CREATE DATABASE "s" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C' OWNER = "x" CONNECTION LIMIT = 20
            """)
    }

    @Test func databaseStepsNameTheNewDatabaseAndComeFromTypedValues() throws {
        #expect(try plan { $0.create = true }.databaseSteps(name: "shop copy") == [
            .statement("ALTER DATABASE \"shop copy\" SET \"work_mem\" TO '8MB'", object: "DATABASE shop copy setting work_mem"),
            .listSetting(.init(role: "app", name: "search_path", value: "x"), database: "shop copy",
                         statement: "ALTER ROLE \"app\" IN DATABASE \"shop copy\" SET \"search_path\" TO 'x'"),
            .statement("REVOKE ALL ON DATABASE \"shop copy\" FROM PUBLIC", object: "DATABASE shop copy privileges"),
            .statement("REVOKE ALL ON DATABASE \"shop copy\" FROM \"shop_admin\"", object: "DATABASE shop copy privileges"),
            .statement("GRANT CONNECT ON DATABASE \"shop copy\" TO \"shop_admin\"", object: "DATABASE shop copy privileges"),
            .statement("GRANT CONNECT ON DATABASE \"shop copy\" TO \"app\"", object: "DATABASE shop copy privileges"),
            .statement("COMMENT ON DATABASE \"shop copy\" IS 'the shop'", object: "DATABASE shop copy comment"),
        ])
        // --no-privileges leaves the ACL alone; --no-owner gives the owner's part to whoever restores.
        #expect(try plan { $0.create = true; $0.noPrivileges = true }.databaseSteps(name: "c").count == 3)
        let noOwner = try plan { $0.create = true; $0.noOwner = true }.databaseSteps(name: "c")
        #expect(noOwner.contains(.statement("GRANT CONNECT ON DATABASE \"c\" TO CURRENT_USER", object: "DATABASE c privileges")))
        #expect(noOwner.contains(.statement("REVOKE ALL ON DATABASE \"c\" FROM CURRENT_USER", object: "DATABASE c privileges")))
    }

    @Test func createNeedsTheDatabaseGranteesAndTheRolesWithSettings() {
        #expect(plan { $0.create = true }.requiredRoles == ["app", "both", "shop_admin"])
        #expect(plan { $0.create = true }.roleNeeds["app"] == [.objectPrivileges, .databasePrivileges, .databaseSettings])
        // Settings are applied whatever the flags: their roles stay required.
        #expect(plan { $0.create = true; $0.noPrivileges = true; $0.noOwner = true }.roleNeeds == ["app": [.databaseSettings]])
        // Without --create nothing of the database's own is applied.
        #expect(plan { $0.noPrivileges = true; $0.noOwner = true }.requiredRoles == [])
    }

    @Test func validationRejectsImpossibleCombinations() {
        #expect(plan { $0.singleTransaction = true; $0.jobs = 2 }.options.problems.count == 1)
        #expect(plan { $0.singleTransaction = true; $0.create = true }.options.problems.count == 1)
        #expect(plan { $0.schemaOnly = true; $0.dataOnly = true }.options.problems.count == 1)
        #expect(plan { $0.jobs = 8; $0.create = true }.options.problems.isEmpty)
    }
}
