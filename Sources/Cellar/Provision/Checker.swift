import Foundation
import Logging
import PostgresClient

/// One expectation `check` proves, and what happened.
public struct CheckResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable { case pass, fail, warn }
    public var role: String
    public var expectation: String
    public var outcome: Outcome
    public var detail: String
}

/// Connects as each managed role the way the application will — TLS per
/// `sslmode`, its own password from its Secret — and proves what it may and
/// may not do. Everything it tries runs in a transaction that is rolled back.
public struct Checker {
    public let config: PgcellarConfig
    public let logger: Logger

    public init(config: PgcellarConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() -> [CheckResult] {
        var results: [CheckResult] = []
        for role in config.roles where role.login {
            results += check(role)
        }
        return results
    }

    private func check(_ role: RoleConfig) -> [CheckResult] {
        var results: [CheckResult] = []
        func record(_ expectation: String, _ passed: Bool, _ detail: String = "") {
            results.append(CheckResult(role: role.name, expectation: expectation, outcome: passed ? .pass : .fail, detail: detail))
        }
        guard let secretPath = config.resolvedSecretPath(for: role) else {
            record("has a Secret", false, "no secret section in \(config.source)")
            return results
        }
        let secret: SecretManifest.Parsed
        do {
            guard let loaded = try SecretStore.read(path: secretPath) else {
                record("has a Secret", false, "\(secretPath) does not exist: run pgcellar provision, or pgcellar rotate --role \(role.name)")
                return results
            }
            secret = loaded
        } catch {
            record("has a readable Secret", false, "\(error)")
            return results
        }

        let host = secret.host ?? role.secret?.host ?? config.cluster.host
        let port = secret.port ?? role.secret?.port ?? config.cluster.port
        let sslmode = secret.sslmode ?? role.secret?.sslmode ?? config.cluster.sslmode
        func connect(_ database: String) throws -> Connection {
            try ApplicationLogin.connect(role: role.name, password: secret.password, host: host, port: String(port),
                                         database: database, sslmode: sslmode, config: config,
                                         applicationName: "pgcellar-check", logger: logger)
        }

        let connection: Connection
        do {
            connection = try connect(config.database.name)
        } catch {
            record("CONNECT to \(config.database.name) with the Secret's password", false, "\(error)")
            return results
        }
        defer { connection.close() }
        record("CONNECT to \(config.database.name) with the Secret's password", true, "\(host):\(port)")
        if ApplicationLogin.tlsModes.contains(sslmode) {
            record("connection uses TLS (sslmode=\(sslmode))", ApplicationLogin.usesTLSAsRequired(connection, sslmode: sslmode))
        }

        // Role attributes, from the role's own session.
        if let row = try? connection.query("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user").first {
            record("is not a superuser", (try? row.bool("rolsuper")) == false)
            record("cannot create databases", (try? row.bool("rolcreatedb")) == false)
            record("cannot create roles", (try? row.bool("rolcreaterole")) == false)
        }

        switch role.profile {
        case .owner:
            let outcome = attempt(on: connection, """
                CREATE TABLE public.pgcellar_check (id serial PRIMARY KEY, name varchar(50));
                INSERT INTO public.pgcellar_check (name) VALUES ('test');
                SELECT name FROM public.pgcellar_check;
                DROP TABLE public.pgcellar_check;
                """)
            record("CREATE TABLE, INSERT, SELECT, DROP in schema public", outcome == nil, outcome ?? "rolled back afterwards")
        case .readwrite, .readonly:
            let ddl = attempt(on: connection, "CREATE TABLE public.pgcellar_check (id int)")
            record("cannot CREATE TABLE in schema public", ddl?.contains("permission denied") == true, ddl ?? "CREATE TABLE succeeded")
            let wanted = ProfilePrivileges.tables(role.profile)
            do {
                let rows = try connection.query("""
                    SELECT c.relname,
                           has_table_privilege(c.oid, 'SELECT') AS s, has_table_privilege(c.oid, 'INSERT') AS i,
                           has_table_privilege(c.oid, 'UPDATE') AS u, has_table_privilege(c.oid, 'DELETE') AS d,
                           has_table_privilege(c.oid, 'TRUNCATE') AS t
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
                    """).rows
                var wrong: [String] = []
                for row in rows {
                    let held: [(String, String)] = [("SELECT", "s"), ("INSERT", "i"), ("UPDATE", "u"), ("DELETE", "d"), ("TRUNCATE", "t")]
                    for (privilege, column) in held {
                        let has = (try? row.bool(column)) ?? false
                        if has != wanted.contains(privilege) {
                            wrong.append("\(row["relname"] ?? "?"): \(has ? "has" : "lacks") \(privilege)")
                        }
                    }
                }
                let allowed = PrivilegeOrder.list(wanted)
                record("exactly \(allowed) on the \(rows.count) tables in public", wrong.isEmpty,
                       wrong.isEmpty ? "" : wrong.prefix(5).joined(separator: "; "))
            } catch {
                record("reads its table privileges", false, "\(error)")
            }
        }

        // Isolation: PostgreSQL lets PUBLIC connect to `postgres` by default.
        let other = config.cluster.dbname == config.database.name ? "template1" : config.cluster.dbname
        if let extra = try? connect(other) {
            extra.close()
            results.append(CheckResult(role: role.name, expectation: "cannot connect to other databases", outcome: .warn,
                                       detail: "it can connect to \(other): revoke PUBLIC's CONNECT there (REVOKE CONNECT ON DATABASE \(other) FROM PUBLIC) or restrict it in pg_hba.conf"))
        } else {
            record("cannot connect to other databases (\(other))", true)
        }
        return results
    }

    /// Runs SQL in a transaction that is always rolled back; nil when it
    /// succeeded, else the server's message.
    private func attempt(on connection: Connection, _ sql: String) -> String? {
        do {
            try connection.execute("BEGIN")
            defer { _ = try? connection.execute("ROLLBACK") }
            try connection.execute(sql)
            return nil
        } catch let error as PostgresError {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}

extension Array where Element == CheckResult {
    public var hasFailures: Bool { contains { $0.outcome == .fail } }

    /// A table of expectations and results.
    public func render() -> String {
        let width = Swift.min(70, map { $0.expectation.count }.max() ?? 20)
        var lines: [String] = []
        var lastRole = ""
        for result in self {
            if result.role != lastRole {
                lines.append("role \(result.role)")
                lastRole = result.role
            }
            let label = result.outcome == .pass ? "ok  " : (result.outcome == .warn ? "WARN" : "FAIL")
            let padded = result.expectation.padding(toLength: Swift.max(width, result.expectation.count), withPad: " ", startingAt: 0)
            lines.append("  \(label)  \(padded)\(result.detail.isEmpty ? "" : "  \(result.detail)")")
        }
        let failures = filter { $0.outcome == .fail }.count
        let warnings = filter { $0.outcome == .warn }.count
        lines.append("\(count - failures - warnings) expectations met, \(failures) not met, \(warnings) warning\(warnings == 1 ? "" : "s")")
        return lines.joined(separator: "\n") + "\n"
    }
}
