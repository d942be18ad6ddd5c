import Foundation
import Testing

/// Text search parsers, templates, dictionaries and configurations with
/// their mappings (issue #10).
@Suite("ExportTextSearch", .serialized)
struct ExportTextSearchTests {
    typealias Support = ExportTestSupport

    @Test("text search parsers, templates, dictionaries with options and configurations with mappings round-trip and still parse")
    func textSearchRoundTrip() throws {
        try TestServer.withScratchDatabase("kinds_textsearch") { database in
            try Support.psql(database, """
                CREATE SCHEMA "Search";
                CREATE TEXT SEARCH PARSER "Search".parser (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end,
                    LEXTYPES = prsd_lextype, HEADLINE = prsd_headline);
                CREATE TEXT SEARCH PARSER "Search".no_headline (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end,
                    LEXTYPES = prsd_lextype);
                CREATE TEXT SEARCH TEMPLATE "Search".simple_template (INIT = dsimple_init, LEXIZE = dsimple_lexize);
                CREATE TEXT SEARCH TEMPLATE "Search".lexize_only (LEXIZE = dsimple_lexize);
                CREATE TEXT SEARCH DICTIONARY "Search".stop_simple (TEMPLATE = "Search".simple_template, STOPWORDS = english, Accept = false);
                CREATE TEXT SEARCH DICTIONARY "Search"."English Stem" (TEMPLATE = snowball, Language = english, StopWords = english);
                COMMENT ON TEXT SEARCH DICTIONARY "Search"."English Stem" IS 'stems English words';
                CREATE TEXT SEARCH CONFIGURATION "Search".docs (PARSER = "Search".parser);
                ALTER TEXT SEARCH CONFIGURATION "Search".docs
                    ADD MAPPING FOR asciiword, word WITH "Search".stop_simple, "Search"."English Stem";
                ALTER TEXT SEARCH CONFIGURATION "Search".docs ADD MAPPING FOR int, uint WITH simple;
                CREATE TEXT SEARCH CONFIGURATION "Search".english_copy (COPY = pg_catalog.english);
                COMMENT ON TEXT SEARCH CONFIGURATION "Search".docs IS 'for documents';
                CREATE TABLE "Search".documents (id int PRIMARY KEY, body text,
                    words tsvector GENERATED ALWAYS AS (to_tsvector('"Search".docs'::regconfig, body)) STORED);
                CREATE INDEX documents_body ON "Search".documents USING gin (to_tsvector('"Search".english_copy'::regconfig, body));
                INSERT INTO "Search".documents (id, body) VALUES (1, 'The running foxes jumped 42 times'), (2, 'Nothing here');
                """)
            let expected = try ExportKindsSupport.value(database, "SELECT to_tsvector('\"Search\".docs', 'The running foxes jumped 42 times')::text AS v")
            #expect(expected?.contains("'run'") == true)
            try ExportKindsSupport.roundTripBoth(database) { restored throws in
                #expect(try ExportKindsSupport.value(restored, "SELECT to_tsvector('\"Search\".docs', 'The running foxes jumped 42 times')::text AS v") == expected)
                #expect(try ExportKindsSupport.value(restored, """
                    SELECT count(*)::text AS v FROM "Search".documents WHERE words @@ to_tsquery('"Search".docs', 'jump')
                    """) == "1")
            }
        }
    }
}
