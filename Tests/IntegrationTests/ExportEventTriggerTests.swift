import Foundation
import Testing

/// Event triggers with their enable states (issue #10).
@Suite("ExportEventTriggers", .serialized)
struct ExportEventTriggerTests {
    typealias Support = ExportTestSupport

    @Test("event triggers with tags and every enable state round-trip, restored last, and still fire")
    func eventTriggersRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_eventtriggers") { database in
            try Support.psql(database, """
                CREATE TABLE ddl_log (tag text);
                CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO public.ddl_log VALUES (tg_tag); END $$;
                CREATE FUNCTION refuse_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'no drops here'; END $$;
                CREATE EVENT TRIGGER "Log Tables" ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
                    EXECUTE FUNCTION log_ddl();
                CREATE EVENT TRIGGER refuse_drops ON sql_drop EXECUTE FUNCTION refuse_drop();
                ALTER EVENT TRIGGER refuse_drops DISABLE;
                CREATE EVENT TRIGGER replica_only ON ddl_command_start EXECUTE FUNCTION log_ddl();
                ALTER EVENT TRIGGER replica_only ENABLE REPLICA;
                CREATE EVENT TRIGGER always_on ON table_rewrite EXECUTE FUNCTION log_ddl();
                ALTER EVENT TRIGGER always_on ENABLE ALWAYS;
                COMMENT ON EVENT TRIGGER "Log Tables" IS 'records table DDL';
                CREATE TABLE logged (id int);
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT string_agg(evtname || '=' || evtenabled::text, ',' ORDER BY evtname) AS v FROM pg_event_trigger
                    """) == "Log Tables=O,always_on=A,refuse_drops=D,replica_only=R")
                // Restored last: the restore's own CREATE TABLE did not fire it, but new DDL does.
                #expect(try ExportKindsSupport.value(restored, "SELECT string_agg(tag, ',') AS v FROM ddl_log") == "CREATE TABLE")
                try Support.psql(restored, "CREATE TABLE after_restore (id int)")
                #expect(try ExportKindsSupport.value(restored, "SELECT count(*)::text AS v FROM ddl_log") == "2")
            }
        }
    }
}
