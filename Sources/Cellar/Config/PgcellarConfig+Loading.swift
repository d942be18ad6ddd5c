import Foundation
import Yams

// MARK: - Loading

extension PgcellarConfig {
    /// Reads and validates a configuration file.
    ///
    /// Relative paths in the file (`roles[n].secret.file`, `cluster.sslrootcert`)
    /// are resolved against the file's directory.
    /// - Parameter path: The file, as the user named it; error messages repeat it.
    /// - Throws: ``ConfigError`` listing every problem found, the file being
    ///   unreadable included.
    public static func load(path: String) throws -> PgcellarConfig {
        func unreadable(_ reason: String) -> ConfigError {
            ConfigError(source: path, issues: [YAMLIssue(keyPath: "", message: reason)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable("cannot read the configuration: no such file")
        }
        guard !isDirectory.boolValue else {
            throw unreadable("cannot read the configuration: it is a directory, not a file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw unreadable("cannot read the configuration: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw unreadable("cannot read the configuration: the file is not UTF-8 text")
        }
        return try parse(yaml: text, source: path)
    }

    /// Validates configuration text.
    /// - Parameters:
    ///   - yaml: The file's contents.
    ///   - source: What to call the text in error messages: the file's path.
    ///   - baseDirectory: Where relative paths in the file are resolved from;
    ///     by default the directory part of `source`.
    /// - Throws: ``ConfigError`` listing every problem found.
    public static func parse(yaml: String, source: String, baseDirectory: String? = nil) throws -> PgcellarConfig {
        var reader = YAMLReader()
        let config = ConfigBuilder.build(yaml: yaml, reader: &reader)
        guard let config, !reader.hasIssues else {
            throw ConfigError(source: source, issues: reader.issues.isEmpty
                ? [YAMLIssue(keyPath: "", message: "the configuration is incomplete")]
                : reader.issuesInDocumentOrder)
        }
        return PgcellarConfig(
            cluster: config.cluster,
            database: config.database,
            roles: config.roles,
            rotation: config.rotation,
            repository: config.repository,
            source: source,
            baseDirectory: baseDirectory ?? directory(of: source)
        )
    }

    /// The directory part of a path: `config` for `config/x.yaml`, `.` for `x.yaml`.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = path[..<slash]
        return directory.isEmpty ? "/" : String(directory)
    }
}

// MARK: - The walk

/// Builds a configuration from the node tree, section by section. Every check
/// reports into the reader and carries on, so that one run shows all problems.
/// Internal, not private: the repository section reuses its checks (`report`, `checkText`).
enum ConfigBuilder {
    typealias Built = (cluster: ClusterConfig, database: DatabaseConfig, roles: [RoleConfig], rotation: RotationConfig?,
                       repository: RepositoryConfig?)

    static let topLevelKeys = ["cluster", "database", "roles", "rotation", "repository"]
    static let clusterKeys = ["host", "port", "user", "sslmode", "dbname", "sslrootcert"]
    static let databaseKeys = ["name", "owner", "encoding", "locale", "template", "connectionLimit", "extensions"]
    static let roleKeys = ["name", "login", "profile", "connectionLimit", "secret"]
    static let secretKeys = ["name", "namespace", "file", "host", "port", "sslmode"]
    static let rotationKeys = ["passwordLength", "alphabet", "validFor"]

    static let adminPasswordMessage =
        "a password does not belong in the configuration file; give the admin connection's password through ~/.pgpass, PGPASSFILE or PGPASSWORD"
    static let rolePasswordMessage =
        "a password does not belong in the configuration file; `pgcellar rotate` generates the role's password and writes it to the role's Secret"
    static let localeMessage = "use locale, which sets both lc_collate and lc_ctype"

    static func build(yaml: String, reader: inout YAMLReader) -> Built? {
        guard let root = reader.compose(yaml) else {
            if !reader.hasIssues {
                reader.report(.root, nil, "the file is empty; it needs cluster, database and roles")
            }
            return nil
        }
        guard let top = reader.mapping(root, at: .root, allowed: topLevelKeys) else { return nil }

        let cluster = reader.mapping("cluster", in: top, allowed: clusterKeys,
                                     forbidden: ["password": adminPasswordMessage], required: true)
            .flatMap { readCluster($0, &reader) }
        let databaseSection = reader.mapping("database", in: top, allowed: databaseKeys,
                                             forbidden: ["lc_collate": localeMessage, "lc_ctype": localeMessage], required: true)
        let database = databaseSection.flatMap { readDatabase($0, cluster: cluster, &reader) }
        let roles = reader.sequence("roles", in: top, required: true).map { readRoles($0, cluster: cluster, &reader) }
        let rotation = reader.mapping("rotation", in: top, allowed: rotationKeys, required: false)
            .map { readRotation($0, &reader) }
        let repository = reader.mapping("repository", in: top, allowed: RepositoryConfigReader.keys, required: false)
            .map { RepositoryConfigReader.read($0, &reader) }

        // The owner is checked even when other database keys are wrong.
        if let databaseSection, let roles, case let .scalar(owner)? = databaseSection.value("owner"),
           PostgresName.identifierProblem(owner.string) == nil {
            checkOwner(owner.string, section: databaseSection, roles: roles, &reader)
        }

        // Any issue fails the whole file, so the values below are complete.
        guard !reader.hasIssues, let cluster, let database, let roles else { return nil }
        return (cluster, database, roles.compactMap(\.config), rotation ?? nil, repository ?? nil)
    }

    // MARK: cluster

    static func readCluster(_ section: YAMLMapping, _ reader: inout YAMLReader) -> ClusterConfig? {
        let start = reader.issues.count
        let host = reader.string("host", in: section, required: true)
        if let host { checkText(host, "host", in: section, &reader) }
        let port = readPort("port", in: section, &reader)
        let user = reader.string("user", in: section, required: true)
        if let user { checkIdentifier(user, "user", in: section, &reader) }
        let sslmode = readSSLMode("sslmode", in: section, &reader)
        let dbname = reader.string("dbname", in: section)
        if let dbname { checkIdentifier(dbname, "dbname", in: section, &reader) }
        let sslrootcert = reader.string("sslrootcert", in: section)
        if let sslrootcert { checkText(sslrootcert, "sslrootcert", in: section, &reader) }

        guard reader.issues.count == start, let host, let user else { return nil }
        return ClusterConfig(host: host, port: port ?? 5432, user: user, sslmode: sslmode ?? "require",
                             dbname: dbname ?? "postgres", sslrootcert: sslrootcert)
    }

    // MARK: database

    static func readDatabase(_ section: YAMLMapping, cluster: ClusterConfig?, _ reader: inout YAMLReader) -> DatabaseConfig? {
        let start = reader.issues.count
        let name = reader.string("name", in: section, required: true)
        if let name, checkIdentifier(name, "name", in: section, &reader) {
            let maintenance = cluster?.dbname ?? "postgres"
            if name == maintenance {
                report("name", in: section, "\(displayQuoted(name)) is the maintenance database (cluster.dbname) that pgcellar connects to; `pgcellar destroy` would drop it", &reader)
            } else if name == "template0" || name == "template1" {
                report("name", in: section, "\(displayQuoted(name)) is one of PostgreSQL's template databases; choose the application's own database name", &reader)
            }
        }
        let owner = reader.string("owner", in: section, required: true)
        if let owner { checkIdentifier(owner, "owner", in: section, &reader) }

        var encoding: String?
        if let written = reader.string("encoding", in: section) {
            if let canonical = PostgresEncoding.canonicalName(written) {
                if PostgresEncoding.clientOnlyEncodings.contains(canonical) {
                    report("encoding", in: section, "\(displayQuoted(written)) is a client-only encoding; a database cannot be created with it (use UTF8)", &reader)
                } else {
                    encoding = canonical
                }
            } else {
                report("encoding", in: section, "\(displayQuoted(written)) is not a PostgreSQL encoding; use UTF8 or one of \(PostgresEncoding.serverEncodings.filter { $0 != "UTF8" }.joined(separator: ", "))", &reader)
            }
        }
        let encodingIsKnown = section.value("encoding") == nil || encoding != nil
        let locale = reader.string("locale", in: section)
        if let locale, checkText(locale, "locale", in: section, &reader), encodingIsKnown,
           let localeEncoding = PostgresEncoding.encoding(ofLocale: locale),
           localeEncoding != (encoding ?? "UTF8") {
            report("locale", in: section, "\(displayQuoted(locale)) uses the \(localeEncoding) encoding but database.encoding is \(encoding ?? "UTF8"); PostgreSQL refuses a locale whose encoding differs", &reader)
        }
        let template = reader.string("template", in: section)
        if let template { checkIdentifier(template, "template", in: section, &reader) }
        let connectionLimit = readConnectionLimit(in: section, &reader)

        var extensions: [String] = []
        if let written = reader.stringList("extensions", in: section) {
            let path = section.path.key("extensions")
            for (index, (name, node)) in written.enumerated() {
                if let problem = PostgresName.identifierProblem(name) {
                    reader.report(path.index(index), node, problem)
                } else if let first = extensions.firstIndex(of: name) {
                    reader.report(path.index(index), node, "\(displayQuoted(name)) is listed twice (also extensions[\(first)])")
                } else {
                    extensions.append(name)
                }
            }
        }

        guard reader.issues.count == start, let name, let owner else { return nil }
        return DatabaseConfig(name: name, owner: owner, encoding: encoding ?? "UTF8", locale: locale,
                              template: template ?? "template0", connectionLimit: connectionLimit ?? -1,
                              extensions: extensions)
    }

    // MARK: roles

    /// What was read of one `roles` entry: its name even when other keys are
    /// wrong, so that cross-checks do not pile on follow-up errors.
    struct RoleEntry {
        /// The name as written, and as accepted (`nil` when refused).
        var writtenName: String?
        var name: String?
        var nameNode: Node?
        var profile: RoleProfile?
        var profileNode: Node?
        var node: Node
        var config: RoleConfig?
    }

    static func readRoles(_ elements: [Node], cluster: ClusterConfig?, _ reader: inout YAMLReader) -> [RoleEntry] {
        let rolesPath = YAMLPath.root.key("roles")
        var entries: [RoleEntry] = []
        var secretsSeen: [String: Int] = [:]
        var filesSeen: [String: Int] = [:]

        for (index, element) in elements.enumerated() {
            let path = rolesPath.index(index)
            guard let section = reader.mapping(element, at: path, allowed: roleKeys,
                                               forbidden: ["password": rolePasswordMessage]) else {
                entries.append(RoleEntry(node: element))
                continue
            }
            let start = reader.issues.count
            var entry = RoleEntry(node: element)

            entry.nameNode = section.value("name")
            if let name = reader.string("name", in: section, required: true) {
                entry.writtenName = name
                if let problem = PostgresName.roleNameProblem(name) {
                    report("name", in: section, problem, &reader)
                } else if let first = entries.firstIndex(where: { $0.name == name }) {
                    report("name", in: section, "\(displayQuoted(name)) is listed twice (also roles[\(first)])", &reader)
                } else if name == cluster?.user {
                    report("name", in: section, "\(displayQuoted(name)) is the admin connection's user (cluster.user); pgcellar must not manage the role it connects as, or `destroy` would drop it", &reader)
                } else {
                    entry.name = name
                }
            }
            let writtenLogin = reader.bool("login", in: section)
            // A login value that could not be read says nothing about the secret.
            let loginIsKnown = section.value("login") == nil || writtenLogin != nil
            let login = writtenLogin ?? true
            if let written = reader.string("profile", in: section, required: true) {
                entry.profileNode = section.value("profile")
                if let profile = RoleProfile(rawValue: written) {
                    entry.profile = profile
                } else {
                    report("profile", in: section, "\(displayQuoted(written)) is not one of \(RoleProfile.allCases.map(\.rawValue).joined(separator: ", "))", &reader)
                }
            }
            let connectionLimit = readConnectionLimit(in: section, &reader)

            var secret: SecretConfig?
            if login {
                secret = reader.mapping("secret", in: section, allowed: secretKeys, required: false)
                    .flatMap { readSecret($0, &reader) }
                if loginIsKnown, section.value("secret") == nil {
                    report("secret", in: section,
                           "missing; every login role needs a Secret to keep its password in (name, namespace and file)", &reader,
                           node: section.node)
                }
            } else if section.contains("secret") {
                report("secret", in: section,
                       "\(entry.name.map(displayQuoted) ?? "this role") cannot log in (login: false), so it has no password to keep; remove secret or set login: true", &reader,
                       node: section.entries["secret"])
            }

            if let secret {
                let secretPath = section.path.key("secret")
                let key = "\(secret.namespace)/\(secret.name)"
                if let first = secretsSeen[key] {
                    reader.report(secretPath.key("name"), section.value("secret").flatMap { $0["name"] },
                                  "Secret \(key) is also used by roles[\(first)]; each role needs a Secret of its own")
                } else {
                    secretsSeen[key] = index
                }
                if let first = filesSeen[secret.file] {
                    reader.report(secretPath.key("file"), section.value("secret").flatMap { $0["file"] },
                                  "\(displayQuoted(secret.file)) is also written for roles[\(first)]; each role needs a file of its own")
                } else {
                    filesSeen[secret.file] = index
                }
            }

            if reader.issues.count == start, let name = entry.name, let profile = entry.profile {
                entry.config = RoleConfig(name: name, login: login, profile: profile,
                                          connectionLimit: connectionLimit, secret: secret)
            }
            entries.append(entry)
        }
        return entries
    }

    static func readSecret(_ section: YAMLMapping, _ reader: inout YAMLReader) -> SecretConfig? {
        let start = reader.issues.count
        let name = reader.string("name", in: section, required: true)
        if let name, let problem = KubernetesName.subdomainProblem(name) { report("name", in: section, problem, &reader) }
        let namespace = reader.string("namespace", in: section, required: true)
        if let namespace, let problem = KubernetesName.labelProblem(namespace) { report("namespace", in: section, problem, &reader) }
        let file = reader.string("file", in: section, required: true)
        if let file { checkText(file, "file", in: section, &reader) }
        let host = reader.string("host", in: section)
        if let host { checkText(host, "host", in: section, &reader) }
        let port = readPort("port", in: section, &reader)
        let sslmode = readSSLMode("sslmode", in: section, &reader)

        guard reader.issues.count == start, let name, let namespace, let file else { return nil }
        return SecretConfig(name: name, namespace: namespace, file: file, host: host, port: port, sslmode: sslmode)
    }

    // MARK: rotation

    /// Passwords weaker than this are refused: 128 bits is what a random
    /// AES-128 key has, and SCRAM does not slow down guessing much.
    static let minimumPasswordBits = 128.0

    static func readRotation(_ section: YAMLMapping, _ reader: inout YAMLReader) -> RotationConfig? {
        let start = reader.issues.count
        let length = reader.int("passwordLength", in: section)
        if let length, !(1...1024).contains(length) {
            report("passwordLength", in: section, "\(length) is out of range; use 1 to 1024 characters", &reader)
        }
        let alphabet = reader.string("alphabet", in: section)
        if let alphabet {
            let characters = Array(alphabet.unicodeScalars)
            if let bad = characters.first(where: { $0.value < 0x21 || $0.value > 0x7E }) {
                report("alphabet", in: section, "contains \(displayQuoted(String(bad))); use printable ASCII characters other than space, which every client and file format takes as they are", &reader)
            } else if let duplicate = characters.enumerated().first(where: { characters[..<$0.offset].contains($0.element) }) {
                report("alphabet", in: section, "contains \(displayQuoted(String(duplicate.element))) twice, which would make it likelier than the others", &reader)
            } else if characters.count < 2 {
                report("alphabet", in: section, "needs at least two different characters", &reader)
            }
        }
        if reader.issues.count == start {
            let size = Double((alphabet ?? RotationConfig.unreservedAlphabet).unicodeScalars.count)
            let bits = Double(length ?? 43) * log2(size)
            if bits < minimumPasswordBits {
                let node = section.value("passwordLength") ?? section.value("alphabet")
                reader.report(section.path.key(section.value("passwordLength") != nil ? "passwordLength" : "alphabet"), node,
                              "passwords of \(length ?? 43) characters from \(Int(size)) would carry only \(Int(bits)) bits; make them long enough for \(Int(minimumPasswordBits))")
            }
        }
        var validFor: TimeInterval?
        if let written = reader.string("validFor", in: section) {
            do {
                let seconds = try parseDurationSpec(written)
                if seconds > 0 {
                    validFor = seconds
                } else {
                    report("validFor", in: section, "must be longer than zero", &reader)
                }
            } catch {
                report("validFor", in: section, "\(error)", &reader)
            }
        }
        guard reader.issues.count == start else { return nil }
        return RotationConfig(passwordLength: length ?? 43, alphabet: alphabet ?? RotationConfig.unreservedAlphabet, validFor: validFor)
    }

    // MARK: The owner

    /// `database.owner` must be a listed role with profile owner, and the only
    /// one: what a second "owner" should be granted has no single answer.
    static func checkOwner(_ owner: String, section: YAMLMapping, roles: [RoleEntry], _ reader: inout YAMLReader) {
        let ownerPath = section.path.key("owner")
        guard let ownerIndex = roles.firstIndex(where: { $0.writtenName == owner }) else {
            // A role name that could not be read at all may be the owner's;
            // its own error says enough.
            guard !roles.contains(where: { $0.writtenName == nil && $0.nameNode != nil }) else { return }
            let listed = roles.compactMap(\.name)
            let have = listed.isEmpty ? "roles is empty" : "roles lists \(listed.joined(separator: ", "))"
            let suggestion = YAMLReader.suggestion(for: owner, among: listed).map { "did you mean \($0)? Otherwise " } ?? ""
            reader.report(ownerPath, section.value("owner"),
                          "\(displayQuoted(owner)) is not among the roles (\(have)); \(suggestion)add it to roles with profile: owner")
            // A role with profile owner is then likely the one meant: no more errors.
            return
        }
        // A refused name or profile has an error of its own.
        if roles[ownerIndex].name != nil, let profile = roles[ownerIndex].profile, profile != .owner {
            reader.report(ownerPath, section.value("owner"),
                          "\(displayQuoted(owner)) has profile \(profile) in roles[\(ownerIndex)]; the database owner's role needs profile owner")
        }
        for (index, role) in roles.enumerated() where role.profile == .owner && role.name != nil && role.name != owner {
            reader.report(YAMLPath.root.key("roles").index(index).key("profile"), role.profileNode,
                          "only the database owner (database.owner: \(displayQuoted(owner))) can have profile owner; use readwrite for roles that change data")
        }
    }

    // MARK: Shared checks

    static func report(_ key: String, in section: YAMLMapping, _ message: String, _ reader: inout YAMLReader, node: Node? = nil) {
        reader.report(section.path.key(key), node ?? section.value(key) ?? section.node, message)
    }

    @discardableResult
    static func checkIdentifier(_ value: String, _ key: String, in section: YAMLMapping, _ reader: inout YAMLReader) -> Bool {
        guard let problem = PostgresName.identifierProblem(value) else { return true }
        report(key, in: section, problem, &reader)
        return false
    }

    /// Free text (host names, paths, locales): not empty, no NUL.
    @discardableResult
    static func checkText(_ value: String, _ key: String, in section: YAMLMapping, _ reader: inout YAMLReader) -> Bool {
        if value.isEmpty {
            report(key, in: section, "must not be empty", &reader)
            return false
        }
        if value.unicodeScalars.contains("\0") {
            report(key, in: section, "must not contain a NUL character", &reader)
            return false
        }
        return true
    }

    static func readPort(_ key: String, in section: YAMLMapping, _ reader: inout YAMLReader) -> Int? {
        guard let port = reader.int(key, in: section) else { return nil }
        guard (1...65535).contains(port) else {
            report(key, in: section, "\(port) is not a TCP port; use 1 to 65535", &reader)
            return nil
        }
        return port
    }

    static func readSSLMode(_ key: String, in section: YAMLMapping, _ reader: inout YAMLReader) -> String? {
        guard let mode = reader.string(key, in: section) else { return nil }
        guard ClusterConfig.sslModes.contains(mode) else {
            report(key, in: section, "\(displayQuoted(mode)) is not one of \(ClusterConfig.sslModes.joined(separator: ", "))", &reader)
            return nil
        }
        return mode
    }

    static func readConnectionLimit(in section: YAMLMapping, _ reader: inout YAMLReader) -> Int? {
        guard let limit = reader.int("connectionLimit", in: section) else { return nil }
        guard limit >= -1 else {
            report("connectionLimit", in: section, "\(limit) is not a connection limit; use -1 for no limit, or 0 or more", &reader)
            return nil
        }
        return limit
    }
}
