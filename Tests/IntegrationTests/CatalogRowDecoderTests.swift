@testable import Cellar
import Foundation
import PostgresClient
import Testing

/// Catalog rows decoded column by column (`CatalogRowDecoder`) against the
/// same rows decoded from JSON, as every catalog query once was.
@Suite("Catalog rows column by column")
struct CatalogRowDecoderTests {
    struct Sample: Decodable {
        var oid: UInt32
        var name: String
        var flag: Bool
        var maybe: String?
        var absent: Int?
        var list: [String]?
        var kind: ArchiveEntry.Kind
        var size: Int64
    }

    static func decode<T: Decodable>(_ sql: String, as type: T.Type, database: String? = nil) throws -> [T] {
        try TestServer.withConnection(database: database) { connection in
            try connection.transaction("BEGIN READ ONLY") { try decodeRows(connection, sql, as: T.self) }
        }
    }

    @Test("text values, NULL, a JSON list and a string enum; a column the type lacks is nil")
    func values() throws {
        let rows = try Self.decode("""
            SELECT 4294967295::int8 AS oid, 'a "name"' AS name, true AS flag, NULL::text AS maybe,
                   pg_catalog.to_json(ARRAY['x', 'y,z']) AS list, 'TABLE' AS kind, 9007199254740993::int8 AS size
            UNION ALL
            SELECT 1, '', false, 'm', NULL, 'INDEX', -1
            """, as: Sample.self)
        try #require(rows.count == 2)
        #expect(rows[0].oid == UInt32.max && rows[0].name == "a \"name\"" && rows[0].flag && rows[0].maybe == nil)
        #expect(rows[0].absent == nil && rows[0].list == ["x", "y,z"] && rows[0].kind == .table && rows[0].size == 9007199254740993)
        #expect(rows[1].oid == 1 && rows[1].name == "" && !rows[1].flag && rows[1].maybe == "m" && rows[1].list == nil)
        #expect(rows[1].kind == .index && rows[1].size == -1)
    }

    @Test("a value of the wrong type, a NULL where one is required, a missing column: each error names the column")
    func errors() throws {
        let cases = [
            ("SELECT 1 AS oid, 'n' AS name, 'yes' AS flag, 'TABLE' AS kind, 0 AS size", "flag"),
            ("SELECT -1 AS oid, 'n' AS name, true AS flag, 'TABLE' AS kind, 0 AS size", "oid"),
            ("SELECT 1 AS oid, NULL::text AS name, true AS flag, 'TABLE' AS kind, 0 AS size", "name"),
            ("SELECT 1 AS oid, 'n' AS name, true AS flag, 'TABLE' AS kind", "size"),
            ("SELECT 1 AS oid, 'n' AS name, true AS flag, '[1' AS list, 'TABLE' AS kind, 0 AS size", "list"),
        ]
        for (sql, column) in cases {
            #expect {
                _ = try Self.decode(sql, as: Sample.self)
            } throws: { error in
                "\(error)".contains("column \(column)")
            }
        }
    }

    @Test("relations and their columns read by two plain queries equal the JSON rows of one query")
    func relationsAsBefore() throws {
        let database = TestServer.uniqueName("rowdecoder")
        _ = try TestServer.withConnection { try $0.execute("CREATE DATABASE \(database)") }
        defer { dropDatabase(database) }
        try ExportTestSupport.psql(database, """
            CREATE COLLATION "C2" (locale = 'C');
            CREATE TABLE "Odd, name" (
                id int GENERATED ALWAYS AS IDENTITY (START 5),
                label text COLLATE "C2" NOT NULL DEFAULT 'x''y',
                doubled int GENERATED ALWAYS AS (id * 2) STORED,
                note text COMPRESSION pglz,
                dropped int,
                wide text
            ) WITH (fillfactor = 70, toast.autovacuum_enabled = false);
            ALTER TABLE "Odd, name" DROP COLUMN dropped;
            ALTER TABLE "Odd, name" ALTER COLUMN wide SET STORAGE EXTERNAL, ALTER COLUMN wide SET STATISTICS 50,
                ALTER COLUMN wide SET (n_distinct = 5);
            GRANT SELECT (label), UPDATE (note) ON "Odd, name" TO PUBLIC;
            CREATE TABLE nothing ();
            CREATE TABLE parent (a int, b text) PARTITION BY LIST (a);
            CREATE TABLE child PARTITION OF parent FOR VALUES IN (1);
            CREATE TABLE heir (c int) INHERITS (parent_plain);
            """.replacingOccurrences(of: "CREATE TABLE heir", with: "CREATE TABLE parent_plain (p int); CREATE TABLE heir"))
        try ExportTestSupport.psql(database, "CREATE VIEW v AS SELECT id, label FROM \"Odd, name\"; CREATE MATERIALIZED VIEW m AS SELECT 1 AS one")

        let plain: [RelationRow] = try TestServer.withConnection(database: database) { connection in
            try connection.transaction("BEGIN READ ONLY") { try CatalogBuilder.readRelations(connection) }
        }
        let withColumns = CatalogQueries.relations.replacingOccurrences(
            of: "FROM pg_catalog.pg_class c\n",
            with: ", \(CatalogQueries.columns(of: "c.oid")) AS columns FROM pg_catalog.pg_class c\n")
        #expect(withColumns != CatalogQueries.relations)
        var json = try Self.decode(CatalogQueries.jsonRows(withColumns), as: RelationRow.self, database: database)
        for index in json.indices { json[index].compact() }
        #expect(plain.count == 8)
        #expect(plain.map(\.name).sorted() == ["Odd, name", "child", "heir", "m", "nothing", "parent", "parent_plain", "v"])
        #expect(String(reflecting: plain) == String(reflecting: json))
        let odd = try #require(plain.first { $0.name == "Odd, name" })
        #expect(odd.columns?.map(\.name) == ["id", "label", "doubled", "note", "wide"])
        // This server assigns every column a `pg_attver` option of its own (SchemaProof).
        #expect(odd.columns?.last?.options?.filter { !$0.hasPrefix("pg_") } == ["n_distinct=5"])
        #expect(odd.toastoptions == ["autovacuum_enabled=false"] && odd.reloptions == ["fillfactor=70"])
        #expect(plain.first { $0.name == "nothing" }?.columns == nil)
    }
}
