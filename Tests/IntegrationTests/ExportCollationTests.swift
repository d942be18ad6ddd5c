import Foundation
import Testing

/// Collations (libc and ICU, deterministic or not) and conversions (issue #10).
@Suite("ExportCollations", .serialized)
struct ExportCollationTests {
    typealias Support = ExportTestSupport

    @Test("an ICU case-insensitive collation used by a column, a domain and a unique index round-trips, with libc collations")
    func collationsRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_collations") { database in
            try Support.psql(database, """
                CREATE SCHEMA "Intl";
                CREATE COLLATION "Intl"."case insensitive" (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
                CREATE COLLATION "Intl".german (provider = icu, locale = 'de-DE');
                CREATE COLLATION "Intl".c_copy (provider = libc, locale = 'C');
                CREATE COLLATION "Intl".mixed (provider = libc, lc_collate = 'C', lc_ctype = 'C.UTF-8');
                COMMENT ON COLLATION "Intl".german IS 'Umlauts sort with their vowels';
                CREATE DOMAIN "Intl".ci_text AS text COLLATE "Intl"."case insensitive";
                CREATE TABLE "Intl".users (
                    id int PRIMARY KEY,
                    login text COLLATE "Intl"."case insensitive" NOT NULL,
                    nickname "Intl".ci_text,
                    sort_key text COLLATE "Intl".c_copy);
                CREATE UNIQUE INDEX users_login ON "Intl".users (login);
                CREATE INDEX users_german ON "Intl".users (sort_key COLLATE "Intl".german);
                INSERT INTO "Intl".users VALUES (1, 'Alice', 'Al', 'b'), (2, 'bob', 'BOBBY', 'a');
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                let collation = try ExportKindsSupport.value(restored, """
                    SELECT collprovider::text || ',' || collisdeterministic || ',' || colliculocale AS v
                    FROM pg_collation WHERE collname = 'case insensitive'
                    """)
                #expect(collation == "i,false,und-u-ks-level2")
                #expect(try ExportKindsSupport.value(restored, "SELECT count(*)::text AS v FROM \"Intl\".users WHERE login = 'ALICE' AND nickname = 'al'") == "1")
                // The unique index compares case-insensitively too.
                #expect(throws: (any Error).self) {
                    try Support.psql(restored, "INSERT INTO \"Intl\".users VALUES (3, 'BOB', NULL, NULL)")
                }
            }
        }
    }

    @Test("a conversion, default or not, round-trips with its comment and owner")
    func conversionsRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_conversions") { database in
            try Support.psql(database, """
                CREATE SCHEMA conv;
                CREATE CONVERSION conv.latin1_to_utf8 FOR 'LATIN1' TO 'UTF8' FROM pg_catalog.iso8859_1_to_utf8;
                CREATE DEFAULT CONVERSION conv."Default UTF8 to LATIN1" FOR 'UTF8' TO 'LATIN1' FROM pg_catalog.utf8_to_iso8859_1;
                COMMENT ON CONVERSION conv.latin1_to_utf8 IS 'for old files';
                CREATE TABLE conv.t (id int);
                INSERT INTO conv.t VALUES (1);
                """)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT string_agg(conname || '=' || condefault, ',' ORDER BY conname) AS v FROM pg_conversion
                    WHERE connamespace = 'conv'::regnamespace
                    """) == "Default UTF8 to LATIN1=true,latin1_to_utf8=false")
            }
        }
    }
}
