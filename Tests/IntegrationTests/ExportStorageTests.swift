import Foundation
import Testing

@Suite("Export: column and storage details", .serialized)
struct ExportStorageTests {
    static let schema = """
        CREATE TABLE docs (
            id int PRIMARY KEY,
            body text COMPRESSION pglz,
            extra text COMPRESSION lz4,
            plain text
        ) WITH (fillfactor = 80, toast.autovacuum_enabled = false, toast.vacuum_truncate = false);
        INSERT INTO docs SELECT g, repeat('x', 3000), 'e' || g, 'p' FROM generate_series(1, 20) g;
        CREATE UNLOGGED SEQUENCE scratch_seq START 7;
        SELECT nextval('scratch_seq');
        CREATE MATERIALIZED VIEW doc_sizes AS SELECT id, length(body) AS size FROM docs;
        ALTER MATERIALIZED VIEW doc_sizes ALTER COLUMN size SET STATISTICS 200;
        ALTER MATERIALIZED VIEW doc_sizes ALTER COLUMN id SET (n_distinct = 5);
        ALTER MATERIALIZED VIEW doc_sizes SET (toast.autovacuum_enabled = false);
        CREATE INDEX docs_lower ON docs (id, lower(plain), upper(extra));
        ALTER INDEX docs_lower ALTER COLUMN 2 SET STATISTICS 300;
        ALTER INDEX docs_lower ALTER COLUMN 3 SET STATISTICS 0;
        CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO events VALUES ('2025-05-05', 'a'), ('2026-06-06', 'b');
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$;
        CREATE TRIGGER touched BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TABLE events_2025 DISABLE TRIGGER touched;
        CREATE TRIGGER audited AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION touch();
        ALTER TABLE events DISABLE TRIGGER audited;
        ALTER TABLE events_2026 ENABLE ALWAYS TRIGGER audited;
        """

    @Test("compression, TOAST parameters, unlogged sequences, matview and index column statistics and partition trigger states round-trip")
    func storageDetails() throws {
        try TestServer.withScratchDatabase("pgc_storage") { source in
            try ExportTestSupport.psql(source, Self.schema)
            let result = try KindsRoundTrip.check(source)
            #expect(!result.exportStderr.contains("TOAST"), "\(result.exportStderr)")
            #expect(result.script.contains("CREATE UNLOGGED SEQUENCE public.scratch_seq"))
            #expect(result.script.contains("SET COMPRESSION lz4"))
            #expect(result.script.contains("ALTER TABLE public.events_2025 DISABLE TRIGGER touched;"))
        }
    }
}
