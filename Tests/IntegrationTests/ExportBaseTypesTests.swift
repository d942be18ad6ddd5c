import Cellar
import Foundation
import PostgresClient
import Testing

/// Base types with their I/O functions, and a shell type never defined
/// (issue 10): the export writes the shell first, then the functions, then
/// CREATE TYPE, as pg_dump does; both restore paths give the same schema,
/// the same rows, and types that work.
@Suite("ExportBaseTypes", .serialized)
struct ExportBaseTypesTests {
    typealias Support = ExportTestSupport

    @Test("base types (fixed length by value with RECEIVE/SEND, DEFAULT, CATEGORY, DELIMITER; variable length COLLATABLE, PREFERRED) and a shell type")
    func baseAndShellTypes() throws {
        try TestServer.withScratchDatabase("kinds_base") { database in
            // Built-in C functions behind LANGUAGE internal, as PostgreSQL's own create_type tests do.
            try Support.psql(database, """
                CREATE SCHEMA k;
                CREATE TYPE k.myint;
                CREATE FUNCTION k.myint_in(cstring) RETURNS k.myint AS 'int4in' LANGUAGE internal IMMUTABLE STRICT;
                CREATE FUNCTION k.myint_out(k.myint) RETURNS cstring AS 'int4out' LANGUAGE internal IMMUTABLE STRICT;
                CREATE FUNCTION k.myint_recv(internal) RETURNS k.myint AS 'int4recv' LANGUAGE internal IMMUTABLE STRICT;
                CREATE FUNCTION k.myint_send(k.myint) RETURNS bytea AS 'int4send' LANGUAGE internal IMMUTABLE STRICT;
                CREATE TYPE k.myint (INPUT = k.myint_in, OUTPUT = k.myint_out, RECEIVE = k.myint_recv, SEND = k.myint_send,
                    INTERNALLENGTH = 4, PASSEDBYVALUE, ALIGNMENT = int4, STORAGE = plain, CATEGORY = 'N', DEFAULT = '42', DELIMITER = ';');
                COMMENT ON TYPE k.myint IS 'an int by another name';
                CREATE TYPE k.mytext;
                CREATE FUNCTION k.mytext_in(cstring) RETURNS k.mytext AS 'textin' LANGUAGE internal IMMUTABLE STRICT;
                CREATE FUNCTION k.mytext_out(k.mytext) RETURNS cstring AS 'textout' LANGUAGE internal IMMUTABLE STRICT;
                CREATE TYPE k.mytext (INPUT = k.mytext_in, OUTPUT = k.mytext_out, INTERNALLENGTH = variable, STORAGE = extended,
                    COLLATABLE = true, PREFERRED = true, CATEGORY = 'S');
                CREATE TYPE k.still_shell;
                CREATE TABLE k.vals (id int, v k.myint, arr k.myint[], t k.mytext);
                INSERT INTO k.vals SELECT g, (g * 3)::text::k.myint, ARRAY[g::text::k.myint], ('t' || g)::k.mytext
                    FROM generate_series(1, 20) g;
                """)
            try ExportEdgeCaseTests.roundTrip(database) { result throws in
                let restored = result.restored
                try Support.psql(restored, "INSERT INTO k.vals (id) VALUES (100)")
                let row = try TestServer.withConnection(database: restored) { connection in
                    try connection.query("""
                        SELECT (SELECT v::text FROM k.vals WHERE id = 100) AS default_value,
                               (SELECT string_agg(t::text, ',' ORDER BY id) FROM k.vals WHERE id <= 3) AS texts,
                               (SELECT typisdefined::text FROM pg_type WHERE typname = 'still_shell') AS shell_defined,
                               (SELECT typdelim::text FROM pg_type WHERE oid = 'k.myint'::regtype) AS delimiter
                        """).first
                }
                #expect(try row?.string("default_value") == "42")
                #expect(try row?.string("texts") == "t1,t2,t3")
                #expect(try row?.string("shell_defined") == "false")
                #expect(try row?.string("delimiter") == ";")
            }
            try Support.assertRoundTrip(database)
        }
    }
}
