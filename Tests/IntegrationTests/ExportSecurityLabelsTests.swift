import Cellar
import Foundation
import PostgresClient
import Testing

/// Security labels (issue 10), with PostgreSQL's dummy_seclabel test module
/// as the provider (scripts/build-dummy-seclabel.sh builds it; the test
/// cluster preloads it, so the restore's sessions have it too).
@Suite("ExportSecurityLabels", .serialized)
struct ExportSecurityLabelsTests {
    typealias Support = ExportTestSupport

    /// Every label in the database, by the server's description of its object.
    static func labels(_ database: String) throws -> [String] {
        try TestServer.withConnection(database: database) { connection in
            try connection.query("""
                SELECT pg_describe_object(l.classoid, l.objoid, l.objsubid) || ' ' || l.provider || '=' || l.label AS line
                FROM pg_seclabel l ORDER BY 1
                """).rows.map { try $0.string("line") }
        }
    }

    static func requireProvider() throws {
        let loaded = try TestServer.withConnection { connection in
            try connection.query("SELECT 'dummy_seclabel' = ANY (string_to_array(current_setting('shared_preload_libraries'), ',')) AS ok").first?.bool("ok")
        }
        try #require(loaded == true, """
            the test server does not preload dummy_seclabel: run scripts/build-dummy-seclabel.sh as root, \
            then restart the cluster with scripts/dev-postgres.sh (scripts/test.sh does both)
            """)
    }

    static let schema = """
        CREATE SCHEMA app;
        SECURITY LABEL FOR dummy ON SCHEMA app IS 'classified';
        CREATE TYPE app.mood AS ENUM ('sad', 'happy');
        SECURITY LABEL FOR dummy ON TYPE app.mood IS 'unclassified';
        CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);
        SECURITY LABEL FOR dummy ON DOMAIN app.positive IS 'classified';
        CREATE FUNCTION app.f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
        SECURITY LABEL FOR dummy ON FUNCTION app.f(int) IS 'secret';
        CREATE AGGREGATE app.total(int) (sfunc = int4pl, stype = int, initcond = '0');
        SECURITY LABEL FOR dummy ON AGGREGATE app.total(int) IS 'classified';
        CREATE TABLE app.accounts (id int PRIMARY KEY, name text);
        SECURITY LABEL FOR dummy ON TABLE app.accounts IS 'top secret';
        SECURITY LABEL FOR dummy ON COLUMN app.accounts.name IS 'secret';
        INSERT INTO app.accounts VALUES (1, 'ann');
        CREATE SEQUENCE app.numbers;
        SECURITY LABEL FOR dummy ON SEQUENCE app.numbers IS 'unclassified';
        CREATE VIEW app.names AS SELECT name FROM app.accounts;
        SECURITY LABEL FOR dummy ON VIEW app.names IS 'classified';
        SECURITY LABEL FOR dummy ON COLUMN app.names.name IS 'classified';
        CREATE MATERIALIZED VIEW app.counted AS SELECT count(*) AS n FROM app.accounts;
        SECURITY LABEL FOR dummy ON MATERIALIZED VIEW app.counted IS 'classified';
        DO $$ BEGIN EXECUTE format('SECURITY LABEL FOR dummy ON LARGE OBJECT %s IS %L', lo_from_bytea(0, '\\x0102'), 'secret'); END $$;
        """

    @Test("labels on schemas, types, domains, functions, aggregates, tables, columns, sequences, views and large objects round-trip")
    func roundTrip() throws {
        try Self.requireProvider()
        try TestServer.withScratchDatabase("pgc_labels") { source in
            try Support.psql(source, Self.schema)
            let expected = try Self.labels(source)
            #expect(expected.count == 12, "the schema's labels: \(expected)")
            try ExportEdgeCaseTests.roundTrip(source) { result in
                let restored = try Self.labels(result.restored)
                #expect(restored == expected)
            }
            try TestServer.withScratchDatabase("pgc_labels_psql") { copy in
                let archive = Support.temporaryPath("labels.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(source, to: archive)
                let script = try Support.shell("zstd -dc '\(archive)'")
                #expect(script.contains("SECURITY LABEL FOR dummy ON COLUMN app.accounts.name IS 'secret';"))
                try Support.restoreWithZstdAndPsql(archive, into: copy)
                #expect(try Self.labels(copy) == expected)
            }
        }
    }
}
