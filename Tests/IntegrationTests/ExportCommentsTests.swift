import Cellar
import Foundation
import PostgresClient
import Testing

/// Comments on every kind the export writes (issue 10) survive
/// `restore --create -j 2` and `zstd -dc | psql`: constraints (also a
/// partition's inherited foreign key and a constraint's index), indexes,
/// triggers, policies, columns of views and materialized views, large
/// objects, and the rest.
@Suite("ExportComments", .serialized)
struct ExportCommentsTests {
    typealias Support = ExportTestSupport

    /// Every comment in the database, by the server's description of its object.
    static func comments(_ database: String) throws -> [String] {
        try TestServer.withConnection(database: database) { connection in
            try connection.query("""
                SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description AS line
                FROM pg_description d
                WHERE d.objoid >= 16384 OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = 2200)
                   OR d.classoid = 'pg_largeobject'::regclass
                ORDER BY 1
                """).rows.map { try $0.string("line") }
        }
    }

    static let schema = """
        CREATE SCHEMA app;
        COMMENT ON SCHEMA app IS 'the application';
        COMMENT ON SCHEMA public IS 'the public schema, commented';
        CREATE TYPE app.mood AS ENUM ('sad', 'happy');
        COMMENT ON TYPE app.mood IS 'a mood';
        CREATE DOMAIN app.positive AS int CONSTRAINT positive_check CHECK (VALUE > 0);
        COMMENT ON CONSTRAINT positive_check ON DOMAIN app.positive IS 'domain check';
        CREATE TYPE app.pair AS (a int, b text);
        COMMENT ON COLUMN app.pair.b IS 'second of a pair';
        CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        COMMENT ON FUNCTION app.touch() IS 'a trigger function';
        CREATE TABLE app.accounts (id int PRIMARY KEY, name text UNIQUE, mood app.mood, amount app.positive,
                                   CONSTRAINT name_nonempty CHECK (name <> ''));
        COMMENT ON TABLE app.accounts IS 'accounts';
        COMMENT ON COLUMN app.accounts.name IS 'the account''s name';
        COMMENT ON CONSTRAINT accounts_pkey ON app.accounts IS 'primary key';
        COMMENT ON CONSTRAINT name_nonempty ON app.accounts IS 'a check';
        COMMENT ON INDEX app.accounts_name_key IS 'the unique constraint''s index';
        CREATE INDEX accounts_lower ON app.accounts (lower(name));
        COMMENT ON INDEX app.accounts_lower IS 'an expression index';
        CREATE TRIGGER accounts_touch BEFORE UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch();
        COMMENT ON TRIGGER accounts_touch ON app.accounts IS 'a trigger';
        ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own ON app.accounts USING (name = current_user);
        COMMENT ON POLICY own ON app.accounts IS 'a policy';
        CREATE SEQUENCE app.numbers;
        COMMENT ON SEQUENCE app.numbers IS 'a sequence';
        CREATE TABLE app.events (id int, account int, at date NOT NULL) PARTITION BY RANGE (at);
        ALTER TABLE app.events ADD CONSTRAINT events_account_fkey FOREIGN KEY (account) REFERENCES app.accounts (id);
        CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        COMMENT ON CONSTRAINT events_account_fkey ON app.events IS 'the parent''s foreign key';
        COMMENT ON CONSTRAINT events_account_fkey ON app.events_2026 IS 'the partition''s copy';
        INSERT INTO app.accounts VALUES (1, 'ann', 'happy', 3), (2, 'bob', 'sad', 4);
        CREATE VIEW app.names AS SELECT id, name FROM app.accounts;
        COMMENT ON VIEW app.names IS 'a view';
        COMMENT ON COLUMN app.names.name IS 'a view column';
        CREATE MATERIALIZED VIEW app.totals AS SELECT count(*) AS n FROM app.accounts;
        COMMENT ON MATERIALIZED VIEW app.totals IS 'a materialized view';
        COMMENT ON COLUMN app.totals.n IS 'a materialized view column';
        CREATE STATISTICS app.accounts_stats ON id, name FROM app.accounts;
        COMMENT ON STATISTICS app.accounts_stats IS 'extended statistics';
        DO $$ BEGIN EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', lo_from_bytea(0, '\\x0102'), 'a large object'); END $$;
        SELECT lo_create(2121);
        COMMENT ON LARGE OBJECT 2121 IS 'a large object of a low oid, as in the regression database';
        """

    @Test("comments on every exported kind round-trip through restore -j 2 and psql")
    func roundTrip() throws {
        try TestServer.withScratchDatabase("pgc_comments") { source in
            try Support.psql(source, Self.schema)
            let expected = try Self.comments(source)
            #expect(expected.count == 24, "the schema's comments: \(expected)")
            try ExportEdgeCaseTests.roundTrip(source) { result in
                let restored = try Self.comments(result.restored)
                #expect(restored == expected)
            }
            try TestServer.withScratchDatabase("pgc_comments_psql") { copy in
                let archive = Support.temporaryPath("comments.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(source, to: archive)
                try Support.restoreWithZstdAndPsql(archive, into: copy)
                #expect(try Self.comments(copy) == expected)
            }
        }
    }

    @Test("--table carries the comments of the table's objects only")
    func selection() throws {
        try TestServer.withScratchDatabase("pgc_comments_sel") { source in
            try Support.psql(source, "CREATE TABLE kept (id int PRIMARY KEY); CREATE TABLE other (id int); COMMENT ON TABLE kept IS 'kept'; COMMENT ON TABLE other IS 'other'; COMMENT ON CONSTRAINT kept_pkey ON kept IS 'kept key'; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; COMMENT ON FUNCTION f() IS 'a function';")
            try TestServer.withScratchDatabase("pgc_comments_sel_copy") { copy in
                let archive = Support.temporaryPath("comments-sel.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(source, to: archive, ["--table", "kept"])
                try Support.restoreWithZstdAndPsql(archive, into: copy)
                // The new database's own public schema keeps its built-in comment.
                let restored = try Self.comments(copy).filter { !$0.hasPrefix("schema public = ") }
                #expect(restored == ["constraint kept_pkey on table kept = kept key", "table kept = kept"])
            }
        }
    }
}
