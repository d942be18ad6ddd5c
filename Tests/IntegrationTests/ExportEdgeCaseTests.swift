import Cellar
import Foundation
import PostgresClient
import Testing

/// Legal schemas that pg_dump handles and an export must too (issue #9):
/// each is exported, verified and restored with `pgcellar restore --create -j 2`
/// through the built binary, and the copy must match the source.
@Suite("ExportEdge", .serialized)
struct ExportEdgeCaseTests {
    typealias Support = ExportTestSupport

    /// What a round trip produced, for checks beyond the comparison.
    struct RoundTrip {
        var exportOutput: Pgcellar.Output
        var header: ArchiveHeader
        var restored: String
    }

    /// Exports `source` with the binary, verifies the archive, restores it
    /// into a new database with `restore --create -j 2`, and expects the same
    /// `pg_dump --schema-only` and the same rows in every table.
    /// `dropFromSource` runs on the source after the export, before the
    /// comparison: SQL that drops what the export is expected to leave out.
    /// The restored database is dropped after `inspect`.
    @discardableResult
    static func roundTrip(_ source: String, exportArguments: [String] = [], dropFromSource: String? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          inspect: (RoundTrip) throws -> Void = { _ in }) throws -> RoundTrip {
        let archive = Support.temporaryPath("\(source).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let exported = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive, "-j", "2"] + exportArguments)
        try #require(exported.status == 0, "export failed: \(exported.stderr)", sourceLocation: sourceLocation)
        let verified = try Pgcellar.run(["verify", archive])
        try #require(verified.status == 0, "verify failed: \(verified.stderr)", sourceLocation: sourceLocation)

        let target = TestServer.uniqueName("edge_restored")
        defer { dropDatabase(target) }
        let restored = try Pgcellar.run(["restore", archive, "--create", "-j", "2",
                                         "--dbname", TestServer.conninfo(user: RestoreSources.user, database: target)])
        try #require(restored.status == 0, "restore failed: \(restored.stderr)", sourceLocation: sourceLocation)

        if let dropFromSource { try Support.psql(source, dropFromSource) }
        let expectedSchema = try Support.schemaDump(source), restoredSchema = try Support.schemaDump(target)
        #expect(expectedSchema == restoredSchema, "pg_dump --schema-only differs:\n\(briefDiff(expectedSchema, restoredSchema))",
                sourceLocation: sourceLocation)
        let expected = try DatabaseFingerprint.of(source), actual = try DatabaseFingerprint.of(target)
        #expect(!expected.tables.isEmpty, sourceLocation: sourceLocation)
        #expect(expected.tables == actual.tables, "table checksums differ:\nsource   \(expected)\nrestored \(actual)", sourceLocation: sourceLocation)
        #expect(expected.sequences == actual.sequences, sourceLocation: sourceLocation)
        let result = RoundTrip(exportOutput: exported, header: try ArchiveReader(path: archive).header, restored: target)
        try inspect(result)
        return result
    }

    static func count(_ database: String, _ sql: String, _ parameters: [String?] = []) throws -> Int {
        try TestServer.withConnection(database: database) { try $0.query(sql, parameters).first?.int("n") ?? -1 }
    }

    // MARK: - Tables without columns

    @Test("a table with no columns, and one whose columns were all dropped, round-trip with their rows")
    func tablesWithoutColumns() throws {
        try TestServer.withScratchDatabase("edge_nocolumns") { database in
            try Support.psql(database, """
                CREATE TABLE z ();
                INSERT INTO z DEFAULT VALUES;
                INSERT INTO z DEFAULT VALUES;
                INSERT INTO z DEFAULT VALUES;
                CREATE TABLE was_wide (a int, b text);
                INSERT INTO was_wide SELECT g, 'x' FROM generate_series(1, 5) g;
                ALTER TABLE was_wide DROP COLUMN a;
                ALTER TABLE was_wide DROP COLUMN b;
                CREATE TABLE "Empty Too" ();
                CREATE TABLE normal (id int PRIMARY KEY);
                INSERT INTO normal VALUES (1);
                """)
            try Self.roundTrip(database) { result throws in
                #expect(try Self.count(result.restored, "SELECT count(*) AS n FROM z") == 3)
                #expect(try Self.count(result.restored, "SELECT count(*) AS n FROM was_wide") == 5)
                #expect(try Self.count(result.restored, "SELECT count(*) AS n FROM \"Empty Too\"") == 0)
            }
        }
    }

    // MARK: - Partitions

    @Test("partitions get their parents' CHECK constraints: NOT NULL, several levels, local extras, NOT VALID")
    func partitionsWithCheckConstraints() throws {
        try TestServer.withScratchDatabase("edge_partchecks") { database in
            try Support.psql(database, """
                CREATE TABLE measurements (
                    id int NOT NULL,
                    at date NOT NULL,
                    value numeric CONSTRAINT value_positive CHECK (value > 0),
                    note text,
                    CONSTRAINT "Sane Dates" CHECK (at > date '2000-01-01')
                ) PARTITION BY RANGE (at);
                CREATE TABLE measurements_2023 PARTITION OF measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
                -- attached after the fact, with the parent's constraints and one of its own
                CREATE TABLE measurements_2024 (
                    id int NOT NULL, at date NOT NULL, value numeric, note text NOT NULL,
                    CONSTRAINT value_positive CHECK (value > 0),
                    CONSTRAINT "Sane Dates" CHECK (at > date '2000-01-01'),
                    CONSTRAINT note_short CHECK (length(note) < 100));
                ALTER TABLE measurements ATTACH PARTITION measurements_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                -- a partition that is itself partitioned, with a local CHECK its partitions inherit
                CREATE TABLE measurements_2025 PARTITION OF measurements (CONSTRAINT small_ids CHECK (id < 1000000))
                    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (id);
                CREATE TABLE measurements_2025_low PARTITION OF measurements_2025 FOR VALUES IN (1, 2, 3);
                CREATE TABLE measurements_2025_rest PARTITION OF measurements_2025 DEFAULT;
                ALTER TABLE measurements_2025_rest ADD CONSTRAINT rest_id_positive CHECK (id > 0);
                INSERT INTO measurements VALUES (1, '2023-03-01', 1.5, 'a'), (2, '2024-03-01', 2.5, 'b'),
                                                (3, '2025-03-01', 3.5, NULL), (40, '2025-04-01', 4.5, 'd');
                -- added later, not validated: restored after the data, reaching every partition
                ALTER TABLE measurements ADD CONSTRAINT id_small CHECK (id < 100) NOT VALID;
                -- and old-style inheritance beside it
                CREATE TABLE animals (name text NOT NULL, legs int CONSTRAINT legs_sane CHECK (legs >= 0));
                CREATE TABLE birds (wingspan numeric) INHERITS (animals);
                ALTER TABLE animals ADD CONSTRAINT named CHECK (name <> '') NOT VALID;
                INSERT INTO birds VALUES ('robin', 2, 0.3);
                """)
            try Self.roundTrip(database) { result throws in
                let inherited = try Self.count(result.restored, """
                    SELECT count(*) AS n FROM pg_constraint
                    WHERE conname IN ('value_positive', 'Sane Dates', 'id_small') AND conrelid = 'measurements_2025_low'::regclass
                    """)
                #expect(inherited == 3, "a second-level partition should carry its ancestors' checks")
                #expect(try Self.count(result.restored, "SELECT count(*) AS n FROM measurements") == 4)
            }
        }
    }

    // MARK: - Invalid indexes

    @Test("an index a failed CREATE INDEX CONCURRENTLY left invalid is skipped with a warning; a partitioned table's invalid index is kept")
    func invalidIndexesAreSkipped() throws {
        try TestServer.withScratchDatabase("edge_invalididx") { database in
            try Support.psql(database, """
                CREATE TABLE accounts (id int PRIMARY KEY, email text);
                INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'a@example.com'), (3, 'b@example.com');
                CREATE INDEX accounts_email_plain ON accounts (email);
                CREATE TABLE events (id int, kind text) PARTITION BY LIST (kind);
                CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
                CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
                INSERT INTO events VALUES (1, 'a'), (2, 'b');
                -- on the parent only, one partition's index attached: the parent's stays invalid
                CREATE INDEX events_id ON ONLY events (id);
                CREATE INDEX events_a_id ON events_a (id);
                ALTER INDEX events_id ATTACH PARTITION events_a_id;
                CREATE INDEX events_b_id ON events_b (id);
                """)
            // CONCURRENTLY cannot run in a transaction block: one statement on its own connection.
            try TestServer.withConnection(database: database) { connection in
                #expect(throws: PostgresError.self) {
                    try connection.execute("CREATE UNIQUE INDEX CONCURRENTLY accounts_email_unique ON accounts (email)")
                }
            }
            let validity = """
                SELECT count(*) AS n FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid
                """
            #expect(try Self.count(database, validity, ["accounts_email_unique"]) == 1, "the failed build should leave an invalid index")
            #expect(try Self.count(database, validity, ["events_id"]) == 1)

            // pg_dump 15 itself leaves out invalid indexes (but keeps a partitioned
            // table's), so the two schema dumps compare directly.
            try Self.roundTrip(database) { result throws in
                #expect(result.exportOutput.stderr.contains("skipping index public.accounts_email_unique"), "\(result.exportOutput.stderr)")
                #expect(!result.exportOutput.stderr.contains("events_id"), "\(result.exportOutput.stderr)")
                let exists = "SELECT count(*) AS n FROM pg_class WHERE oid = to_regclass($1)"
                #expect(try Self.count(result.restored, exists, ["accounts_email_unique"]) == 0)
                #expect(try Self.count(result.restored, exists, ["accounts_email_plain"]) == 1)
                #expect(try Self.count(result.restored, validity, ["events_id"]) == 1, "the partitioned index stays, still invalid")
                #expect(try Self.count(result.restored, exists, ["events_b_id"]) == 1)
            }
        }
    }

    // MARK: - Role names that need quoting

    @Test("roles whose names need quoting are recorded raw and quoted only in SQL: owners, grants, grantors, policies, default privileges")
    func rolesNeedingQuotes() throws {
        let suffix = UInt32.random(in: 0...UInt32.max)
        let reporting = "Reporting_\(suffix)", readers = "read only Users \(suffix)", quote = "we\"ird \(suffix)"
        try TestServer.withScratchDatabase("edge_roles") { database in
            try TestServer.withConnection { connection in
                for role in [reporting, readers, quote] {
                    try connection.execute("CREATE ROLE \(try connection.escapeIdentifier(role)) NOLOGIN")
                }
            }
            defer {
                _ = try? TestServer.withConnection { connection in
                    for role in [reporting, readers, quote] {
                        try connection.execute("DROP ROLE IF EXISTS \(try connection.escapeIdentifier(role))")
                    }
                }
            }
            let (r, u, q) = (try SQLQuoting.identifier(reporting), try SQLQuoting.identifier(readers), try SQLQuoting.identifier(quote))
            try Support.psql(database, """
                CREATE SCHEMA sales AUTHORIZATION \(r);
                CREATE TABLE sales.orders (id int PRIMARY KEY, region text, amount numeric);
                ALTER TABLE sales.orders OWNER TO \(r);
                INSERT INTO sales.orders VALUES (1, 'north', 10), (2, 'south', 20);
                ALTER TABLE sales.orders ENABLE ROW LEVEL SECURITY;
                CREATE POLICY north_only ON sales.orders FOR SELECT TO \(r), \(u) USING (region = 'north');
                CREATE POLICY positive ON sales.orders TO \(q) USING (amount > 0);
                CREATE POLICY everyone ON sales.orders FOR UPDATE USING (true);
                GRANT USAGE ON SCHEMA sales TO \(u);
                GRANT SELECT ON sales.orders TO \(u) WITH GRANT OPTION;
                GRANT UPDATE (amount) ON sales.orders TO \(q);
                SET ROLE \(u);
                GRANT SELECT ON sales.orders TO \(q);
                RESET ROLE;
                CREATE FUNCTION sales.total() RETURNS numeric LANGUAGE sql AS 'SELECT 1';
                ALTER FUNCTION sales.total() OWNER TO \(q);
                REVOKE EXECUTE ON FUNCTION sales.total() FROM PUBLIC;
                GRANT EXECUTE ON FUNCTION sales.total() TO \(u);
                ALTER DEFAULT PRIVILEGES FOR ROLE \(r) IN SCHEMA sales GRANT SELECT ON TABLES TO \(u);
                ALTER DEFAULT PRIVILEGES FOR ROLE \(q) REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
                """)
            try Self.roundTrip(database) { result throws in
                let roles = Dictionary(uniqueKeysWithValues: result.header.roles.map { ($0.name, Set($0.referencedAs)) })
                #expect(roles[reporting]?.contains("owner") == true, "\(roles)")
                #expect(roles[readers]?.contains("grantee") == true, "\(roles)")
                #expect(roles[readers]?.contains("grantor") == true, "\(roles)")
                #expect(roles[quote]?.contains("owner") == true, "\(roles)")
                #expect(roles[quote]?.contains("grantee") == true, "\(roles)")
                let quoted = roles.keys.filter { $0.hasPrefix("\"") }
                #expect(quoted.isEmpty, "role names recorded quoted: \(quoted)")
                let policyRoles = try TestServer.withConnection(database: result.restored) { connection in
                    try connection.query("SELECT array_to_string(roles, ',') AS r FROM pg_policies WHERE policyname = 'north_only'").first?["r"]
                }
                #expect(policyRoles?.contains(reporting) == true)
            }
        }
    }

    // MARK: - --exclude-unsupported and what depends on it

    @Test("a chunk closes before a row would take it past --chunk-size: only a single row makes a larger frame")
    func chunksStayUnderTheChunkSize() throws {
        try TestServer.withScratchDatabase("pgc_chunks") { database in
            // Rows of 20 KiB under a 64 KiB chunk size: before, a chunk could
            // reach 64 KiB plus a whole row. One 200 KiB row must still fit.
            try Support.psql(database, """
                CREATE TABLE wide (id int, v text);
                INSERT INTO wide SELECT g, repeat(md5(g::text), 640) FROM generate_series(1, 60) g;
                INSERT INTO wide VALUES (61, repeat('y', 200 * 1024));
                """)
            try Self.roundTrip(database, exportArguments: ["--chunk-size", "64K"]) { result in
                let archive = Support.temporaryPath("chunks.pgcellar")
                defer { try? FileManager.default.removeItem(atPath: archive) }
                try Support.export(database, to: archive, ["--chunk-size", "64K"])
                let chunks = try ArchiveReader(path: archive).entries.filter { $0.data != nil }
                #expect(chunks.count > 20)
                for chunk in chunks where (chunk.data?.rows ?? 0) > 1 {
                    // The COPY statement and the end-of-data line come on top of the rows.
                    #expect(chunk.uncompressedSize <= 64 * 1024 + 200, "\(chunk.displayName) holds \(chunk.uncompressedSize) bytes")
                }
                #expect(chunks.contains { $0.data?.rows == 1 && $0.uncompressedSize > 200 * 1024 })
            }
        }
    }

    @Test("a serial column's sequence, owned with its table by a role that is not the restoring user, restores")
    func serialOwnedByAnotherRole() throws {
        let role = TestServer.uniqueName("pgc_seqowner")
        _ = try TestServer.withConnection { try $0.execute("CREATE ROLE \(role)") }
        defer { _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(role)") } }
        try TestServer.withScratchDatabase("pgc_seqowner") { database in
            // The drill found it: OWNED BY ran before the table's OWNER, and
            // PostgreSQL wants a linked sequence's owner to be its table's.
            try Support.psql(database, """
                CREATE TABLE breweries (id serial PRIMARY KEY, name text NOT NULL);
                INSERT INTO breweries (name) VALUES ('Hoppy'), ('Malty');
                ALTER TABLE breweries OWNER TO \(role);
                """)
            try Self.roundTrip(database) { result throws in
                #expect(try Self.count(result.restored, "SELECT count(*) AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.relname IN ('breweries', 'breweries_id_seq') AND r.rolname = '\(role)'") == 2)
            }
            _ = try TestServer.withConnection(database: database) { try $0.execute("DROP TABLE breweries") }
        }
    }

    @Test("an inheritance child's generated column that its parent generates restores (PostgreSQL's regression database has one)")
    func inheritedGeneratedColumn() throws {
        try TestServer.withScratchDatabase("pgc_gen_inherit") { database in
            try Support.psql(database, """
                CREATE TABLE gparent (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
                CREATE TABLE gchild (a int NOT NULL, b int GENERATED ALWAYS AS (a * 2) STORED);
                ALTER TABLE gchild INHERIT gparent;
                INSERT INTO gchild (a) VALUES (1), (2);
                INSERT INTO gparent (a) VALUES (5);
                """)
            try Self.roundTrip(database) { result throws in
                #expect(try Self.count(result.restored, "SELECT sum(b) AS n FROM gparent") == 16)
            }
        }
    }
}
