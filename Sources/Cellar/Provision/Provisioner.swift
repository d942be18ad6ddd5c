import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Why provisioning stopped before writing anything.
public struct ProvisionError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        problems.count == 1 ? problems[0] : "cannot provision:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// A step that failed while applying, with what was and was not applied.
public struct ProvisionStepError: Error, CustomStringConvertible {
    public var step: PlanStep
    public var underlying: Error

    public var description: String {
        var text = "provision stopped at: \(step.summary)\n  \(underlying)"
        if let error = underlying as? PostgresError, error.code == .insufficientPrivilege {
            text += "\n  the admin role may not do this; an object the configuration manages is probably owned by another role — make \(step.phase == .contents ? "the database owner" : "the admin") its owner, or run provision as a role that may"
        }
        switch step.phase {
        case .createDatabase:
            text += "\n  nothing after the roles was applied; run provision again once the cause is fixed"
        case .roles, .database, .contents:
            text += "\n  this phase's changes were rolled back, earlier phases stay applied; run provision again once the cause is fixed: it starts from the catalogs"
        }
        return text
    }
}

/// What a provision run did.
public struct ProvisionReport: Sendable {
    public var plan: Plan
    public var applied: [PlanStep]
    public var secretsWritten: [String]
    /// The locale spelling the server accepted, when it differs from the configuration's.
    public var localeUsed: String?
}

/// Plans and applies: reads the catalogs, computes the difference, and
/// writes only that.
///
/// Apply order: the Secrets of new roles (so a password never exists only on
/// the server), roles, `CREATE DATABASE` outside a transaction, the
/// database's own settings in a transaction on the maintenance database,
/// then everything inside the database in one transaction. A session-level
/// advisory lock on the maintenance connection is held for the whole run, so
/// concurrent runs queue instead of interleaving; the plan is computed after
/// taking it. Rerunning after any failure converges, since every run starts
/// from the catalogs.
public final class Provisioner {
    public let config: PgcellarConfig
    public let connector: AdminConnector
    public let logger: Logger
    private let desired: DesiredState

    public init(config: PgcellarConfig, adminDSN: String?, logger: Logger) {
        self.config = config
        self.connector = AdminConnector(config: config, dsn: adminDSN)
        self.logger = logger
        self.desired = DesiredState(config: config)
    }

    /// Reads the cluster and returns the plan, writing nothing.
    public func plan() throws -> (plan: Plan, endpoint: String) {
        let maintenance = try connector.connect(logger: logger)
        defer { maintenance.close() }
        let plan = try computePlan(maintenance)
        return (plan, "\(maintenance.host):\(maintenance.port)")
    }

    private func computePlan(_ maintenance: Connection) throws -> Plan {
        let state = try CatalogReader(desired: desired).read(maintenance: maintenance) {
            try connector.connect(database: config.database.name, logger: logger)
        }
        let secrets = Set(desired.roles.compactMap(\.secretPath).filter { FileManager.default.fileExists(atPath: $0) })
        return try Planner(desired: desired, actual: state, existingSecretFiles: secrets).plan()
    }

    /// Converges the cluster on the configuration.
    ///
    /// - Throws: `ProvisionError` before any write when the plan has problems
    ///   (drift that cannot be converged, missing rights, a missing locale);
    ///   `PostgresError` naming the statement when a step fails.
    public func apply() throws -> ProvisionReport {
        // The lock destroy and rotate take too: a provision during a destroy
        // would grant CONNECT back as drift repair.
        let lock = try DatabaseLock(database: config.database.name, connector: connector,
                                    maintenanceDatabase: config.cluster.dbname, logger: logger)
        defer { lock.release() }
        let maintenance = try connector.connect(logger: logger)
        defer { maintenance.close() }

        var plan = try computePlan(maintenance)
        guard plan.problems.isEmpty else { throw ProvisionError(problems: plan.problems) }
        var report = ProvisionReport(plan: plan, applied: [], secretsWritten: [])
        guard plan.hasChanges else { return report }

        // Before anything is written: can the server use the locale at all?
        if let index = plan.steps.firstIndex(where: { $0.phase == .createDatabase }), let locale = config.database.locale {
            let usable = try LocaleProbe.findUsableSpelling(of: locale, on: maintenance, encoding: config.database.encoding)
            if usable != locale {
                let literal = try maintenance.escapeLiteral(locale)
                let replacement = try maintenance.escapeLiteral(usable)
                plan.steps[index].sql = plan.steps[index].sql.replacingOccurrences(of: literal, with: replacement)
                report.localeUsed = usable
                logger.info("the server spells locale \(locale) as \(usable); using that")
            }
        }

        try applyRoles(plan.steps(in: .roles), on: maintenance, report: &report)
        for step in plan.steps(in: .createDatabase) {
            try run(step, on: maintenance, report: &report)
        }
        let databaseSteps = plan.steps(in: .database)
        if !databaseSteps.isEmpty {
            try maintenance.transaction {
                for step in databaseSteps { try run(step, on: maintenance, report: &report) }
            }
        }
        let contentSteps = plan.steps(in: .contents)
        if !contentSteps.isEmpty {
            let database = try connector.connect(database: config.database.name, logger: logger)
            defer { database.close() }
            try database.transaction {
                for step in contentSteps { try run(step, on: database, report: &report) }
            }
        }
        return report
    }

    // MARK: - Roles and their Secrets

    private func applyRoles(_ steps: [PlanStep], on connection: Connection, report: inout ProvisionReport) throws {
        guard !steps.isEmpty else { return }
        // Every new role's password is on disk, fsynced, before any role exists.
        var passwords: [String: String] = [:]
        for step in steps {
            guard let target = step.newRolePassword else { continue }
            passwords[target.role] = try writeSecret(forNewRole: target.role, path: target.secretPath)
            report.secretsWritten.append(target.secretPath)
        }
        let validUntil = config.effectiveRotation.validFor.map { Date().addingTimeInterval($0) }
        try connection.transaction {
            try RolePassword.keepOutOfStatementLog(on: connection)
            for step in steps {
                if let target = step.newRolePassword, let password = passwords[target.role] {
                    let verifier = try RolePassword.verifier(for: password, role: target.role, on: connection)
                    // A missed rotation fails closed: the password expires when
                    // rotation.validFor says, counted from its creation.
                    let expiry = try validUntil.map { " VALID UNTIL \(try connection.escapeLiteral(SecretManifest.timestamp($0)))" } ?? ""
                    do {
                        try connection.execute("\(step.sql) \(try connection.escapeLiteral(verifier))\(expiry)", redacted: true)
                    } catch var error as PostgresError {
                        error.statement = step.displaySQL + expiry
                        throw ProvisionStepError(step: step, underlying: error)
                    }
                    report.applied.append(step)
                    logger.debug("\(step.summary)")
                } else {
                    try run(step, on: connection, report: &report)
                }
            }
        }
    }

    /// The password for a role about to be created: the one already in its
    /// Secret when an earlier run wrote it and stopped before creating the
    /// role (so a Secret already applied to Kubernetes stays valid), else a
    /// new one, written first.
    private func writeSecret(forNewRole role: String, path: String) throws -> String {
        if let existing = try? SecretStore.read(path: path), existing.username == role, !existing.password.isEmpty {
            logger.info("reusing the password in \(path), written by an earlier run that did not create \(role)")
            return existing.password
        }
        guard let roleConfig = config.role(named: role) else { throw ClientError("role \(role) is not in the configuration") }
        let rotation = config.effectiveRotation
        let password = try SecureRandom.password(length: rotation.passwordLength, alphabet: rotation.alphabet)
        guard let manifest = config.secretManifest(for: roleConfig, password: password, rotatedAt: Date()) else {
            throw ClientError("role \(role) has no secret section in \(config.source)")
        }
        try SecretStore.write(manifest, to: path)
        return password
    }

    private func run(_ step: PlanStep, on connection: Connection, report: inout ProvisionReport) throws {
        do {
            try connection.execute(step.sql)
        } catch {
            throw ProvisionStepError(step: step, underlying: error)
        }
        report.applied.append(step)
        logger.debug("\(step.summary)")
    }
}
