import Cellar
import Foundation
import PostgresClient
import Testing

/// Large objects (issue 10): their metadata (owner, ACL, comment) and their
/// bytes survive `restore --create -j 2` and `zstd -dc | psql`, with the same
/// SHA-256 on both sides; --schema-only leaves them out, --data-only keeps
/// them, --table leaves them out (as pg_dump 15).
@Suite("ExportLargeObjects", .serialized)
struct ExportLargeObjectsTests {
    typealias Support = ExportTestSupport

    /// Every large object: oid, owner, ACL, comment, size and SHA-256 of its bytes.
    static func largeObjects(_ database: String) throws -> [String] {
        try TestServer.withConnection(database: database) { connection in
            try connection.query("""
                SELECT l.oid::text || ' ' || pg_get_userbyid(l.lomowner) || ' ' || coalesce(l.lomacl::text, '-') || ' '
                       || coalesce(obj_description(l.oid, 'pg_largeobject'), '-') || ' '
                       || length(lo_get(l.oid)) || ' ' || encode(sha256(lo_get(l.oid)), 'hex') AS line
                FROM pg_largeobject_metadata l ORDER BY l.oid
                """).rows.map { try $0.string("line") }
        }
    }

    /// 300 small objects, an empty one, and one of `largeMiB` MiB of
    /// non-repeating bytes; a table refers to them.
    static func createSource(_ database: String, role: String, largeMiB: Int) throws {
        try Support.psql(database, """
            CREATE TABLE documents (id int PRIMARY KEY, body oid);
            INSERT INTO documents SELECT i, lo_from_bytea(0, convert_to(repeat(md5(i::text), i % 40), 'UTF8'))
              FROM generate_series(1, 300) i;
            INSERT INTO documents VALUES (301, lo_create(0));
            INSERT INTO documents SELECT 302, lo_from_bytea(0, string_agg(sha256(int4send(i)), ''::bytea ORDER BY i))
              FROM generate_series(1, \(largeMiB) * 32768) i;
            DO $$ BEGIN
              EXECUTE format('ALTER LARGE OBJECT %s OWNER TO \(role)', (SELECT body FROM documents WHERE id = 7));
              EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO \(role)', (SELECT body FROM documents WHERE id = 8));
              EXECUTE format('GRANT SELECT, UPDATE ON LARGE OBJECT %s TO PUBLIC', (SELECT body FROM documents WHERE id = 302));
              EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', (SELECT body FROM documents WHERE id = 9), 'the ninth''s body');
            END $$;
            """)
    }

    static func withRole<T>(_ body: (String) throws -> T) throws -> T {
        let role = TestServer.uniqueName("pgc_lo_role")
        try TestServer.withConnection { try $0.execute("CREATE ROLE \(role)") }
        defer { _ = try? TestServer.withConnection { try $0.execute("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)") } }
        return try body(role)
    }

    @Test("many small objects and a 64 MiB one round-trip with owner, ACL and comment, through restore -j 2 and psql")
    func roundTrip() throws {
        try Self.withRole { role in
            try TestServer.withScratchDatabase("pgc_lo_src") { source in
                try Self.createSource(source, role: role, largeMiB: 64)
                let expected = try Self.largeObjects(source)
                #expect(expected.count == 302)

                let archive = Support.temporaryPath("lo.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                let exported = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive, "-j", "2"])
                try #require(exported.status == 0, "export failed: \(exported.stderr)")
                let verified = try Pgcellar.run(["verify", archive])
                #expect(verified.status == 0, "verify failed: \(verified.stderr)")

                // The recorded digest of the large one is the source's.
                let large = try TestServer.withConnection(database: source) { connection in
                    try connection.query("SELECT body::text AS oid, encode(sha256(lo_get(body)), 'hex') AS sum FROM documents WHERE id = 302").first!
                }
                let recorded = try Support.shell("zstd -dc '\(archive)' | grep -a '^-- large object \(try large.string("oid")):'")
                #expect(recorded.contains("67108864 bytes, SHA-256 \(try large.string("sum"))"), "recorded: \(recorded)")

                let target = TestServer.uniqueName("pgc_lo_restored")
                defer { dropDatabase(target) }
                let restored = try Pgcellar.run(["restore", archive, "--create", "-j", "2",
                                                 "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
                try #require(restored.status == 0, "restore failed: \(restored.stderr)")
                #expect(try Self.largeObjects(target) == expected)
                #expect(try DatabaseFingerprint.of(target).tables == DatabaseFingerprint.of(source).tables)

                try TestServer.withScratchDatabase("pgc_lo_psql") { viaPsql in
                    try Support.restoreWithZstdAndPsql(archive, into: viaPsql)
                    #expect(try Self.largeObjects(viaPsql) == expected)
                }

                // From standard input: the objects' bytes load as they stream.
                // Held for the post-data phase, the 64 MiB object's hex SQL
                // alone took the restore past 200 MiB.
                let streamed = TestServer.uniqueName("pgc_lo_stdin")
                defer { dropDatabase(streamed) }
                let fromStdin = try HugeRowTests.run(["restore", "-", "--create", "-j", "2",
                                                      "--dbname", TestServer.conninfo(user: RestoreSources.user, database: streamed)],
                                                     stdinFile: archive)
                try #require(fromStdin.output.status == 0, "restore - failed: \(fromStdin.output.stderr)")
                #expect(try Self.largeObjects(streamed) == expected)
                #expect(fromStdin.peakMiB < 120, "restore - of 64 MiB of large objects peaked at \(fromStdin.peakMiB) MiB")
            }
        }
    }

    @Test("--schema-only and --table leave large objects out; --data-only carries them")
    func selection() throws {
        try Self.withRole { role in
            try TestServer.withScratchDatabase("pgc_lo_sel") { source in
                try Self.createSource(source, role: role, largeMiB: 1)
                let expected = try Self.largeObjects(source)
                let schemaArchive = Support.temporaryPath("lo-schema.sql.zst")
                let dataArchive = Support.temporaryPath("lo-data.sql.zst")
                let tableArchive = Support.temporaryPath("lo-table.sql.zst")
                defer { for path in [schemaArchive, dataArchive, tableArchive] { try? FileManager.default.removeItem(atPath: path) } }
                try Support.export(source, to: schemaArchive, ["--schema-only"])
                try Support.export(source, to: dataArchive, ["--data-only"])
                try Support.export(source, to: tableArchive, ["--table", "documents"])

                try TestServer.withScratchDatabase("pgc_lo_sel_copy") { copy in
                    try Support.restoreWithZstdAndPsql(schemaArchive, into: copy)
                    #expect(try Self.largeObjects(copy).isEmpty, "--schema-only must leave large objects out")
                    try Support.restoreWithZstdAndPsql(dataArchive, into: copy)
                    #expect(try Self.largeObjects(copy) == expected, "--data-only must carry large objects")
                }
                try TestServer.withScratchDatabase("pgc_lo_sel_table") { copy in
                    try Support.restoreWithZstdAndPsql(tableArchive, into: copy)
                    #expect(try Self.largeObjects(copy).isEmpty, "--table must leave large objects out")
                    #expect(try ExportEdgeCaseTests.count(copy, "SELECT count(*) AS n FROM documents") == 302)
                }
                // And pgcellar restore --data-only into a schema-only copy.
                try TestServer.withScratchDatabase("pgc_lo_sel_restore") { copy in
                    try Support.restoreWithZstdAndPsql(schemaArchive, into: copy)
                    let restored = try Pgcellar.run(["restore", dataArchive, "--data-only", "-j", "2",
                                                     "--dbname", TestServer.conninfo(user: RestoreSources.user, database: copy)])
                    try #require(restored.status == 0, "restore --data-only failed: \(restored.stderr)")
                    #expect(try Self.largeObjects(copy) == expected)
                }
            }
        }
    }
}
