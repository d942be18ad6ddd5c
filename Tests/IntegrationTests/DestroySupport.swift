#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Cellar
import Foundation
import PostgresClient
import Testing

/// A provisioned database with rows, and an ACL with more than provision
/// writes: a grantee with the grant option, a grant made by that grantee
/// (grantor other than the owner), and a login role outside the
/// configuration that destroy does not drop.
struct DestroyScene {
    let fixture: ProvisionFixture
    /// Holds CONNECT WITH GRANT OPTION from the owner.
    let delegate: String
    /// Holds CONNECT granted by `delegate`.
    let delegated: String
    /// A login role with CONNECT from the owner; not managed, never dropped.
    let reader: TestLoginRole
    let exportPath: String

    init(_ prefix: String) throws {
        fixture = try ProvisionFixture(prefix: prefix)
        _ = try fixture.provisioner().apply()
        delegate = TestServer.uniqueName("\(prefix)_dlg")
        delegated = TestServer.uniqueName("\(prefix)_dlgd")
        reader = try TestLoginRole(prefix: "\(prefix)_rdr", attributes: "")
        exportPath = fixture.directory + "/export.sql.zst"
        let owner = try fixture.connect(as: fixture.owner)
        defer { owner.close() }
        try owner.execute("""
            CREATE TABLE public.beers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, abv numeric(4,2));
            INSERT INTO public.beers (name, abv) SELECT 'beer ' || g, (g % 120) / 10.0 FROM generate_series(1, 5000) g;
            CREATE INDEX beers_name_idx ON public.beers (name);
            """)
        let (database, delegate, delegated, reader) = (fixture.database, delegate, delegated, reader.name)
        try TestServer.withConnection { admin in
            let db = try admin.escapeIdentifier(database)
            try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(delegate)) NOLOGIN")
            try admin.execute("CREATE ROLE \(try admin.escapeIdentifier(delegated)) NOLOGIN")
            try admin.execute("GRANT CONNECT ON DATABASE \(db) TO \(try admin.escapeIdentifier(delegate)) WITH GRANT OPTION")
            try admin.execute("GRANT CONNECT ON DATABASE \(db) TO \(try admin.escapeIdentifier(reader))")
            try admin.execute("SET ROLE \(try admin.escapeIdentifier(delegate))")
            try admin.execute("GRANT CONNECT ON DATABASE \(db) TO \(try admin.escapeIdentifier(delegated))")
            try admin.execute("RESET ROLE")
        }
    }

    var database: String { fixture.database }

    func cleanUp() {
        fixture.cleanUp()
        _ = try? TestServer.withConnection { admin in
            for role in [delegate, delegated] { try admin.execute("DROP ROLE IF EXISTS \(try admin.escapeIdentifier(role))") }
        }
        reader.drop()
    }

    /// `datacl` as text and `datallowconn`; nil when the database is gone.
    func state() throws -> (acl: String?, allowConnections: Bool)? {
        try TestServer.withConnection { admin in
            try admin.query("SELECT datacl::text AS acl, datallowconn::text AS allow FROM pg_database WHERE datname = $1", [database]).first
                .map { ($0["acl"], $0["allow"] == "true") }
        }
    }

    /// Whether `role` holds CONNECT on the database, as the server says.
    func mayConnect(_ role: String, database: String? = nil) throws -> Bool {
        try TestServer.withConnection { admin in
            try admin.query("SELECT has_database_privilege($1, $2, 'CONNECT')::text AS ok", [role, database ?? self.database]).first?["ok"] == "true"
        }
    }

    var journalPath: String { DestroyJournal.path(forExport: exportPath) }

    /// The `.tmp` files AtomicFileWriter leaves beside the export.
    func temporaryFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture.directory)) ?? [])
            .filter { $0.hasPrefix(".export.sql.zst.") && $0.hasSuffix(".tmp") }
    }

    /// Starts `pgcellar destroy --yes --no-drill` in the background, paused at `point`.
    func startDestroy(pauseAt point: String, extra: [String] = []) throws -> RotationTests.Running {
        try RotationTests.Running(
            arguments: ["destroy", "-c", fixture.configPath, "--export-to", exportPath, "--yes", "--no-drill", "-j", "2"] + extra,
            environment: [RotationPauseHook.environmentVariable: point])
    }
}

extension RotationTests.Running {
    /// Waits for the pause marker of `point`; false (with stderr recorded) when it never came.
    func waitForPause(_ point: String) -> Bool {
        waitForStderr(RotationPauseHook.marker + point)
    }

    /// Sends `signal` and waits for the process to end; after two minutes it
    /// is killed and the test records that it hung.
    func signalAndWait(_ number: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        kill(process.processIdentifier, number)
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            Issue.record("pgcellar did not end within 120 s of signal \(number); killed", sourceLocation: sourceLocation)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }
}
