@testable import Cellar
import Foundation
import Testing

/// The catalog builder's pure pieces: what --exclude-unsupported leaves out,
/// how policies name roles, what COPY names.
@Suite("Catalog logic")
struct CatalogBuilderLogicTests {
    static func key(_ catalog: String, _ oid: UInt32) -> ObjectKey { ObjectKey(catalog: catalog, oid: oid) }

    static func depends(_ from: ObjectKey, on to: ObjectKey, _ type: DependencyType = .normal) -> DependencyRow {
        DependencyRow(catalog: from.catalog, oid: from.oid, refCatalog: to.catalog, refOid: to.oid, type: type)
    }

    // A base type (1) with its array type (2); a function (3) taking the array;
    // a table (4) with a column of the type, its row type (5), a view (6) whose
    // rule (7) reads the table, an index (8) on the table, a default (9) on
    // another table (10) calling the function; a table (11) unrelated to all
    // of it, but member of the same extension as the type.
    static let type = key("pg_type", 1), array = key("pg_type", 2), function = key("pg_proc", 3)
    static let table = key("pg_class", 4), rowType = key("pg_type", 5), view = key("pg_class", 6)
    static let rule = key("pg_rewrite", 7), index = key("pg_class", 8), columnDefault = key("pg_attrdef", 9)
    static let otherTable = key("pg_class", 10), unrelated = key("pg_class", 11), extensionKey = key("pg_extension", 12)
    static let dependencies = [
        depends(array, on: type, .internal),
        depends(function, on: array),
        depends(table, on: type),
        depends(rowType, on: table, .internal),
        depends(rule, on: view, .internal),
        depends(rule, on: table),
        depends(index, on: table, .auto),
        depends(columnDefault, on: function),
        depends(columnDefault, on: otherTable, .auto),
        depends(type, on: extensionKey, .extensionMember),
        depends(unrelated, on: extensionKey, .extensionMember),
    ]

    @Test("an excluded object takes everything that depends on it, through internal parts, but not what it depends on")
    func exclusionClosure() {
        let exclusions = CatalogExclusions(excluding: [Self.type], dependencies: Self.dependencies)
        for key in [Self.type, Self.array, Self.function, Self.table, Self.rowType, Self.view, Self.rule, Self.index, Self.columnDefault] {
            #expect(exclusions.contains(key), "\(key) should be left out")
        }
        #expect(exclusions.contains(Self.table.with(part: "acl")), "the pieces of a left-out object go with it")
        #expect(!exclusions.contains(Self.otherTable), "a table whose default is left out stays")
        #expect(!exclusions.contains(Self.unrelated), "belonging to the same extension is no dependency")
        #expect(!exclusions.contains(Self.extensionKey))
        #expect(exclusions.cause(of: Self.view) == Self.table)
        #expect(exclusions.cause(of: Self.function) == Self.type, "a dependency on the array type is one on its element type")
        #expect(exclusions.cause(of: Self.type) == nil)
        #expect(Set(exclusions.dependents) == [Self.function, Self.table, Self.view, Self.index, Self.columnDefault],
                "parts (array type, row type, rule) are named by their whole")
    }

    @Test("nothing is left out without unsupported objects, and a cycle of dependencies ends")
    func exclusionEdges() {
        #expect(!CatalogExclusions(excluding: [], dependencies: Self.dependencies).contains(Self.table))
        let a = Self.key("pg_proc", 1), b = Self.key("pg_proc", 2), c = Self.key("pg_type", 3)
        let cyclic = [Self.depends(a, on: b), Self.depends(b, on: a), Self.depends(c, on: c, .internal), Self.depends(b, on: c)]
        let exclusions = CatalogExclusions(excluding: [c], dependencies: cyclic)
        #expect(exclusions.contains(a) && exclusions.contains(b))
        #expect(exclusions.dependents.count == 2)
    }

    @Test("policy roles are raw names, quoted only in the statement; PUBLIC stays a keyword")
    func policyRoles() throws {
        let policy = PolicyRow(oid: 1, name: "north", qname: "north", tableOid: 2, table: "sales.orders", schema: "sales",
                               tableName: "orders", permissive: true, command: "r", roles: ["Reporting", "read only", nil],
                               qual: "(region = 'north'::text)", withCheck: nil)
        let quoting = RoleQuoting(quoted: ["Reporting": "\"Reporting\""])
        let sql = try CatalogBuilder.policyStatement(policy, roles: quoting)
        #expect(sql == "CREATE POLICY north ON sales.orders FOR SELECT TO \"Reporting\", \"read only\", PUBLIC USING ((region = 'north'::text));")
    }

    @Test("COPY names a table without stored columns alone, as pg_dump does")
    func copyTargets() throws {
        func relation(_ columns: String) throws -> RelationRow {
            let json = """
                {"oid": 1, "schema": "public", "name": "z", "qname": "public.z", "kind": "r", "persistence": "p", "owner": "o",
                 "ispartition": false, "rowsecurity": false, "forcerowsecurity": false, "ispopulated": true,
                 "estimatedBytes": 0, "replident": "d", "columns": \(columns)}
                """
            return try JSONDecoder().decode(RelationRow.self, from: Data(json.utf8))
        }
        func column(_ name: String, generated: String = "") -> String {
            """
            {"num": 1, "name": "\(name)", "qname": "\(name)", "type": "integer", "notnull": false, "generated": "\(generated)",
             "identity": "", "islocal": true, "inhcount": 0}
            """
        }
        #expect(CatalogBuilder.copyTarget(try relation("null")) == "public.z")
        #expect(CatalogBuilder.copyTarget(try relation("[]")) == "public.z")
        #expect(CatalogBuilder.copyTarget(try relation("[\(column("a")), \(column("b", generated: "s"))]")) == "public.z (a)")
    }
}
