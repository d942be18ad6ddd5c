import Foundation

/// One change, with the SQL that makes it.
public struct PlanStep: Sendable, Equatable, Codable {
    /// Where a step runs: phases apply in this order, each on its own connection.
    public enum Phase: String, Sendable, Codable, CaseIterable {
        /// Roles and memberships, on the maintenance database.
        case roles
        /// `CREATE DATABASE`, outside any transaction.
        case createDatabase = "create-database"
        /// The database's owner, limits and privileges, on the maintenance database.
        case database
        /// Schema, table, sequence and default privileges and extensions, inside the database.
        case contents
    }

    public enum Action: String, Sendable, Codable {
        case create, alter, grant, revoke
    }

    public var phase: Phase
    public var action: Action
    /// What changes, in words: "create role beersystem_admin".
    public var summary: String
    /// The statement. For a role created with a password, it ends with
    /// `PASSWORD` and the verifier is appended at apply time.
    public var sql: String
    /// Set when the step creates a login role: its password is generated,
    /// written to this Secret manifest, and only then the role is created.
    public var newRolePassword: NewRolePassword?

    public struct NewRolePassword: Sendable, Equatable, Codable {
        public var role: String
        public var secretPath: String
    }

    /// The statement as shown to people: never a password or verifier.
    public var displaySQL: String {
        newRolePassword == nil ? sql : sql + " '<SCRAM-SHA-256 verifier>'"
    }
}

/// The difference between the configuration and the cluster.
public struct Plan: Sendable, Equatable {
    public var steps: [PlanStep]
    /// Differences pgcellar will not converge (a database's encoding or
    /// locale), or missing rights: provision refuses to run while any exist.
    public var problems: [String]
    /// Worth knowing, not blocking.
    public var warnings: [String]

    public var hasChanges: Bool { !steps.isEmpty }

    public init(steps: [PlanStep] = [], problems: [String] = [], warnings: [String] = []) {
        self.steps = steps
        self.problems = problems
        self.warnings = warnings
    }

    public func steps(in phase: PlanStep.Phase) -> [PlanStep] {
        steps.filter { $0.phase == phase }
    }
}

// MARK: - Rendering

extension Plan {
    /// The plan as a person reads it, terraform-style.
    public func render(database: String, endpoint: String) -> String {
        var lines: [String] = []
        for problem in problems { lines.append("error: \(problem)") }
        for warning in warnings { lines.append("warning: \(warning)") }
        if !lines.isEmpty { lines.append("") }
        guard hasChanges else {
            lines.append("No changes. \(database) on \(endpoint) matches the configuration.")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("pgcellar will make \(steps.count) change\(steps.count == 1 ? "" : "s") to \(database) on \(endpoint):")
        for phase in PlanStep.Phase.allCases {
            let phaseSteps = steps(in: phase)
            guard !phaseSteps.isEmpty else { continue }
            lines.append("")
            lines.append("  # \(phase.rawValue)")
            for step in phaseSteps {
                let marker: String
                switch step.action {
                case .create, .grant: marker = "+"
                case .alter: marker = "~"
                case .revoke: marker = "-"
                }
                lines.append("  \(marker) \(step.summary)")
                lines.append("      \(step.displaySQL);")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plan for scripts (`--json`).
    public func jsonObject(database: String) -> [String: Any] {
        [
            "database": database,
            "changes": steps.count,
            "steps": steps.map { step -> [String: Any] in
                var object: [String: Any] = [
                    "phase": step.phase.rawValue, "action": step.action.rawValue,
                    "summary": step.summary, "sql": step.displaySQL,
                ]
                if let secret = step.newRolePassword { object["secret"] = secret.secretPath }
                return object
            },
            "problems": problems,
            "warnings": warnings,
        ]
    }
}
