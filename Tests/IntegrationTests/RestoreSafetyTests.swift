import Foundation
import PostgresClient
import Testing

/// `restore --create` of what a database holds beyond its schema and rows
/// (settings, per-role settings, its ACL), of settings a login role planted,
/// of archives whose roles are missing, and of names with dots: export,
/// verify and restore through the built binary, then compare source and copy.
@Suite("Restore safety", .serialized)
struct RestoreSafetyTests {
    // MARK: - Settings and privileges

    @Test("database settings (search_path = '' among them), per-role settings, the ACL and the comment arrive intact")
    func settingsAndPrivilegesArriveIntact() throws {
        let roles = try Roles(["owner", "tuner", "lead", "app"])
        let source = TestServer.uniqueName("safety_settings_src")
        let copy = TestServer.uniqueName("safety_settings_copy")
        defer {
            dropDatabase(source)
            dropDatabase(copy)
            roles.drop()
        }
        try TestServer.withConnection { admin in
            try admin.execute("CREATE DATABASE \(try admin.escapeIdentifier(source)) OWNER \(try roles.sql("owner"))")
        }
        try TestServer.withConnection(database: source) { connection in
            let database = try connection.escapeIdentifier(source)
            try connection.execute("""
                ALTER DATABASE \(database) SET search_path = '';
                ALTER DATABASE \(database) SET work_mem = '8MB';
                ALTER DATABASE \(database) SET DateStyle = 'SQL, DMY';
                ALTER ROLE \(try roles.sql("tuner")) IN DATABASE \(database) SET statement_timeout = '5s';
                ALTER ROLE \(try roles.sql("tuner")) IN DATABASE \(database) SET search_path = "$user", public, "Odd ""Schema\"\"";
                ALTER ROLE \(try roles.sql("app")) IN DATABASE \(database) SET application_name = 'it''s \\ app';
                REVOKE ALL ON DATABASE \(database) FROM PUBLIC;
                GRANT CONNECT ON DATABASE \(database) TO PUBLIC;
                GRANT CONNECT, TEMPORARY ON DATABASE \(database) TO \(try roles.sql("lead")) WITH GRANT OPTION;
                SET ROLE \(try roles.sql("lead"));
                GRANT CONNECT ON DATABASE \(database) TO \(try roles.sql("app"));
                RESET ROLE;
                COMMENT ON DATABASE \(database) IS 'settings, grants; and a comment';
                CREATE TABLE public.readings (id int PRIMARY KEY, taken timestamptz NOT NULL, value numeric);
                INSERT INTO public.readings SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute', g / 7.0 FROM generate_series(1, 5000) g;
                """)
        }

        let restore = try Self.exportVerifyRestore(source, into: copy)
        try #require(restore.status == 0, "restore failed: \(restore.stderr)")
        try Self.expectSameDatabase(source, copy)
        #expect(try Self.databaseProperties(copy) == Self.databaseProperties(source))
        // The grant by a grantor other than the owner kept its grantor.
        #expect(try Self.databaseProperties(copy).acl.contains("\(roles["app"])=c/\(roles["lead"])"))
    }

    @Test("a login role's planted per-database setting does not run at restore, and arrives as stored")
    func plantedSettingDoesNotRun() throws {
        let roles = try Roles(["owner"])
        let attacker = try TestLoginRole(prefix: "safety_attacker", attributes: "")
        let evil = TestServer.uniqueName("pgc_evil")
        let source = TestServer.uniqueName("safety_planted_src")
        let copy = TestServer.uniqueName("safety_planted_copy")
        defer {
            dropDatabase(source)
            dropDatabase(copy)
            attacker.drop()
            _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(evil))") }
            roles.drop()
        }
        try TestServer.withConnection { admin in
            try admin.execute("CREATE DATABASE \(try admin.escapeIdentifier(source)) OWNER \(try roles.sql("owner"))")
        }
        try TestServer.withConnection(database: source) {
            try $0.execute("CREATE TABLE public.notes (id int PRIMARY KEY, body text); INSERT INTO public.notes VALUES (1, 'one'), (2, 'two')")
        }
        // What any role with CONNECT may do: set its own per-database
        // setting FROM CURRENT, after set_config stored a value that is SQL
        // once pasted unquoted (no spaces: the list syntax check refuses them).
        let payload = "x;CREATE/**/ROLE/**/\(evil)/**/SUPERUSER;--"
        let planted = try ConnectionTarget(TestServer.conninfo(user: attacker.name, database: source))
            .overriding("password", attacker.password).connect()
        defer { planted.close() }
        try planted.execute("SELECT pg_catalog.set_config('search_path', $1, false)", [payload])
        try planted.execute("ALTER ROLE \(try planted.escapeIdentifier(attacker.name)) IN DATABASE \(try planted.escapeIdentifier(source)) SET search_path FROM CURRENT")
        planted.close()
        let stored = try Self.databaseProperties(source).settings
        try #require(stored == ["\(attacker.name): search_path=\(payload)"], "the plant did not take: \(stored)")

        let logStart = try TestServer.serverLogOffset()
        let restore = try Self.exportVerifyRestore(source, into: copy, jobs: 2)
        try #require(restore.status == 0, "restore failed: \(restore.stderr)")

        let evilExists = try TestServer.withConnection {
            try $0.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [evil]).rowCount > 0
        }
        #expect(!evilExists, "the planted CREATE ROLE ran")
        // The payload reached the server only as a bound value, never as statement text.
        let log = try TestServer.serverLog(since: logStart)
        let asStatement = log.split(separator: "\n").filter { $0.contains(evil) && !$0.contains("parameters:") }
        #expect(asStatement.isEmpty, "the payload appears as SQL text in the server log:\n\(asStatement.joined(separator: "\n"))")
        #expect(log.contains("SET \"search_path\" FROM CURRENT"), "the setting was not replayed exactly")
        #expect(try Self.databaseProperties(copy).settings == stored)
        try Self.expectSameDatabase(source, copy)
    }

    // MARK: - Missing roles

    @Test("roles that the database's ACL and per-role settings name are checked before the database is created")
    func missingDatabaseRolesStopBeforeCreate() throws {
        let roles = try Roles(["owner", "reader", "tuner"])
        let source = TestServer.uniqueName("safety_roles_src")
        let copy = TestServer.uniqueName("safety_roles_copy")
        let archive = ExportTestSupport.temporaryPath("\(source).sql.zst")
        defer {
            dropDatabase(source)
            dropDatabase(copy)
            try? FileManager.default.removeItem(atPath: archive)
            roles.drop()
        }
        try TestServer.withConnection { admin in
            try admin.execute("CREATE DATABASE \(try admin.escapeIdentifier(source)) OWNER \(try roles.sql("owner"))")
        }
        try TestServer.withConnection(database: source) { connection in
            let database = try connection.escapeIdentifier(source)
            try connection.execute("""
                GRANT CONNECT ON DATABASE \(database) TO \(try roles.sql("reader"));
                ALTER ROLE \(try roles.sql("tuner")) IN DATABASE \(database) SET work_mem = '4MB';
                CREATE TABLE public.items (id int PRIMARY KEY);
                INSERT INTO public.items SELECT generate_series(1, 100);
                """)
        }
        try Self.exportAndVerify(source, to: archive)
        let expectedSchema = try ExportTestSupport.schemaDump(source)
        let expectedRows = try ExportTestSupport.dataChecksums(source)
        let expectedProperties = try Self.databaseProperties(source)
        dropDatabase(source)
        try TestServer.withConnection { admin in
            try admin.execute("DROP ROLE \(try roles.sql("reader")); DROP ROLE \(try roles.sql("tuner"))")
        }

        let logStart = try TestServer.serverLogOffset()
        let refused = try Self.restore(archive, into: copy)
        #expect(refused.status == 1)
        for role in [roles["reader"], roles["tuner"]] { #expect(refused.stderr.contains(role), "\(refused.stderr)") }
        #expect(refused.stderr.contains("privileges on the database (or restore with --no-privileges)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("settings of its own in the database"), "\(refused.stderr)")
        #expect(refused.stderr.contains("Create them first"), "\(refused.stderr)")
        #expect(try databaseExists(copy) == false)
        #expect(!(try TestServer.serverLog(since: logStart)).contains("CREATE DATABASE \"\(copy)\""), "the refused restore created the database first")

        // With the roles back, the same archive restores completely.
        try TestServer.withConnection { admin in
            try admin.execute("CREATE ROLE \(try roles.sql("reader")) NOLOGIN; CREATE ROLE \(try roles.sql("tuner")) NOLOGIN")
        }
        let restored = try Self.restore(archive, into: copy)
        try #require(restored.status == 0, "\(restored.stderr)")
        #expect(try ExportTestSupport.schemaDump(copy) == expectedSchema)
        #expect(try ExportTestSupport.dataChecksums(copy) == expectedRows)
        #expect(try Self.databaseProperties(copy) == expectedProperties)
    }

    // MARK: - Names with dots

    struct DottedCase: CustomTestStringConvertible, Sendable {
        var fromStdin: Bool
        var testDescription: String { fromStdin ? "from stdin" : "from a file" }
    }

    @Test("schemas and tables whose names hold dots, and collide as text, restore with -j 2",
          arguments: [DottedCase(fromStdin: false), DottedCase(fromStdin: true)])
    func dottedNames(_ testCase: DottedCase) throws {
        let source = TestServer.uniqueName("safety_dots_src")
        let copy = TestServer.uniqueName("safety_dots_copy")
        defer {
            dropDatabase(source)
            dropDatabase(copy)
        }
        try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(source))") }
        try TestServer.withConnection(database: source) { connection in
            try connection.execute("""
                CREATE SCHEMA "a";
                CREATE SCHEMA "a.b";
                CREATE TABLE "a"."b.c" (id serial PRIMARY KEY, label text NOT NULL);
                CREATE TABLE "a.b"."c" (id serial PRIMARY KEY, label text NOT NULL, other int REFERENCES "a"."b.c");
                CREATE TABLE "a.b"."c.d" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
                CREATE INDEX "c.d label" ON "a.b"."c.d" (note);
                INSERT INTO "a"."b.c" (label) SELECT 'first ' || g || repeat('.', 40) FROM generate_series(1, 3000) g;
                INSERT INTO "a.b"."c" (label, other) SELECT 'second ' || g || repeat('.', 40), 1 + g % 3000 FROM generate_series(1, 2000) g;
                INSERT INTO "a.b"."c.d" (note) SELECT repeat('x', 20 + g % 50) FROM generate_series(1, 4000) g;
                """)
        }
        let restore = try Self.exportVerifyRestore(source, into: copy, jobs: 2, fromStdin: testCase.fromStdin)
        try #require(restore.status == 0, "restore failed: \(restore.stderr)")
        try Self.expectSameDatabase(source, copy)
        let summary = try JSONSerialization.jsonObject(with: Data(restore.stdout.utf8)) as? [String: Any]
        #expect(summary?["tables"] as? Int == 3, "\(restore.stdout)")
        #expect(summary?["rows"] as? Int == 9000, "\(restore.stdout)")
        // Each table (each above RestorePlan.analyzeMinimumBytes) was analyzed under its own name.
        let analyzed = try TestServer.withConnection(database: copy) { connection in
            try connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_catalog.pg_class c
                  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND n.nspname IN ('a', 'a.b')
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_statistic s WHERE s.starelid = c.oid)
                """).rows.compactMap { $0["name"] }
        }
        #expect(Set(analyzed) == ["a.\"b.c\"", "\"a.b\".c", "\"a.b\".\"c.d\""])
    }

    // MARK: - Helpers

    /// Roles made for one test, with unique names, dropped after it.
    struct Roles {
        private let names: [String: String]

        init(_ keys: [String]) throws {
            var names: [String: String] = [:]
            for key in keys { names[key] = TestServer.uniqueName("safety_\(key)") }
            self.names = names
            try TestServer.withConnection { admin in
                for name in names.values { try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(name)) NOLOGIN") }
            }
        }

        subscript(key: String) -> String { names[key]! }

        func sql(_ key: String) throws -> String { try SQLQuoting.identifier(self[key]) }

        func drop() {
            for name in names.values {
                _ = try? TestServer.withConnection { try $0.execute("DROP ROLE IF EXISTS \(try $0.escapeIdentifier(name))") }
            }
        }
    }

    static func exportAndVerify(_ database: String, to archive: String) throws {
        let export = try Pgcellar.run(["export", "-d", TestServer.conninfo(user: RestoreSources.user, database: database),
                                       "-o", archive, "-j", "2", "--chunk-size", "65536", "--quiet"])
        try #require(export.status == 0, "export failed: \(export.stderr)")
        let verify = try Pgcellar.run(["verify", archive])
        try #require(verify.status == 0, "verify failed: \(verify.stderr)")
    }

    static func restore(_ archive: String, into database: String, jobs: Int = 1, fromStdin: Bool = false) throws -> Pgcellar.Output {
        let arguments = ["restore", fromStdin ? "-" : archive, "--create", "-j", String(jobs), "--json",
                         "--dbname", TestServer.conninfo(user: RestoreSources.user, database: database)]
        return try Pgcellar.run(arguments, stdin: fromStdin ? try Data(contentsOf: URL(fileURLWithPath: archive)) : nil)
    }

    /// export -> verify -> restore --create, the archive removed after.
    static func exportVerifyRestore(_ source: String, into copy: String, jobs: Int = 1, fromStdin: Bool = false) throws -> Pgcellar.Output {
        let archive = ExportTestSupport.temporaryPath("\(source).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try exportAndVerify(source, to: archive)
        return try restore(archive, into: copy, jobs: jobs, fromStdin: fromStdin)
    }

    /// pg_dump --schema-only of both, every table's rows and every sequence's value.
    static func expectSameDatabase(_ source: String, _ copy: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expectedSchema = try ExportTestSupport.schemaDump(source), restoredSchema = try ExportTestSupport.schemaDump(copy)
        #expect(expectedSchema == restoredSchema, "pg_dump --schema-only differs:\n\(briefDiff(expectedSchema, restoredSchema))",
                sourceLocation: sourceLocation)
        let expectedRows = try ExportTestSupport.dataChecksums(source), restoredRows = try ExportTestSupport.dataChecksums(copy)
        #expect(!expectedRows.isEmpty, sourceLocation: sourceLocation)
        #expect(expectedRows == restoredRows, "rows differ:\nsource   \(expectedRows)\nrestored \(restoredRows)", sourceLocation: sourceLocation)
        let expected = try DatabaseFingerprint.of(source), restored = try DatabaseFingerprint.of(copy)
        #expect(expected.sequences == restored.sequences, "sequence values differ:\nsource   \(expected.sequences)\nrestored \(restored.sequences)",
                sourceLocation: sourceLocation)
    }

    /// What pg_dump --schema-only leaves out: the database's settings
    /// (`role: name=value`, sorted), ACL, owner and comment.
    struct DatabaseProperties: Equatable {
        var settings: [String]
        var acl: String
        var owner: String
        var comment: String
    }

    static func databaseProperties(_ database: String) throws -> DatabaseProperties {
        try TestServer.withConnection { connection in
            let settings = try connection.query("""
                SELECT coalesce(r.rolname, '-') || ': ' || c.item AS setting
                  FROM pg_catalog.pg_db_role_setting s
                  JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
                  LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
                 CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS c(item, n)
                 WHERE d.datname = $1
                 ORDER BY coalesce(r.rolname, '-'), c.n
                """, [database]).rows.compactMap { $0["setting"] }
            let row = try connection.query("""
                SELECT coalesce(d.datacl::text, 'default') AS acl, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
                       coalesce(pg_catalog.shobj_description(d.oid, 'pg_database'), '') AS comment
                  FROM pg_catalog.pg_database d WHERE d.datname = $1
                """, [database]).first
            return DatabaseProperties(settings: settings, acl: row?["acl"] ?? "?", owner: row?["owner"] ?? "?", comment: row?["comment"] ?? "?")
        }
    }
}
