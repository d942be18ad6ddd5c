import Cellar
import Foundation
import PostgresClient
import Testing

/// Column and storage details (issue 10): column compression, TOAST storage
/// parameters and unlogged sequences survive `restore --create -j 2` (pg_dump --schema-only of both
/// sides compared) and `zstd -dc | psql`.
@Suite("ExportColumnStorage", .serialized)
struct ExportColumnStorageTests {
    typealias Support = ExportTestSupport

    static func details(_ database: String) throws -> [String] {
        try TestServer.withConnection(database: database) { connection in
            try connection.query("""
                SELECT a.attrelid::regclass::text || '.' || a.attname || ' compression=' || a.attcompression::text AS line
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                WHERE c.relname = 'documents' AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT c.relname || ' options=' || coalesce(c.reloptions::text, '') || ' toast=' || coalesce(t.reloptions::text, '')
                FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.relname = 'documents'
                UNION ALL
                SELECT c.oid::regclass::text || ' persistence=' || c.relpersistence::text FROM pg_class c WHERE c.relkind = 'S'
                ORDER BY 1
                """).rows.map { try $0.string("line") }
        }
    }

    @Test("column compression, TOAST storage parameters and unlogged sequences round-trip")
    func roundTrip() throws {
        try TestServer.withScratchDatabase("pgc_storage") { source in
            try Support.psql(source, """
                CREATE TABLE documents (id int, body text COMPRESSION lz4, notes text COMPRESSION pglz, plain text)
                  WITH (fillfactor = 90, toast.autovacuum_enabled = false, toast.vacuum_truncate = false);
                CREATE UNLOGGED SEQUENCE scratch_numbers;
                CREATE SEQUENCE logged_numbers;
                INSERT INTO documents VALUES (1, repeat('x', 10000), 'n', 'p');
                SELECT setval('scratch_numbers', 42);
                """)
            let expected = try Self.details(source)
            #expect(expected.contains("documents.body compression=l"))
            #expect(expected.contains("scratch_numbers persistence=u"))
            #expect(expected.contains("documents options={fillfactor=90} toast={autovacuum_enabled=false,vacuum_truncate=false}"), "\(expected)")
            try ExportEdgeCaseTests.roundTrip(source) { result in
                let restored = try Self.details(result.restored)
                #expect(restored == expected)
            }
            try TestServer.withScratchDatabase("pgc_storage_psql") { copy in
                let archive = Support.temporaryPath("storage.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(source, to: archive)
                try Support.restoreWithZstdAndPsql(archive, into: copy)
                #expect(try Self.details(copy) == expected)
            }
        }
    }
}
