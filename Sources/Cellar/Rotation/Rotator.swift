#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Rotates the passwords of managed login roles so that a crash at any point
/// leaves a password that exists somewhere: in the Secret, or in the journal
/// that the next run finishes.
///
/// For each role, under a session-level advisory lock `rotate:<role>`:
///
/// 1. a journal left by an interrupted run is finished first: its verifier
///    is re-issued, the login verified, the Secret written, the journal removed;
/// 2. otherwise (unless `--if-older-than` finds the Secret fresh) a new
///    password is generated and journaled (0600, atomically) next to the Secret;
/// 3. `ALTER ROLE ... PASSWORD '<SCRAM-SHA-256 verifier>' VALID UNTIL ...`;
/// 4. a fresh connection logs in with the new password, with the TLS settings
///    the application uses;
/// 5. the Secret manifest is replaced atomically, then the journal removed.
///
/// If the new password does not log in, the previous one (from the current
/// Secret) is set again, with the `VALID UNTIL` the role had before, and the
/// role's result is a failure that says why.
/// One role's failure does not stop the others.
public final class Rotator {
    public let config: PgcellarConfig
    public let connector: AdminConnector
    public let logger: Logger
    public let pauseHook: RotationPauseHook
    /// Who ran this rotation, known once the admin connection is open.
    public private(set) var actor: RotationActor?

    public init(config: PgcellarConfig, adminDSN: String?, logger: Logger,
                pauseHook: RotationPauseHook = RotationPauseHook()) {
        self.config = config
        self.connector = AdminConnector(config: config, dsn: adminDSN)
        self.logger = logger
        self.pauseHook = pauseHook
    }

    // MARK: - Choosing roles

    /// The roles `options` names, or every login role with a Secret.
    /// - Throws: ``RotationError`` for a name that is not a managed login role.
    public func selectedRoles(_ options: RotationOptions) throws -> [RoleConfig] {
        guard let names = options.roles, !names.isEmpty else {
            return config.roles.filter { $0.login && $0.secret != nil }
        }
        var selected: [RoleConfig] = []
        for name in names {
            guard let role = config.role(named: name) else {
                let known = config.roles.filter(\.login).map(\.name).joined(separator: ", ")
                throw RotationError("role \(displayQuoted(name)) is not managed by \(config.source) (its login roles: \(known.isEmpty ? "none" : known))")
            }
            guard role.login, role.secret != nil else {
                throw RotationError("role \(displayQuoted(name)) cannot log in (login: false in \(config.source)); it has no password to rotate")
            }
            if !selected.contains(where: { $0.name == name }) { selected.append(role) }
        }
        return selected
    }

    // MARK: - Running

    /// Rotates (or, with `dryRun`, inspects) every selected role.
    ///
    /// - Parameter report: Called after each role, in order (the command
    ///   prints the audit line there, so it appears even if a later role hangs).
    /// - Returns: One result per role; failures are results, not errors.
    /// - Throws: ``RotationError`` for a role name that is not managed;
    ///   `ConnectionError` when the admin connection cannot be opened at all.
    public func run(_ options: RotationOptions, report: (RoleRotationResult) -> Void = { _ in }) throws -> [RoleRotationResult] {
        let roles = try selectedRoles(options)
        if roles.isEmpty {
            logger.warning("\(config.source) has no login role with a secret section: nothing to rotate")
            return []
        }
        // The database's lock, which provision and destroy take too (a
        // destroy drops these roles), then each role's own.
        let lock = options.dryRun ? nil : try DatabaseLock(database: config.database.name, connector: connector,
                                                           maintenanceDatabase: config.cluster.dbname, logger: logger)
        defer { lock?.release() }
        // Advisory locks belong to one database: always the maintenance
        // database, so that every run (CronJob or person, --admin-dsn or not)
        // contends for the same lock.
        var admin = try connector.connect(database: config.cluster.dbname, logger: logger)
        defer { admin.close() }
        actor = RotationActor(adminRole: admin.user, server: "\(admin.host):\(admin.port)")

        var results: [RoleRotationResult] = []
        for role in roles {
            // A failure may have been the connection's: check before going on.
            if results.last?.succeeded == false, !isAlive(admin) {
                logger.info("the admin connection was lost; reconnecting")
                admin.close()
                do {
                    admin = try connector.connect(database: config.cluster.dbname, logger: logger)
                } catch {
                    let result = failure(role, "\(error)")
                    results.append(result)
                    report(result)
                    continue
                }
            }
            let result: RoleRotationResult
            do {
                result = options.dryRun ? try inspect(role, options, admin: admin) : try rotate(role, options, admin: admin)
            } catch {
                result = failure(role, "\(error)")
            }
            results.append(result)
            report(result)
        }
        return results
    }

    private func isAlive(_ connection: Connection) -> Bool {
        (try? connection.query("SELECT 1")) != nil
    }

    private func paths(_ role: RoleConfig) -> (secret: String, journal: String) {
        let secret = config.resolvedSecretPath(for: role)!
        return (secret, RotationJournal.path(forSecret: secret))
    }

    private func failure(_ role: RoleConfig, _ message: String, restored: Bool = false) -> RoleRotationResult {
        RoleRotationResult(role: role.name, outcome: .failed, secretFile: config.resolvedSecretPath(for: role) ?? "",
                           restoredPrevious: restored, message: message)
    }

    // MARK: - One role

    private func rotate(_ role: RoleConfig, _ options: RotationOptions, admin: Connection) throws -> RoleRotationResult {
        let (secretPath, journalPath) = paths(role)
        let scope = "rotate:\(role.name)"
        // Also waits out the server session of a killed run: its ALTER may
        // still commit after the client died, but not after its session ends.
        try AdvisoryLock.acquire(admin, scope: scope, logger: logger)
        defer { AdvisoryLock.release(admin, scope: scope) }

        removeLeftoverTemporaryFiles(of: secretPath)
        removeLeftoverTemporaryFiles(of: journalPath)

        if let journal = try RotationJournal.load(path: journalPath) {
            try check(journal, belongsTo: role, path: journalPath)
            // The current Secret only matters as the password to restore; an
            // unreadable one must not keep the journaled rotation from finishing
            // (it is about to be replaced), one for another role must.
            let current: SecretManifest.Parsed?
            do {
                current = try currentSecret(role, at: secretPath)
            } catch let error as RotationError where error.isForeignSecret {
                throw error
            } catch {
                logger.warning("\(error); finishing the journaled rotation anyway")
                current = nil
            }
            logger.info("\(journalPath): finishing the rotation of \(role.name) begun at \(SecretManifest.timestamp(journal.rotatedAt)) before anything else")
            return try journaled(journalPath) {
                try complete(journal, role: role, previous: current, secretPath: secretPath, journalPath: journalPath,
                             outcome: .completedPending, admin: admin)
            }
        }

        let current = try currentSecret(role, at: secretPath)
        let now = Date()
        if let threshold = options.ifOlderThan, let fresh = freshness(of: current, threshold: threshold, now: now) {
            return RoleRotationResult(role: role.name, outcome: .fresh, secretFile: secretPath,
                                      rotatedAt: current?.rotatedAt, message: fresh)
        }
        // Read before ALTER ROLE, journaled with the new password: what a
        // rollback sets again, even when a later run finishes the rotation.
        let previousExpiry = try checkRoleExists(role, admin: admin)

        let rotation = config.effectiveRotation
        let password = try SecureRandom.password(length: rotation.passwordLength, alphabet: rotation.alphabet)
        let journal = RotationJournal(
            role: role.name, database: config.database.name, password: password,
            verifier: try RolePassword.verifier(for: password, role: role.name, on: admin),
            rotatedAt: now, validUntil: rotation.validFor.map { now.addingTimeInterval($0) },
            previousValidUntil: previousExpiry)
        try journal.write(to: journalPath)
        pauseHook.reached(.beforeAlter)
        return try journaled(journalPath) {
            try complete(journal, role: role, previous: current, secretPath: secretPath, journalPath: journalPath,
                         outcome: .rotated, admin: admin)
        }
    }

    /// Runs `body`; when it fails with the journal still in place, says that
    /// the next run finishes the rotation.
    private func journaled(_ journalPath: String, _ body: () throws -> RoleRotationResult) throws -> RoleRotationResult {
        do {
            return try body()
        } catch let error as RotationError {
            throw error
        } catch {
            guard FileManager.default.fileExists(atPath: journalPath) else { throw error }
            throw RotationError("\(error); the new password is journaled in \(journalPath) and the next rotate finishes the rotation")
        }
    }

    /// Sets the journal's verifier, verifies, promotes it into the Secret and
    /// removes the journal; restores `previous` when the login fails.
    private func complete(_ journal: RotationJournal, role: RoleConfig, previous: SecretManifest.Parsed?,
                          secretPath: String, journalPath: String, outcome: RoleRotationResult.Outcome,
                          admin: Connection) throws -> RoleRotationResult {
        try RolePassword.set(role: role.name, verifier: journal.verifier, validUntil: RoleExpiry(journal.validUntil), on: admin,
                             beforeCommit: { pauseHook.reached(.beforeCommit) })
        pauseHook.reached(.afterAlter)

        guard let manifest = config.secretManifest(for: role, password: journal.password, rotatedAt: journal.rotatedAt) else {
            throw RotationError("role \(role.name) has no secret section in \(config.source)")
        }
        do {
            try verifyLogin(manifest, admin: admin)
        } catch {
            return try restore(previous, role: role, after: error, journal: journal, journalPath: journalPath,
                               secretPath: secretPath, admin: admin)
        }
        pauseHook.reached(.afterVerify)

        try writeSecret(manifest, to: secretPath)
        pauseHook.reached(.afterSecretWrite)
        try AtomicFile.removeDurably(path: journalPath)

        let verb = outcome == .completedPending ? "finished the interrupted rotation of" : "rotated"
        let expiry = journal.validUntil.map { ", valid until \(SecretManifest.timestamp($0))" } ?? ""
        return RoleRotationResult(role: role.name, outcome: outcome, secretFile: secretPath, rotatedAt: journal.rotatedAt,
                                  validUntil: journal.validUntil,
                                  message: "\(verb) \(role.name): the new password logs in; wrote \(secretPath) (mode 0600)\(expiry)")
    }

    /// The new password did not log in: put the previous one back, with the
    /// `VALID UNTIL` the role had before, so the Secret that applications
    /// hold stays right and the role expires when it would have; and say why.
    private func restore(_ previous: SecretManifest.Parsed?, role: RoleConfig, after error: Error, journal: RotationJournal,
                         journalPath: String, secretPath: String, admin: Connection) throws -> RoleRotationResult {
        let why = "the new password of \(role.name) did not log in (\(error))"
        guard let previous, previous.username == role.name, !previous.password.isEmpty else {
            // Nowhere else holds a password for the role: keep the journal,
            // which has the one the server now has.
            throw RotationError("\(why); there is no previous password to restore (no readable Secret at \(secretPath)), so the new one stays set and journaled in \(journalPath): fix the cause and run rotate again to finish")
        }
        let validUntil: RoleExpiry
        if let recorded = journal.previousValidUntil {
            validUntil = recorded
        } else {
            // A journal from a pgcellar that did not record the expiry: the
            // best guess is the one the previous rotation would have set.
            let validFor = config.effectiveRotation.validFor
            validUntil = RoleExpiry(previous.rotatedAt.flatMap { rotatedAt in validFor.map { rotatedAt.addingTimeInterval($0) } })
            logger.warning("\(journalPath) does not record the VALID UNTIL of \(role.name) before the rotation; setting \(validUntil)")
        }
        let verifier = try RolePassword.verifier(for: previous.password, role: role.name, on: admin)
        try RolePassword.set(role: role.name, verifier: verifier, validUntil: validUntil, on: admin)
        try AtomicFile.removeDurably(path: journalPath)
        logger.error("\(why); restored the previous password from \(secretPath) and VALID UNTIL \(validUntil)")
        return failure(role, "\(why); restored the previous password from \(secretPath), which is unchanged, and VALID UNTIL \(validUntil)", restored: true)
    }

    // MARK: - Dry run

    private func inspect(_ role: RoleConfig, _ options: RotationOptions, admin: Connection) throws -> RoleRotationResult {
        let (secretPath, journalPath) = paths(role)
        let current = try currentSecret(role, at: secretPath)
        if let journal = try RotationJournal.load(path: journalPath) {
            try check(journal, belongsTo: role, path: journalPath)
            return RoleRotationResult(
                role: role.name, outcome: .wouldCompletePending, secretFile: secretPath, rotatedAt: journal.rotatedAt,
                validUntil: journal.validUntil,
                message: "would finish the interrupted rotation of \(role.name) begun at \(SecretManifest.timestamp(journal.rotatedAt)) (\(journalPath)): set its password again, verify it and write \(secretPath)")
        }
        if let threshold = options.ifOlderThan, let fresh = freshness(of: current, threshold: threshold, now: Date()) {
            return RoleRotationResult(role: role.name, outcome: .wouldSkip, secretFile: secretPath,
                                      rotatedAt: current?.rotatedAt, message: fresh)
        }
        try checkRoleExists(role, admin: admin)
        let validFor = config.effectiveRotation.validFor
        let expiry = validFor.map { " (VALID UNTIL now + \(Self.describe($0)))" } ?? ""
        return RoleRotationResult(
            role: role.name, outcome: .wouldRotate, secretFile: secretPath, rotatedAt: current?.rotatedAt,
            message: "would set a new password for \(role.name)\(expiry) as a SCRAM-SHA-256 verifier, verify that it logs in, and replace \(secretPath)")
    }

    // MARK: - Checks

    /// The role's current Secret, which must be for this role.
    private func currentSecret(_ role: RoleConfig, at path: String) throws -> SecretManifest.Parsed? {
        let current: SecretManifest.Parsed?
        do {
            current = try SecretStore.read(path: path)
        } catch {
            throw RotationError("cannot read the current Secret, which holds the password to restore should the new one fail: \(error)")
        }
        if let current, current.username != role.name {
            var error = RotationError("\(path) holds the credentials of \(displayQuoted(current.username)), not of \(displayQuoted(role.name)); check secret.file in \(config.source)")
            error.isForeignSecret = true
            throw error
        }
        return current
    }

    private func check(_ journal: RotationJournal, belongsTo role: RoleConfig, path: String) throws {
        guard journal.role == role.name else {
            throw RotationError("\(path) is the pending rotation of \(displayQuoted(journal.role)), not of \(displayQuoted(role.name)); check secret.file in \(config.source)")
        }
    }

    /// Why the role is left alone, or nil when it is due.
    private func freshness(of current: SecretManifest.Parsed?, threshold: TimeInterval, now: Date) -> String? {
        guard let current else {
            logger.info("no Secret yet: rotating")
            return nil
        }
        guard let rotatedAt = current.rotatedAt else {
            logger.info("the Secret has no \(SecretManifest.rotatedAtAnnotation) annotation: rotating")
            return nil
        }
        let age = now.timeIntervalSince(rotatedAt)
        guard age < threshold else { return nil }
        return "\(current.username) was rotated at \(SecretManifest.timestamp(rotatedAt)), \(Self.describe(age)) ago, less than \(Self.describe(threshold)): left alone"
    }

    /// - Returns: The role's `VALID UNTIL` now.
    @discardableResult
    private func checkRoleExists(_ role: RoleConfig, admin: Connection) throws -> RoleExpiry {
        let row = try admin.query("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1", [role.name]).first
        guard let row, let expiry = try RoleExpiry.current(of: role.name, on: admin) else {
            throw RotationError("role \(displayQuoted(role.name)) does not exist on \(admin.host):\(admin.port); create it with pgcellar provision -c \(config.source)")
        }
        if try !row.bool("rolcanlogin") {
            logger.warning("role \(role.name) has NOLOGIN on the server: its new password cannot log in until pgcellar provision converges it")
        }
        return expiry
    }

    /// Logs in as the application will — its user, database, sslmode and
    /// CA — on a fresh connection to the server the admin connection reached
    /// (so a port-forwarded run verifies the same server it changed).
    private func verifyLogin(_ manifest: SecretManifest, admin: Connection) throws {
        let viaSocket = admin.host.isEmpty || admin.host.hasPrefix("/")
        let connection = try ApplicationLogin.connect(
            role: manifest.role, password: manifest.password,
            host: viaSocket ? manifest.host : admin.host, port: viaSocket ? String(manifest.port) : admin.port,
            database: manifest.dbname, sslmode: manifest.sslmode, config: config,
            applicationName: "pgcellar-rotate-verify", logger: logger)
        defer { connection.close() }
        if !ApplicationLogin.usesTLSAsRequired(connection, sslmode: manifest.sslmode) {
            throw RotationError("the login succeeded without TLS although sslmode is \(manifest.sslmode)")
        }
        let user = try connection.query("SELECT current_user AS u").first?.string("u")
        guard user == manifest.role else {
            throw RotationError("logged in as \(user ?? "?"), not \(manifest.role)")
        }
    }

    // MARK: - Files

    /// Writes the Secret like `SecretStore.write` (0600, atomic, directory
    /// fsynced), with a checkpoint between writing and renaming.
    private func writeSecret(_ manifest: SecretManifest, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let writer = try AtomicFileWriter(path: path, mode: 0o600, bufferCapacity: 0)
        do {
            var text = manifest.render()
            try text.withUTF8 { try writer.write(UnsafeRawBufferPointer($0)) }
            pauseHook.reached(.duringSecretWrite)
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    /// A run killed while `AtomicFileWriter` wrote leaves its temporary file
    /// (`.<name>.<random>.tmp`, mode 0600, holding a password). Under the
    /// role's lock no other run writes these, so they can go.
    private func removeLeftoverTemporaryFiles(of path: String) {
        let name = (path as NSString).lastPathComponent
        // AtomicFileWriter keeps the first 48 characters of the name; a longer
        // one could share its prefix with another role's file, so leave those.
        guard name.count <= 48 else { return }
        let directory = (path as NSString).deletingLastPathComponent
        let listing = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        for entry in listing where entry.hasPrefix("." + name + ".") && entry.hasSuffix(".tmp") {
            let middle = entry.dropFirst(name.count + 2).dropLast(4)
            guard !middle.isEmpty, middle.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { continue }
            let leftover = directory.isEmpty ? entry : directory + "/" + entry
            if (try? AtomicFile.removeDurably(path: leftover)) != nil {
                logger.info("removed \(leftover), left behind by an interrupted run")
            }
        }
    }

    /// `30d`, `12h`, `45m`, `20s`: the largest whole unit.
    static func describe(_ seconds: TimeInterval) -> String {
        let value = max(0, seconds)
        for (unit, size) in [("d", 86_400.0), ("h", 3_600.0), ("m", 60.0)] where value >= size {
            let amount = value / size
            return amount == amount.rounded() ? "\(Int(amount))\(unit)" : String(format: "%.1f\(unit)", amount)
        }
        return "\(Int(value))s"
    }
}
