import Cellar
import Foundation
import Testing

/// The planner decides everything provision writes; these tests pin its SQL
/// without a server.
@Suite("provision planner")
struct PlannerTests {
    static let config = PgcellarConfig(
        cluster: ClusterConfig(host: "db", user: "postgres"),
        database: DatabaseConfig(name: "beersystem_stage", owner: "beersystem_admin", locale: "en_US.UTF-8"),
        roles: [
            RoleConfig(name: "beersystem_admin", profile: .owner,
                       secret: SecretConfig(name: "s-admin", namespace: "beer", file: "deploy/admin.yaml")),
            RoleConfig(name: "beersystem_ro", profile: .readonly,
                       secret: SecretConfig(name: "s-ro", namespace: "beer", file: "deploy/ro.yaml")),
        ],
        baseDirectory: "/etc/pgcellar")

    static let superuser = ClusterState.Admin(name: "postgres", superuser: true, createDatabase: true, createRole: true)

    static func grants(_ pairs: [(String, String)]) -> Set<ClusterState.Grant> {
        Set(pairs.map { ClusterState.Grant(grantee: $0.0, privilege: $0.1) })
    }

    /// The catalogs of a cluster that provision has already converged.
    static var converged: ClusterState {
        let owner = "beersystem_admin", ro = "beersystem_ro"
        return ClusterState(
            admin: superuser,
            roles: [owner: .init(name: owner, canLogin: true), ro: .init(name: ro, canLogin: true)],
            database: .init(owner: owner, encoding: "UTF8", collate: "en_US.utf8", ctype: "en_US.utf8",
                            grants: grants([(owner, "CONNECT"), (owner, "CREATE"), (owner, "TEMPORARY"), (ro, "CONNECT")])),
            contents: .init(
                schemaGrants: grants([("pg_database_owner", "USAGE"), ("pg_database_owner", "CREATE"), ("", "USAGE"),
                                      (owner, "USAGE"), (owner, "CREATE"), (ro, "USAGE")]),
                relations: [
                    .init(name: "beers", kind: .table, owner: owner,
                          grants: grants(ProfilePrivileges.allTable.map { (owner, $0) } + [(ro, "SELECT")])),
                    .init(name: "beers_id_seq", kind: .sequence, owner: owner,
                          grants: grants(ProfilePrivileges.allSequence.map { (owner, $0) } + [(ro, "SELECT")])),
                ],
                defaultPrivileges: [owner: .init(
                    tables: grants(ProfilePrivileges.allTable.map { (owner, $0) } + [(ro, "SELECT")]),
                    sequences: grants(ProfilePrivileges.allSequence.map { (owner, $0) } + [(ro, "SELECT")]))]))
    }

    func plan(_ state: ClusterState, secrets: Set<String> = ["/etc/pgcellar/deploy/admin.yaml", "/etc/pgcellar/deploy/ro.yaml"]) throws -> Plan {
        try Planner(desired: DesiredState(config: Self.config), actual: state, existingSecretFiles: secrets).plan()
    }

    @Test("a converged cluster gets an empty plan, whatever the locale's spelling")
    func convergedIsEmpty() throws {
        let plan = try plan(Self.converged)
        #expect(plan.steps.isEmpty)
        #expect(plan.problems.isEmpty)
        #expect(plan.warnings.isEmpty)
        #expect(plan.render(database: "beersystem_stage", endpoint: "db:5432").contains("No changes."))
    }

    @Test("an empty cluster gets roles (password last), the database, PUBLIC revoked, grants and default privileges")
    func emptyCluster() throws {
        let state = ClusterState(admin: Self.superuser, roles: [:], database: nil, contents: nil)
        let plan = try plan(state, secrets: [])
        let sql = plan.steps.map(\.sql)
        #expect(sql.first == "CREATE ROLE \"beersystem_admin\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 PASSWORD")
        #expect(plan.steps.first?.newRolePassword?.secretPath == "/etc/pgcellar/deploy/admin.yaml")
        #expect(plan.steps.first?.displaySQL.hasSuffix("PASSWORD '<SCRAM-SHA-256 verifier>'") == true)
        #expect(sql.contains("CREATE DATABASE \"beersystem_stage\" OWNER \"beersystem_admin\" ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8' TEMPLATE \"template0\" CONNECTION LIMIT -1"))
        #expect(sql.contains("REVOKE CONNECT, TEMPORARY ON DATABASE \"beersystem_stage\" FROM PUBLIC"))
        #expect(sql.contains("GRANT CONNECT ON DATABASE \"beersystem_stage\" TO \"beersystem_ro\""))
        #expect(!sql.contains { $0.contains("ON DATABASE") && $0.contains("TO \"beersystem_admin\"") },
                "the owner already holds CONNECT, CREATE and TEMPORARY through ownership")
        #expect(sql.contains("GRANT USAGE, CREATE ON SCHEMA \"public\" TO \"beersystem_admin\""))
        #expect(sql.contains("ALTER DEFAULT PRIVILEGES FOR ROLE \"beersystem_admin\" IN SCHEMA \"public\" GRANT SELECT ON TABLES TO \"beersystem_ro\""))
        #expect(sql.contains("ALTER DEFAULT PRIVILEGES FOR ROLE \"beersystem_admin\" IN SCHEMA \"public\" GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES TO \"beersystem_admin\""))
        // Phases in apply order.
        let phases = plan.steps.map(\.phase)
        #expect(phases == phases.sorted { PlanStep.Phase.allCases.firstIndex(of: $0)! < PlanStep.Phase.allCases.firstIndex(of: $1)! })
    }

    @Test("drift yields exactly the statements that repair it")
    func drift() throws {
        var state = Self.converged
        state.roles["beersystem_ro"]?.createDatabase = true
        state.database?.grants.insert(.init(grantee: "", privilege: "CONNECT"))
        state.contents?.relations[0].grants.remove(.init(grantee: "beersystem_ro", privilege: "SELECT"))
        state.contents?.relations[0].grants.insert(.init(grantee: "beersystem_ro", privilege: "DELETE"))
        let sql = try plan(state).steps.map(\.sql).sorted()
        #expect(sql == [
            "ALTER ROLE \"beersystem_ro\" NOCREATEDB",
            "GRANT SELECT ON TABLE \"public\".\"beers\" TO \"beersystem_ro\"",
            "REVOKE CONNECT ON DATABASE \"beersystem_stage\" FROM PUBLIC",
            "REVOKE DELETE ON TABLE \"public\".\"beers\" FROM \"beersystem_ro\"",
        ])
    }

    @Test("grants on many tables are one statement per role and privilege set")
    func grouping() throws {
        var state = Self.converged
        for name in ["a", "b", "c", "d"] {
            state.contents?.relations.append(.init(name: name, kind: .table, owner: "beersystem_admin",
                                                   grants: Self.grants(ProfilePrivileges.allTable.map { ("beersystem_admin", $0) })))
        }
        let plan = try plan(state)
        #expect(plan.steps.map(\.sql) == ["GRANT SELECT ON TABLE \"public\".\"a\", \"public\".\"b\", \"public\".\"c\", \"public\".\"d\" TO \"beersystem_ro\""])
        #expect(plan.steps[0].summary == "grant SELECT on table 4 tables to beersystem_ro")
    }

    @Test("encoding and locale drift are problems, never a drop and recreate")
    func unconvergeable() throws {
        var state = Self.converged
        state.database?.encoding = "LATIN1"
        state.database?.collate = "C"
        let plan = try plan(state)
        #expect(plan.problems.count == 2)
        #expect(plan.problems[0].contains("LATIN1"))
        #expect(plan.problems[1].contains("lc_collate C"))
        #expect(!plan.steps.contains { $0.sql.contains("DROP") })
    }

    @Test("a non-superuser admin gets membership in the owner, and missing rights are named")
    func nonSuperuser() throws {
        var state = ClusterState(admin: .init(name: "app_admin", superuser: false, createDatabase: false, createRole: true),
                                 roles: [:], database: nil, contents: nil)
        var plan = try plan(state, secrets: [])
        #expect(plan.steps.contains { $0.sql == "GRANT \"beersystem_admin\" TO \"app_admin\"" })
        #expect(plan.problems == ["the admin role app_admin lacks CREATEDB, which creating beersystem_stage needs; as a superuser run ALTER ROLE app_admin CREATEDB, or connect with --admin-dsn as a role that has it"])
        state.admin.createDatabase = true
        state.admin.memberOf = ["beersystem_admin"]
        plan = try self.plan(state, secrets: [])
        #expect(plan.problems.isEmpty)
        #expect(!plan.steps.contains { $0.sql.hasPrefix("GRANT \"beersystem_admin\" TO") })
    }

    @Test("an existing role whose Secret is missing keeps its password, with a warning")
    func missingSecret() throws {
        let plan = try plan(Self.converged, secrets: ["/etc/pgcellar/deploy/admin.yaml"])
        #expect(plan.steps.isEmpty)
        #expect(plan.warnings.count == 1)
        #expect(plan.warnings[0].contains("pgcellar rotate --role beersystem_ro"))
    }

    @Test("identifiers that need quoting are quoted by libpq")
    func quoting() throws {
        var config = Self.config
        config.database.name = "Beer \"Stage\""
        let state = ClusterState(admin: Self.superuser, roles: [:], database: nil, contents: nil)
        let plan = try Planner(desired: DesiredState(config: config), actual: state).plan()
        #expect(plan.steps.contains { $0.sql.hasPrefix("CREATE DATABASE \"Beer \"\"Stage\"\"\" OWNER") })
    }

    @Test("locale spellings compare equal", arguments: [
        ("en_US.UTF-8", "en_US.utf8", true), ("en_US.UTF8", "en_US.utf-8", true), ("C.UTF-8", "C.utf8", true),
        ("en_US.UTF-8", "de_DE.UTF-8", false), ("C", "C.UTF-8", false),
    ])
    func localeNames(a: String, b: String, same: Bool) {
        #expect(LocaleName.sameLocale(a, b) == same)
    }
}
