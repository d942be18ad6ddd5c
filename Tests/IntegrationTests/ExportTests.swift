import Cellar
import CellarCommands
import CellarSupport
import Foundation
import PostgresClient
import Testing

@Suite("Export", .serialized)
struct ExportTests {
    typealias Support = ExportTestSupport

    // MARK: - Real schemas

    @Test("Pagila exported and restored by zstd -dc | psql has the same schema and rows")
    func pagilaRoundTrip() throws {
        try TestServer.withScratchDatabase("pgc_pagila") { database in
            try Support.psqlFile(database, try Support.testData("pagila/pagila-schema.sql"))
            try Support.psqlFile(database, try Support.testData("pagila/pagila-data.sql"))
            // The materialized view is created WITH NO DATA; populate it so the
            // refresh after the data is exercised too.
            try Support.psql(database, "REFRESH MATERIALIZED VIEW public.rental_by_category;")
            try Support.assertRoundTrip(database)
        }
    }

    @Test("Chinook exported with -j 3 in small chunks restores to the same schema and rows")
    func chinookRoundTrip() throws {
        let script = try Support.testData("chinook/Chinook_PostgreSql.sql")
        let local = Support.temporaryPath("chinook.sql")
        defer { try? FileManager.default.removeItem(atPath: local) }
        // The script creates and connects to its own database; load it into a scratch one instead.
        try Support.shell("grep -v -e '^DROP DATABASE' -e '^CREATE DATABASE' -e '^\\\\c ' '\(script)' > '\(local)'")
        try TestServer.withScratchDatabase("pgc_chinook") { database in
            try Support.psqlFile(database, local)
            try Support.assertRoundTrip(database, exportArguments: ["-j", "3", "--chunk-size", "64K"])
        }
    }

    // MARK: - Awkward values and object kinds

    static let awkwardSchema = """
        CREATE ROLE pgc_export_reader;
        CREATE SCHEMA app;
        COMMENT ON SCHEMA app IS 'the app''s schema';
        CREATE EXTENSION citext WITH SCHEMA app;
        CREATE EXTENSION pg_trgm WITH SCHEMA public;
        CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'très bien');
        CREATE DOMAIN app.positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0);
        CREATE TYPE app.pair AS (a integer, b text COLLATE "C");
        CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
        CREATE SEQUENCE app.odd_seq AS integer START WITH 7 INCREMENT BY 2 MAXVALUE 1000001 CACHE 3 CYCLE;
        CREATE FUNCTION app.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(t) || '!' $$;
        CREATE FUNCTION app.sum_state(s bigint, v integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT s + v $$;
        CREATE AGGREGATE app.total(integer) (SFUNC = app.sum_state, STYPE = bigint, INITCOND = '0');
        CREATE PROCEDURE app.noop() LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
        CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
        CREATE TABLE app.awkward (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            t text,
            b bytea,
            j jsonb,
            n numeric,
            f float8,
            ts timestamptz,
            a text[],
            m app.mood[],
            p app.pair,
            r app.floatrange,
            pos app.positive,
            label text COLLATE "C" DEFAULT app.shout('x'),
            twice numeric GENERATED ALWAYS AS (n * 2) STORED,
            serial_no integer DEFAULT nextval('app.odd_seq'),
            touched timestamptz,
            nick app.citext,
            CONSTRAINT t_not_huge CHECK (length(t) < 100000)
        );
        COMMENT ON TABLE app.awkward IS 'values that trip text formats';
        COMMENT ON COLUMN app.awkward.t IS E'tab\\there';
        CREATE INDEX awkward_t_idx ON app.awkward (lower(t)) WHERE t IS NOT NULL;
        CREATE INDEX awkward_t_trgm ON app.awkward USING gin (t public.gin_trgm_ops);
        CREATE TRIGGER awkward_touch BEFORE INSERT OR UPDATE ON app.awkward FOR EACH ROW EXECUTE FUNCTION app.touch();
        ALTER TABLE app.awkward DISABLE TRIGGER awkward_touch;
        CREATE TABLE app.parent (id bigserial PRIMARY KEY, note text NOT NULL DEFAULT '');
        CREATE TABLE app.child (extra int) INHERITS (app.parent);
        CREATE TABLE app.events (id int NOT NULL, at date NOT NULL, payload text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE app.events_rest PARTITION OF app.events DEFAULT;
        CREATE INDEX events_payload_idx ON app.events (payload);
        CREATE TABLE app.booking (room int, during tstzrange, EXCLUDE USING gist (during WITH &&));
        CREATE TABLE app.ref (awkward_id int REFERENCES app.awkward (id) ON DELETE CASCADE, event_id int, event_at date,
                              FOREIGN KEY (event_id, event_at) REFERENCES app.events (id, at));
        CREATE UNLOGGED TABLE app.scratch (k text PRIMARY KEY, v text) WITH (fillfactor = 70);
        ALTER TABLE app.scratch REPLICA IDENTITY USING INDEX scratch_pkey;
        CREATE UNIQUE INDEX scratch_v ON app.scratch (left(v, 10));
        ALTER TABLE app.scratch CLUSTER ON scratch_v;
        ALTER TABLE app.scratch ALTER COLUMN v SET STORAGE EXTERNAL;
        CREATE VIEW app.loud AS SELECT id, app.shout(t) AS t FROM app.awkward WITH LOCAL CHECK OPTION;
        CREATE MATERIALIZED VIEW app.mood_counts AS SELECT unnest(m) AS mood, count(*) AS n FROM app.awkward GROUP BY 1;
        CREATE UNIQUE INDEX mood_counts_mood ON app.mood_counts (mood);
        ALTER TABLE app.awkward ENABLE ROW LEVEL SECURITY;
        CREATE POLICY awkward_visible ON app.awkward FOR SELECT TO pgc_export_reader USING (id % 2 = 0);
        CREATE POLICY awkward_restrict ON app.awkward AS RESTRICTIVE USING (true) WITH CHECK (t IS NOT NULL);
        GRANT USAGE ON SCHEMA app TO pgc_export_reader;
        GRANT SELECT, INSERT ON app.awkward TO pgc_export_reader WITH GRANT OPTION;
        GRANT UPDATE (t) ON app.awkward TO pgc_export_reader;
        GRANT EXECUTE ON FUNCTION app.shout(text) TO pgc_export_reader;
        REVOKE EXECUTE ON FUNCTION app.sum_state(bigint, integer) FROM PUBLIC;
        ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO pgc_export_reader;
        CREATE STATISTICS app.awkward_stats (dependencies) ON n, f FROM app.awkward;

        INSERT INTO app.awkward (t, b, j, n, f, ts, a, m, p, r, pos, nick)
        SELECT CASE g % 9 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\\there' WHEN 3 THEN E'line\\nbreak\\\\back'
                          WHEN 4 THEN 'bière 日本語 🍺' WHEN 5 THEN E'\\\\.' WHEN 6 THEN E'\\r\\n' WHEN 7 THEN E'\\\\N' ELSE md5(g::text) END,
               CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN ''::bytea ELSE decode(md5(g::text) || '00ff5c0a', 'hex') END,
               jsonb_build_object('g', g, 's', E'q"uo\\te\\n', 'u', 'ü', 'nested', jsonb_build_array(1, 'two', NULL)),
               CASE g % 5 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN 1e-300::numeric WHEN 2 THEN -99999999999999999999999999999.999999999
                          WHEN 3 THEN 'Infinity'::numeric ELSE (g * 1234567.891)::numeric END,
               CASE g % 4 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-Infinity'::float8 WHEN 2 THEN 1.0000000000000002 ELSE 5e-324 END,
               CASE g % 4 WHEN 0 THEN 'infinity'::timestamptz WHEN 1 THEN '-infinity'::timestamptz
                          ELSE '2024-02-29 12:00:00.123456+00'::timestamptz + g * interval '1 second' END,
               ARRAY['a,b', NULL, E'c"d', '', E'back\\\\slash', 'NULL'],
               ARRAY['sad', 'très bien']::app.mood[],
               ROW(g, E'x\\ty')::app.pair,
               app.floatrange(g, g + 0.5),
               1 + g % 7,
               CASE WHEN g % 3 = 0 THEN 'MiXeD' || g END
        FROM generate_series(1, 20000) AS g;
        INSERT INTO app.parent (note) VALUES ('one'), (E'two\\nlines');
        INSERT INTO app.child (note, extra) VALUES ('child', 3);
        INSERT INTO app.events SELECT g, date '2023-12-30' + g, repeat('x', g % 50) FROM generate_series(1, 900) AS g;
        INSERT INTO app.booking VALUES (1, tstzrange('2024-01-01', '2024-01-02'));
        INSERT INTO app.ref VALUES (2, 5, date '2023-12-30' + 5);
        INSERT INTO app.scratch VALUES ('k', repeat('v', 5000));
        REFRESH MATERIALIZED VIEW app.mood_counts;
        SELECT setval('app.odd_seq', 99);
        """

    @Test("awkward values and many object kinds survive zstd -dc | psql, with -j 2 and 64K chunks")
    func awkwardValuesRoundTrip() throws {
        let role = TestServer.uniqueName("pgc_reader")
        // Dropping the databases first removes the role's privileges with them.
        defer { _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(role)") } }
        try TestServer.withScratchDatabase("pgc_awkward") { database in
            try Support.psql(database, Self.awkwardSchema.replacingOccurrences(of: "pgc_export_reader", with: role))
            try Support.assertRoundTrip(database, exportArguments: ["-j", "2", "--chunk-size", "64K"])
        }
    }

    @Test("the archive lists rows per chunk, and restore-side readers get exactly the COPY rows")
    func archiveContentsMatchTheDatabase() throws {
        try TestServer.withScratchDatabase("pgc_chunks") { database in
            try Support.psql(database, """
                CREATE TABLE big (id int PRIMARY KEY, filler text);
                INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 30000) g;
                CREATE TABLE empty (id int);
                """)
            let archive = Support.temporaryPath("chunks.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            try Support.export(database, to: archive, ["--chunk-size", "256K", "-j", "2"])
            let reader = try ArchiveReader(path: archive)
            let chunks = reader.entries.filter { $0.data?.tableName == "big" }
            #expect(chunks.count > 10)
            #expect(chunks.reduce(0) { $0 + ($1.data?.rows ?? 0) } == 30000)
            #expect(Set(chunks.compactMap { $0.data?.chunkCount }) == [chunks.count])
            #expect(reader.entries.filter { $0.data?.tableName == "empty" }.map { $0.data?.rows } == [0])
            // The rows of every chunk, loaded with COPY FROM STDIN, give back the table.
            try TestServer.withConnection(database: database) { connection in
                try connection.execute("CREATE TABLE big_copy (LIKE big)")
                for chunk in chunks.reversed() {
                    try connection.copyIn("COPY big_copy FROM STDIN") { writer in
                        try reader.readCopyRows(chunk) { try writer.write($0) }
                    }
                }
                let same = try connection.query("SELECT count(*) = 0 AS same FROM (SELECT * FROM big EXCEPT ALL SELECT * FROM big_copy) d").first?.bool("same")
                #expect(same == true)
                #expect(try connection.query("SELECT count(*) AS n FROM big_copy").first?.int("n") == 30000)
            }
            #expect(reader.header.database.name == database)
            #expect(reader.header.database.encoding == "UTF8")
            #expect(reader.header.roles.contains { $0.name == "postgres" && $0.referencedAs.contains("owner") })
            #expect(reader.entries.first?.kind == .settings)
        }
    }

    @Test("memory stays flat: a table far larger than the chunks exports without the process growing with it")
    func memoryStaysFlat() throws {
        try TestServer.withScratchDatabase("pgc_memory") { database in
            try Support.psql(database, """
                CREATE TABLE wide AS SELECT g AS id, repeat(md5(g::text), 24) AS payload FROM generate_series(1, 200000) g;
                CREATE TABLE wide2 AS SELECT * FROM wide;
                """)
            let archive = Support.temporaryPath("memory.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let baseline = ProcessMemory.residentBytes()
            let sampler = MemorySampler()
            let thread = Thread { sampler.run() }
            thread.start()
            try Support.export(database, to: archive, ["-j", "2"])
            sampler.stop()
            let exported = try ArchiveReader(path: archive).entries.filter { $0.data != nil }.reduce(0) { $0 + $1.uncompressedSize }
            #expect(exported > 250 * 1024 * 1024, "the tables should be far larger than the chunks")
            let growth = sampler.peak - baseline
            #expect(growth < 48 * 1024 * 1024, "resident memory grew by \(growth >> 20) MiB while exporting \(exported >> 20) MiB")
        }
    }

    @Test("--table, --exclude-table, --schema, --schema-only and --data-only select what pg_dump's options would")
    func selections() throws {
        try TestServer.withScratchDatabase("pgc_select") { database in
            try Support.psql(database, """
                CREATE SCHEMA other;
                CREATE TABLE public.keep (id serial PRIMARY KEY, v text);
                CREATE TABLE public.drop_me (id int);
                CREATE TABLE other.elsewhere (id int);
                CREATE INDEX keep_v ON public.keep (v);
                CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
                INSERT INTO public.keep (v) VALUES ('a'), ('b');
                """)
            func entries(_ arguments: [String]) throws -> [ArchiveEntry] {
                let archive = Support.temporaryPath("select.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(database, to: archive, arguments)
                return try ArchiveReader(path: archive).entries
            }
            func tables(_ list: [ArchiveEntry]) -> Set<String> {
                Set(list.filter { $0.kind == .table }.map { "\($0.schema!).\($0.name)" })
            }

            let onlyKeep = try entries(["-t", "kee*"])
            #expect(tables(onlyKeep) == ["public.keep"])
            #expect(onlyKeep.contains { $0.kind == .index && $0.name == "keep_v" })
            #expect(onlyKeep.contains { $0.kind == .sequence && $0.name == "keep_id_seq" }, "an owned sequence goes with its table")
            #expect(!onlyKeep.contains { $0.kind == .function })

            #expect(tables(try entries(["-T", "public.drop_me"])) == ["public.keep", "other.elsewhere"])
            #expect(tables(try entries(["-n", "other"])) == ["other.elsewhere"])

            let schemaOnly = try entries(["--schema-only"])
            #expect(!schemaOnly.contains { $0.section == .data })
            #expect(tables(schemaOnly).count == 3)

            let dataOnly = try entries(["--data-only"])
            #expect(Set(dataOnly.map(\.kind)) == [.settings, .tableData, .sequenceSet])
            #expect(dataOnly.filter { $0.kind == .tableData }.count == 3)
        }
    }

    // MARK: - Refusals and failures

    @Test("verify rejects a real export with one corrupted byte anywhere, or truncated")
    func verifyRejectsDamagedExports() throws {
        try TestServer.withScratchDatabase("pgc_verify") { database in
            try Support.psql(database, "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g;")
            let archive = Support.temporaryPath("verify.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            try Support.export(database, to: archive)
            let intact = try VerifyCommand.parse([archive, "--quiet"])
            try intact.run()
            try Support.shell("zstd -t -q '\(archive)'")  // stock zstd agrees

            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: archive)))
            let reader = try ArchiveReader(path: archive)
            let data = try #require(reader.entries.first { $0.kind == .tableData })
            let offsets = [5, 20, Int(data.offset!) - 30, Int(data.offset!) + 7, Int(data.offset!) + Int(data.compressedSize) - 1,
                           bytes.count - 200, bytes.count - 80, bytes.count - 40, bytes.count - 1]
            for offset in offsets {
                var damaged = bytes
                damaged[offset] ^= 0x04
                let path = Support.temporaryPath("damaged.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: path) }
                try Data(damaged).write(to: URL(fileURLWithPath: path))
                let command = try VerifyCommand.parse([path, "--quiet"])
                #expect(throws: (any Error).self, "a flipped byte at \(offset) of \(bytes.count) went unnoticed") { try command.run() }
            }
            for length in [bytes.count - 1, bytes.count - 80, bytes.count / 2, 10] {
                let path = Support.temporaryPath("truncated.sql.zst")
                defer { try? FileManager.default.removeItem(atPath: path) }
                try Data(bytes[0..<length]).write(to: URL(fileURLWithPath: path))
                let command = try VerifyCommand.parse([path, "--quiet"])
                #expect(throws: (any Error).self, "truncation to \(length) bytes went unnoticed") { try command.run() }
            }
        }
    }

    // MARK: - The binary

    @Test("pgcellar export -o - streams an archive that verify - and zstd accept; --json summarises; list prints the TOC")
    func commandLine() throws {
        let binary = try Pgcellar.binary()
        try TestServer.withScratchDatabase("pgc_cli") { database in
            try Support.psql(database, "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 3000) g;")
            let conninfo = try Support.shellConninfo(database)
            let verified = try Support.shell("'\(binary)' export -d \(conninfo) -o - --quiet | tee >(zstd -t -q) | '\(binary)' verify -")
            #expect(verified.contains("OK"))
            #expect(verified.contains("3000 rows"))

            let archive = Support.temporaryPath("cli.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let summary = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(database)", "-o", archive, "--json", "-j", "2"])
            #expect(summary.status == 0, "\(summary.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any]
            #expect(json?["rows"] as? Int == 3000)
            #expect(json?["tables"] as? Int == 1)
            #expect((json?["archiveBytes"] as? Int ?? 0) > 0)
            let attributes = try FileManager.default.attributesOfItem(atPath: archive)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let list = try Pgcellar.run(["list", archive])
            #expect(list.status == 0)
            #expect(list.stdout.contains("; data TABLE DATA public t postgres (chunk 1 of 1, 3000 rows)"))

            let refused = try Pgcellar.run(["export", "-d", "host=localhost password=secret dbname=x", "-o", archive])
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("password"))
        }
    }

    // MARK: - One snapshot

    @Test("with -j 3 under concurrent writes, every table comes from the same snapshot")
    func parallelExportIsConsistent() throws {
        try TestServer.withScratchDatabase("pgc_snapshot") { database in
            try Support.psql(database, """
                CREATE TABLE a (id int PRIMARY KEY, filler text);
                CREATE TABLE b (id int PRIMARY KEY, filler text);
                CREATE TABLE c (id int PRIMARY KEY, filler text);
                INSERT INTO a SELECT g, repeat('a', 200) FROM generate_series(1, 50000) g;
                INSERT INTO b SELECT id, filler FROM a;
                INSERT INTO c SELECT id, filler FROM a;
                """)
            let stop = StopFlag()
            let writer = Thread {
                // Each transaction adds the same id to all three tables.
                _ = try? TestServer.withConnection(database: database) { connection in
                    var id = 100_000
                    while !stop.isSet {
                        id += 1
                        try connection.execute("BEGIN; INSERT INTO a VALUES (\(id), 'x'); INSERT INTO b VALUES (\(id), 'x'); INSERT INTO c VALUES (\(id), 'x'); COMMIT;")
                    }
                }
            }
            writer.start()
            let archive = Support.temporaryPath("snapshot.sql.zst")
            defer { try? FileManager.default.removeItem(atPath: archive) }
            Thread.sleep(forTimeInterval: 0.2)
            try Support.export(database, to: archive, ["-j", "3", "--chunk-size", "128K"])
            stop.set()
            Thread.sleep(forTimeInterval: 0.2)
            try TestServer.withScratchDatabase("pgc_snapshot_restored") { restored in
                try Support.restoreWithZstdAndPsql(archive, into: restored)
                try TestServer.withConnection(database: restored) { connection in
                    let counts = try connection.query("SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, (SELECT count(*) FROM c) AS c").first!
                    #expect(try counts.int("a") > 50000, "the writer should have committed during the export")
                    #expect(try counts.int("a") == counts.int("b"))
                    #expect(try counts.int("a") == counts.int("c"))
                    let mismatched = try connection.query("SELECT count(*) AS n FROM a FULL JOIN c USING (id) WHERE a.id IS NULL OR c.id IS NULL").first!.int("n")
                    #expect(mismatched == 0)
                }
            }
        }
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Samples this process's resident memory until stopped.
final class MemorySampler: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var stopped = false
    private var highest = 0

    var peak: Int { lock.withLock { highest } }

    func run() {
        while !lock.withLock({ stopped }) {
            let now = ProcessMemory.residentBytes()
            lock.withLock { highest = max(highest, now) }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func stop() {
        let now = ProcessMemory.residentBytes()
        lock.withLock {
            highest = max(highest, now)
            stopped = true
        }
    }
}
