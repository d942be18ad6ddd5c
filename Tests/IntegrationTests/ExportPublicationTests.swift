import Foundation
import Testing

/// Publications with their tables, schemas, row filters and column lists,
/// and subscriptions (issue #10).
@Suite("ExportPublications", .serialized)
struct ExportPublicationTests {
    typealias Support = ExportTestSupport

    /// A subscription keeps its database from being dropped; without a slot
    /// it can be dropped without connecting to the publisher.
    static let dropSubscriptions = """
        ALTER SUBSCRIPTION "Sub One" DISABLE;
        ALTER SUBSCRIPTION "Sub One" SET (slot_name = NONE);
        DROP SUBSCRIPTION "Sub One";
        DROP SUBSCRIPTION sub_two;
        """

    @Test("publications (all tables, tables with row filters and column lists, tables in schema, options) and subscriptions round-trip")
    func publicationsRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_publications") { database in
            try Support.psql(database, """
                CREATE SCHEMA sales;
                CREATE SCHEMA "Audit";
                CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric, region text, "Secret Note" text);
                CREATE TABLE sales.customers (id int PRIMARY KEY, name text);
                CREATE TABLE sales.measurements (at date NOT NULL, value int) PARTITION BY RANGE (at);
                CREATE TABLE sales.measurements_2026 PARTITION OF sales.measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
                CREATE TABLE "Audit".events (id int PRIMARY KEY, what text);
                INSERT INTO sales.orders VALUES (1, 10.5, 'north', 'x');
                INSERT INTO sales.customers VALUES (1, 'Ann');
                CREATE PUBLICATION everything FOR ALL TABLES;
                CREATE PUBLICATION "Big Orders" FOR TABLE sales.orders (id, amount, region) WHERE (amount > 100 AND region <> 'test'),
                    sales.customers WITH (publish = 'insert, update');
                CREATE PUBLICATION audit FOR TABLES IN SCHEMA "Audit", TABLE sales.customers WHERE (true);
                CREATE PUBLICATION partitions FOR TABLE sales.measurements WITH (publish_via_partition_root = true, publish = 'insert, truncate');
                CREATE PUBLICATION empty_one;
                COMMENT ON PUBLICATION audit IS 'changes for the auditors';
                CREATE SUBSCRIPTION "Sub One" CONNECTION 'host=publisher.invalid dbname=shop'
                    PUBLICATION "Big Orders", audit WITH (connect = false, slot_name = 'sub_one_slot', binary = true, streaming = on);
                CREATE SUBSCRIPTION sub_two CONNECTION 'host=publisher.invalid dbname=shop'
                    PUBLICATION everything WITH (connect = false, slot_name = NONE, synchronous_commit = 'remote_apply', disable_on_error = true);
                """)
            defer { try? Support.psql(database, Self.dropSubscriptions) }
            try ExportKindsSupport.roundTripBoth(database, cleanup: Self.dropSubscriptions) { restored throws in
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT string_agg(pubname || ':' || schemaname || '.' || tablename || coalesce(' ' || rowfilter, '')
                        || coalesce(' ' || array_to_string(attnames, '/'), ''), ', ' ORDER BY pubname, schemaname, tablename) AS v
                    FROM pg_publication_tables WHERE pubname <> 'everything'
                    """) == "Big Orders:sales.customers id/name, Big Orders:sales.orders ((amount > (100)::numeric) AND (region <> 'test'::text)) id/amount/region, "
                        + "audit:Audit.events id/what, audit:sales.customers true id/name, partitions:sales.measurements at/value")
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT string_agg(subname || ':' || subenabled || ':' || coalesce(subslotname, '-'), ',' ORDER BY subname) AS v FROM pg_subscription
                    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """) == "Sub One:false:sub_one_slot,sub_two:false:-")
            }
        }
    }
}
