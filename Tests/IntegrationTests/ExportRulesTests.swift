import Foundation
import Testing

/// Rules on tables and views (issue #10): INSTEAD rules, rules with
/// conditions, and every firing state, restored so that they still act.
@Suite("ExportRules", .serialized)
struct ExportRulesTests {
    typealias Support = ExportTestSupport

    @Test("rules on tables and views, INSTEAD or not, in every enable state, round-trip and still rewrite")
    func rulesRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_rules") { database in
            try Support.psql(database, """
                CREATE SCHEMA "Shop";
                CREATE TABLE "Shop".items (id int PRIMARY KEY, name text NOT NULL);
                CREATE TABLE "Shop".log (item int, action text);
                INSERT INTO "Shop".items VALUES (1, 'apple'), (2, 'pear');
                CREATE VIEW "Shop".item_names AS SELECT id, name FROM "Shop".items;
                -- A view made writable by INSTEAD rules.
                CREATE RULE item_names_insert AS ON INSERT TO "Shop".item_names
                    DO INSTEAD INSERT INTO "Shop".items VALUES (NEW.id, NEW.name);
                CREATE RULE "Delete Item" AS ON DELETE TO "Shop".item_names
                    DO INSTEAD DELETE FROM "Shop".items WHERE id = OLD.id;
                -- A logging rule on a table, conditional, referring to another table.
                CREATE RULE log_update AS ON UPDATE TO "Shop".items WHERE OLD.name IS DISTINCT FROM NEW.name
                    DO ALSO INSERT INTO "Shop".log VALUES (NEW.id, 'renamed to ' || NEW.name);
                CREATE RULE no_truncate_like AS ON DELETE TO "Shop".log DO INSTEAD NOTHING;
                CREATE RULE disabled_rule AS ON INSERT TO "Shop".log WHERE NEW.action = 'x' DO INSTEAD NOTHING;
                ALTER TABLE "Shop".log DISABLE RULE disabled_rule;
                CREATE RULE replica_rule AS ON INSERT TO "Shop".log WHERE NEW.action = 'y' DO INSTEAD NOTHING;
                ALTER TABLE "Shop".log ENABLE REPLICA RULE replica_rule;
                CREATE RULE always_rule AS ON INSERT TO "Shop".log WHERE NEW.action = 'z' DO INSTEAD NOTHING;
                ALTER TABLE "Shop".log ENABLE ALWAYS RULE always_rule;
                COMMENT ON RULE log_update ON "Shop".items IS 'keeps renames';
                INSERT INTO "Shop".log VALUES (0, 'seed');
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                let states = try ExportKindsSupport.value(restored, """
                    SELECT string_agg(rulename || '=' || ev_enabled::text, ',' ORDER BY rulename) AS v FROM pg_rewrite
                    WHERE ev_class = '"Shop".log'::regclass
                    """)
                #expect(states == "always_rule=A,disabled_rule=D,no_truncate_like=O,replica_rule=R")
                #expect(try ExportKindsSupport.value(restored, "SELECT obj_description(oid, 'pg_rewrite') AS v FROM pg_rewrite WHERE rulename = 'log_update'") == "keeps renames")
                // The rules still rewrite: insert through the view, rename, delete.
                try Support.psql(restored, """
                    INSERT INTO "Shop".item_names VALUES (3, 'plum');
                    UPDATE "Shop".items SET name = 'quince' WHERE id = 3;
                    DELETE FROM "Shop".item_names WHERE id = 1;
                    DELETE FROM "Shop".log;
                    """)
                #expect(try ExportKindsSupport.value(restored, "SELECT string_agg(name, ',' ORDER BY id) AS v FROM \"Shop\".items") == "pear,quince")
                #expect(try ExportKindsSupport.value(restored, "SELECT string_agg(action, ',' ORDER BY item) AS v FROM \"Shop\".log") == "seed,renamed to quince")
            }
        }
    }
}
