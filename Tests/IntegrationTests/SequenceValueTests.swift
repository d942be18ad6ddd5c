import Foundation
import PostgresClient
import Testing

/// Sequence values come from `pg_sequence_last_value`, which is null for a
/// sequence whose value was never handed out; those are read from the
/// sequence itself. Every state must arrive as it was: a restored sequence
/// that hands out a used value again breaks the application's inserts.
@Suite("Sequence values")
struct SequenceValueTests {
    @Test("called, never called and setval(..., false) sequences keep last_value and is_called")
    func everyStateRoundTrips() throws {
        try TestServer.withScratchDatabase("pgc_seqvals") { database in
            try ExportTestSupport.psql(database, """
                CREATE SCHEMA "we.ird";
                CREATE SEQUENCE used_seq;
                SELECT nextval('used_seq') FROM generate_series(1, 41);
                CREATE SEQUENCE fresh_seq START 7;
                CREATE SEQUENCE parked_seq;
                SELECT setval('parked_seq', 500, false);
                CREATE SEQUENCE "we.ird"."Odd seq" INCREMENT -3 MINVALUE -1000 MAXVALUE 10 START 10;
                SELECT setval('"we.ird"."Odd seq"', -20, true);
                CREATE TABLE t (id bigserial PRIMARY KEY, note text);
                INSERT INTO t (note) SELECT 'n' || g FROM generate_series(1, 5) g;
                """)
            let states = """
                SELECT n.nspname || '.' || c.relname AS name, s.last_value::text || '/' || s.is_called::text AS state
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                     LATERAL (SELECT * FROM pg_catalog.pg_sequence_last_value(c.oid) AS v(last_value)) v0,
                     LATERAL (SELECT v0.last_value, v0.last_value IS NOT NULL AS is_called) s
                WHERE c.relkind = 'S'
                """
            func read(_ db: String) throws -> [String: String] {
                try TestServer.withConnection(database: db) { connection in
                    var result: [String: String] = [:]
                    for row in try connection.query(states).rows {
                        result[try row.string("name")] = try row.optionalString("state") ?? "never called"
                    }
                    // pg_sequence_last_value hides an uncalled sequence's value: read those directly.
                    for name in ["public.fresh_seq", "public.parked_seq"] {
                        let row = try connection.query("SELECT last_value::text || '/' || is_called::text AS s FROM \(name)").first
                        result[name + " (direct)"] = try row?.string("s")
                    }
                    return result
                }
            }
            let before = try read(database)
            #expect(before["public.used_seq"] == "41/true")
            #expect(before["public.fresh_seq (direct)"] == "7/false")
            #expect(before["public.parked_seq (direct)"] == "500/false")
            #expect(before["we.ird.Odd seq"] == "-20/true")

            let archive = ExportTestSupport.temporaryPath("seqvals.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            try ExportTestSupport.export(database, to: archive, ["-j", "2"])
            try TestServer.withScratchDatabase("pgc_seqvals_restored") { restored in
                try ExportTestSupport.restoreWithZstdAndPsql(archive, into: restored)
                #expect(try read(restored) == before)
                // The next value continues, not repeats.
                let next = try TestServer.withConnection(database: restored) {
                    try $0.query("SELECT nextval('t_id_seq')::int AS n, nextval('parked_seq')::int AS p").first
                }
                #expect(try next?.int("n") == 6)
                #expect(try next?.int("p") == 500)
            }
        }
    }
}
