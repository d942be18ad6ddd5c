import Cellar
import Foundation
import PostgresClient
import Testing

/// Operators, operator families and classes, casts, transforms, procedural
/// languages, access methods, typed tables and ordered-set aggregates
/// (issue 10): each schema round-trips through `restore --create -j 2` and
/// through `zstd -dc | psql`, with the same `pg_dump --schema-only` and rows,
/// and the restored objects work.
@Suite("ExportOperators", .serialized)
struct ExportOperatorsTests {
    typealias Support = ExportTestSupport

    /// Both restore paths, then `check` on the database `restore` made.
    static func roundTrips(_ database: String, sourceLocation: SourceLocation = #_sourceLocation,
                           check: (String) throws -> Void) throws {
        try ExportEdgeCaseTests.roundTrip(database, sourceLocation: sourceLocation) { try check($0.restored) }
        try Support.assertRoundTrip(database, sourceLocation: sourceLocation)
    }

    static func value(_ database: String, _ sql: String) throws -> String {
        try TestServer.withConnection(database: database) { try $0.query(sql).first?.string("v") ?? "" }
    }

    @Test("operators (commutator and negator pointing at each other, prefix), a family with loose members, classes and an index on one")
    func operatorsFamiliesClasses() throws {
        try TestServer.withScratchDatabase("kinds_ops") { database in
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE FUNCTION k.int_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
                CREATE FUNCTION k.int_ne(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 <> $2';
                CREATE FUNCTION k.int_lt(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2';
                CREATE FUNCTION k.neg(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT -$1';
                CREATE FUNCTION k.int_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE
                    AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
                CREATE OPERATOR k.=== (FUNCTION = k.int_eq, LEFTARG = int, RIGHTARG = int, COMMUTATOR = OPERATOR(k.===),
                    NEGATOR = OPERATOR(k.!==), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
                CREATE OPERATOR k.!== (FUNCTION = k.int_ne, LEFTARG = int, RIGHTARG = int, NEGATOR = OPERATOR(k.===));
                CREATE OPERATOR k.<<< (FUNCTION = k.int_lt, LEFTARG = int, RIGHTARG = int);
                CREATE OPERATOR k.~~~ (FUNCTION = k.neg, RIGHTARG = int);
                COMMENT ON OPERATOR k.=== (int, int) IS 'strict equality';
                CREATE OPERATOR FAMILY k.fam USING btree;
                ALTER OPERATOR FAMILY k.fam USING btree ADD OPERATOR 1 k.<<< (int, int), FUNCTION 1 (int, int) k.int_cmp(int, int);
                COMMENT ON OPERATOR FAMILY k.fam USING btree IS 'loose members';
                CREATE OPERATOR CLASS k.cls FOR TYPE int USING hash AS OPERATOR 1 k.===, FUNCTION 1 hashint4(int);
                CREATE OPERATOR CLASS k.cls2 FOR TYPE int USING btree FAMILY k.fam AS OPERATOR 3 k.===;
                COMMENT ON OPERATOR CLASS k.cls USING hash IS 'hash class';
                CREATE TABLE k.items (id int, v int);
                INSERT INTO k.items SELECT g, g % 7 FROM generate_series(1, 50) g;
                CREATE INDEX items_v ON k.items USING hash (v k.cls);
                """)
            try Self.roundTrips(database) { restored throws in
                #expect(try Self.value(restored, "SELECT count(*)::text AS v FROM k.items WHERE v OPERATOR(k.===) 3") == "7")
                #expect(try Self.value(restored, "SELECT (OPERATOR(k.~~~) 5)::text AS v") == "-5")
                #expect(try Self.value(restored, """
                    SELECT o.oprnegate::regoperator::text AS v FROM pg_operator o
                    WHERE o.oid = 'k.===(int, int)'::regoperator
                    """) == "k.!==(integer,integer)")
                #expect(try Self.value(restored, """
                    SELECT count(*)::text AS v FROM pg_amop a JOIN pg_opfamily f ON f.oid = a.amopfamily WHERE f.opfname = 'fam'
                    """) == "2")
                #expect(try Self.value(restored, "SELECT pg_get_indexdef('k.items_v'::regclass) AS v").contains("k.cls"))
            }
        }
    }

    @Test("casts WITH FUNCTION and WITH INOUT, AS ASSIGNMENT and AS IMPLICIT, with a comment")
    func casts() throws {
        try TestServer.withScratchDatabase("kinds_casts") { database in
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE TYPE k.mood AS ENUM ('sad', 'happy');
                CREATE FUNCTION k.mood_of(int) RETURNS k.mood LANGUAGE sql IMMUTABLE
                    AS $$SELECT CASE WHEN $1 > 0 THEN 'happy'::k.mood ELSE 'sad'::k.mood END$$;
                CREATE CAST (int AS k.mood) WITH FUNCTION k.mood_of(int) AS ASSIGNMENT;
                CREATE CAST (k.mood AS text) WITH INOUT AS IMPLICIT;
                CREATE DOMAIN k.code AS text;
                CREATE TYPE k.flag AS ENUM ('on');
                CREATE CAST (k.flag AS k.code) WITH INOUT;
                COMMENT ON CAST (int AS k.mood) IS 'mood cast';
                CREATE TABLE k.moods (m k.mood);
                INSERT INTO k.moods VALUES (3), (-1);
                """)
            try Self.roundTrips(database) { restored throws in
                #expect(try Self.value(restored, "SELECT string_agg(m::text, ',' ORDER BY m) AS v FROM k.moods") == "sad,happy")
                #expect(try Self.value(restored, "SELECT (5::k.mood)::text AS v") == "happy")
                #expect(try Self.value(restored, """
                    SELECT count(*)::text AS v FROM pg_cast WHERE oid >= 16384
                    """) == "3")
            }
        }
    }

    @Test("a trusted language with its own handler, inline and validator functions, ACL and comment, and a transform for it")
    func languagesAndTransforms() throws {
        try TestServer.withScratchDatabase("kinds_langs") { database in
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE FUNCTION k.plh() RETURNS language_handler AS 'plpgsql', 'plpgsql_call_handler' LANGUAGE c;
                CREATE FUNCTION k.plv(oid) RETURNS void AS 'plpgsql', 'plpgsql_validator' LANGUAGE c;
                CREATE FUNCTION k.pli(internal) RETURNS void AS 'plpgsql', 'plpgsql_inline_handler' LANGUAGE c;
                CREATE TRUSTED LANGUAGE plmine HANDLER k.plh INLINE k.pli VALIDATOR k.plv;
                REVOKE USAGE ON LANGUAGE plmine FROM PUBLIC;
                COMMENT ON LANGUAGE plmine IS 'my language';
                CREATE FUNCTION k.answer() RETURNS int LANGUAGE plmine AS 'BEGIN RETURN 42; END';
                CREATE FUNCTION k.fromsql(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'prsd_lextype';
                CREATE TRANSFORM FOR int LANGUAGE plmine (FROM SQL WITH FUNCTION k.fromsql(internal),
                    TO SQL WITH FUNCTION int4recv(internal));
                COMMENT ON TRANSFORM FOR int LANGUAGE plmine IS 'a transform';
                CREATE TABLE k.t (id int);
                INSERT INTO k.t VALUES (1);
                """)
            try Self.roundTrips(database) { restored throws in
                #expect(try Self.value(restored, "SELECT k.answer()::text AS v") == "42")
                #expect(try Self.value(restored, "SELECT lanpltrusted::text || ' ' || lanacl::text AS v FROM pg_language WHERE lanname = 'plmine'")
                        == "true {\(RestoreSources.user)=U/\(RestoreSources.user)}")
                #expect(try Self.value(restored, "SELECT count(*)::text AS v FROM pg_transform") == "1")
            }
        }
    }

    @Test("table and index access methods, a table using one, typed tables with NOT NULL, CHECK and DEFAULT of their own")
    func accessMethodsAndTypedTables() throws {
        try TestServer.withScratchDatabase("kinds_am") { database in
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
                CREATE ACCESS METHOD hash2 TYPE INDEX HANDLER hashhandler;
                COMMENT ON ACCESS METHOD heap2 IS 'copy of heap';
                CREATE TABLE k.am_table (id int) USING heap2;
                INSERT INTO k.am_table VALUES (7);
                CREATE TYPE k.pair AS (a int, b text);
                CREATE TABLE k.typed OF k.pair (a WITH OPTIONS NOT NULL, b WITH OPTIONS DEFAULT 'x', CONSTRAINT a_pos CHECK (a > 0));
                CREATE TABLE k.typed2 OF k.pair;
                INSERT INTO k.typed VALUES (1, 'one'), (2, 'two');
                INSERT INTO k.typed2 VALUES (3, NULL);
                """)
            try Self.roundTrips(database) { restored throws in
                #expect(try Self.value(restored, "SELECT a.amname AS v FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = 'k.am_table'::regclass") == "heap2")
                #expect(try Self.value(restored, "SELECT amtype::text AS v FROM pg_am WHERE amname = 'hash2'") == "i")
                #expect(try Self.value(restored, "SELECT reloftype::regtype::text AS v FROM pg_class WHERE oid = 'k.typed'::regclass") == "k.pair")
                try Support.psql(restored, "INSERT INTO k.typed (a) VALUES (5)")
                #expect(try Self.value(restored, "SELECT b AS v FROM k.typed WHERE a = 5") == "x")
            }
        }
    }

    @Test("ordered-set and hypothetical-set aggregates, and a normal one with a non-default FINALFUNC_MODIFY")
    func orderedSetAggregates() throws {
        try TestServer.withScratchDatabase("kinds_osagg") { database in
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE AGGREGATE k.my_percentile(float8 ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
                    FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA, FINALFUNC_MODIFY = SHAREABLE);
                CREATE AGGREGATE k.my_rank(VARIADIC "any" ORDER BY VARIADIC "any") (SFUNC = ordered_set_transition_multi,
                    STYPE = internal, FINALFUNC = rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
                CREATE AGGREGATE k.my_sum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0', FINALFUNC = int4abs,
                    FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
                CREATE TABLE k.n (x int);
                INSERT INTO k.n SELECT g FROM generate_series(1, 10) g;
                """)
            try Self.roundTrips(database) { restored throws in
                #expect(try Self.value(restored, "SELECT k.my_percentile(0.5) WITHIN GROUP (ORDER BY x)::text AS v FROM k.n") == "5")
                #expect(try Self.value(restored, "SELECT k.my_rank(4) WITHIN GROUP (ORDER BY x)::text AS v FROM k.n") == "4")
                #expect(try Self.value(restored, "SELECT k.my_sum(x)::text AS v FROM k.n") == "55")
            }
        }
    }
}
