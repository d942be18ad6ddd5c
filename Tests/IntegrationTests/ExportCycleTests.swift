import Foundation
import Testing

/// Orders pg_dump has to repair, each found in PostgreSQL 15's regression
/// database (issue #10): dependency cycles split as pg_dump splits them,
/// materialized-view refreshes ordered through views, and properties that
/// exist only once a later entry has run.
@Suite("ExportCycles", .serialized)
struct ExportCycleTests {
    typealias Support = ExportTestSupport

    @Test("a CHECK constraint calling a function on its own table's row type is added after the function, and still checks")
    func checkConstraintCycle() throws {
        try TestServer.withScratchDatabase("cycle_check") { database in
            // As the regression database's check_con_tbl: the table needs the
            // function for its CHECK, the function needs the table's row type.
            try Support.psql(database, """
                CREATE TABLE check_con_tbl (f1 int);
                CREATE FUNCTION check_con_function(check_con_tbl) RETURNS bool LANGUAGE plpgsql
                    AS $$ BEGIN RETURN $1.f1 > 0; END $$ STABLE;
                ALTER TABLE check_con_tbl ADD CONSTRAINT check_con_positive CHECK (check_con_function(check_con_tbl.*));
                COMMENT ON CONSTRAINT check_con_positive ON check_con_tbl IS 'positive only';
                INSERT INTO check_con_tbl VALUES (1), (2), (NULL);
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, "SELECT count(*)::text AS v FROM check_con_tbl") == "3")
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT obj_description(oid, 'pg_constraint') AS v FROM pg_constraint WHERE conname = 'check_con_positive'
                    """) == "positive only")
                #expect(throws: (any Error).self, "the restored CHECK constraint still rejects a bad row") {
                    try Support.psql(restored, "INSERT INTO check_con_tbl VALUES (-1)")
                }
            }
        }
    }

    @Test("a view in a dependency cycle through a function on its row type is created with placeholders and replaced, as pg_dump does")
    func viewCycle() throws {
        try TestServer.withScratchDatabase("cycle_view") { database in
            try Support.psql(database, """
                CREATE TABLE t (a int);
                INSERT INTO t VALUES (1), (41);
                CREATE VIEW "Loop View" AS SELECT a, 0 AS b, 'x'::text COLLATE "C" AS c FROM t;
                CREATE FUNCTION plus_one("Loop View") RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT $1.a + 1; END;
                CREATE OR REPLACE VIEW "Loop View" WITH (security_barrier) AS
                    SELECT a, plus_one(ROW(a, 0, 'x')::"Loop View") AS b, 'x'::text COLLATE "C" AS c FROM t;
                COMMENT ON VIEW "Loop View" IS 'loops';
                -- A materialized view reading it: its refresh waits for the real definition.
                CREATE MATERIALIZED VIEW loop_sums AS SELECT sum(b) AS total FROM "Loop View";
                """)
            let script = try KindsRoundTrip.check(database).script
            #expect(script.contains("CREATE OR REPLACE VIEW public.\"Loop View\""), "the view's query comes in a RULE entry")
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, "SELECT string_agg(b::text, ',' ORDER BY a) AS v FROM \"Loop View\"") == "2,42")
                #expect(try ExportKindsSupport.value(restored, "SELECT total::text AS v FROM loop_sums") == "44")
                #expect(try ExportKindsSupport.value(restored, "SELECT obj_description('\"Loop View\"'::regclass) AS v") == "loops")
            }
        }
    }

    @Test("a materialized view reading another through a view is refreshed after it, on one connection and on two")
    func materializedViewThroughView() throws {
        try TestServer.withScratchDatabase("cycle_matview") { database in
            // As the regression database's mvtest_tvvm: by name, the reader
            // would be refreshed first and fail on the unpopulated source.
            try Support.psql(database, """
                CREATE TABLE amounts (amount int);
                INSERT INTO amounts SELECT generate_series(1, 100);
                CREATE MATERIALIZED VIEW z_totals AS SELECT sum(amount) AS total FROM amounts;
                CREATE VIEW m_totals AS SELECT total FROM z_totals;
                CREATE MATERIALIZED VIEW a_reader AS SELECT total * 2 AS doubled FROM m_totals;
                CREATE VIEW b_reader AS SELECT doubled FROM a_reader;
                CREATE MATERIALIZED VIEW a_second AS SELECT doubled + 1 AS more FROM b_reader;
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, "SELECT doubled::text AS v FROM a_reader") == "10100")
                #expect(try ExportKindsSupport.value(restored, "SELECT more::text AS v FROM a_second") == "10101")
            }
        }
    }

    @Test("a comment on a NOT VALID domain constraint waits for the constraint")
    func notValidDomainConstraintComment() throws {
        try TestServer.withScratchDatabase("cycle_domain") { database in
            try Support.psql(database, """
                CREATE DOMAIN small AS int;
                CREATE TABLE uses_small (v small);
                INSERT INTO uses_small VALUES (500);
                ALTER DOMAIN small ADD CONSTRAINT inv_ck CHECK (VALUE < 100) NOT VALID;
                COMMENT ON CONSTRAINT inv_ck ON DOMAIN small IS 'comment on invalid constraint';
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT obj_description(oid, 'pg_constraint') || ' ' || convalidated::text AS v FROM pg_constraint WHERE conname = 'inv_ck'
                    """) == "comment on invalid constraint false")
                #expect(try ExportKindsSupport.value(restored, "SELECT v::text AS v FROM uses_small") == "500")
            }
        }
    }

    @Test("an identity column's logged sequence on an unlogged table stays logged")
    func identitySequencePersistence() throws {
        try TestServer.withScratchDatabase("cycle_identity") { database in
            try Support.psql(database, """
                CREATE UNLOGGED TABLE identity_unlogged (a int GENERATED ALWAYS AS IDENTITY, b text);
                ALTER SEQUENCE identity_unlogged_a_seq SET LOGGED;
                CREATE TABLE identity_logged (a int GENERATED BY DEFAULT AS IDENTITY);
                ALTER SEQUENCE identity_logged_a_seq SET UNLOGGED;
                INSERT INTO identity_unlogged (b) VALUES ('x'), ('y');
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT string_agg(relname || '=' || relpersistence::text, ',' ORDER BY relname) AS v FROM pg_class
                    WHERE relname LIKE 'identity_%'
                    """) == "identity_logged=p,identity_logged_a_seq=u,identity_unlogged=u,identity_unlogged_a_seq=p")
            }
        }
    }
}
