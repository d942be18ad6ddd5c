import Foundation

// MARK: - The configuration file

/// What one configuration file (`config/*.yaml`) says pgcellar should manage:
/// the admin connection, one database, its roles and how their passwords rotate.
///
/// Load it with ``load(path:)`` or ``parse(yaml:source:baseDirectory:)``; both
/// validate everything that can be checked without a server and report every
/// problem at once in a ``ConfigError``.
public struct PgcellarConfig: Sendable, Equatable {
    /// The admin connection (no password: libpq finds it in `~/.pgpass`,
    /// `PGPASSFILE` or `PGPASSWORD`).
    public var cluster: ClusterConfig
    /// The database pgcellar creates and converges.
    public var database: DatabaseConfig
    /// The roles pgcellar manages, in file order. Exactly one has profile
    /// ``RoleProfile/owner``: the one named by ``DatabaseConfig/owner``.
    public var roles: [RoleConfig]
    /// How passwords are generated and how long they are good for; `nil` when
    /// the file has no `rotation` section (``RotationConfig/init()`` applies).
    public var rotation: RotationConfig?
    /// Where backups go (docs/backups.md); `nil` when the file has no
    /// `repository` section, and `backup` refuses to run.
    public var repository: RepositoryConfig?

    /// Where the configuration came from, as the user named it; every error
    /// message starts with it.
    public var source: String
    /// The directory that relative paths in the file (secret files, `sslrootcert`)
    /// are resolved against: the configuration file's own directory.
    public var baseDirectory: String

    public init(
        cluster: ClusterConfig,
        database: DatabaseConfig,
        roles: [RoleConfig],
        rotation: RotationConfig? = nil,
        repository: RepositoryConfig? = nil,
        source: String = "<config>",
        baseDirectory: String = "."
    ) {
        self.cluster = cluster
        self.database = database
        self.roles = roles
        self.rotation = rotation
        self.repository = repository
        self.source = source
        self.baseDirectory = baseDirectory
    }
}

extension PgcellarConfig {
    /// The rotation settings in force: the file's, or the defaults.
    public var effectiveRotation: RotationConfig { rotation ?? RotationConfig() }

    /// The role that owns the database (validation guarantees it is listed).
    public var ownerRole: RoleConfig? { role(named: database.owner) }

    /// The role with exactly this name (names are case-sensitive, as quoted
    /// PostgreSQL identifiers are).
    public func role(named name: String) -> RoleConfig? {
        roles.first { $0.name == name }
    }

    /// A path from the file resolved against the file's directory; absolute
    /// paths are returned unchanged.
    public func resolvedPath(_ path: String) -> String {
        if path.hasPrefix("/") || baseDirectory.isEmpty || baseDirectory == "." {
            return path
        }
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        return baseDirectory.hasSuffix("/") ? baseDirectory + relative : baseDirectory + "/" + relative
    }

    /// Where the Secret manifest of `secret` is written, relative paths
    /// resolved against the configuration file's directory.
    public func resolvedSecretPath(_ secret: SecretConfig) -> String {
        resolvedPath(secret.file)
    }

    /// Where the Secret manifest of `role` is written, or `nil` for a role
    /// without a Secret (a role that cannot log in).
    public func resolvedSecretPath(for role: RoleConfig) -> String? {
        role.secret.map(resolvedSecretPath)
    }

    /// `cluster.sslrootcert` resolved against the configuration file's
    /// directory; libpq's special value `system` is passed through.
    public var resolvedSSLRootCert: String? {
        guard let path = cluster.sslrootcert else { return nil }
        return path == "system" ? path : resolvedPath(path)
    }
}

// MARK: - Sections

/// The admin connection: `cluster:` in the file.
public struct ClusterConfig: Sendable, Equatable {
    /// libpq's `sslmode` values, weakest first.
    public static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    public var host: String
    /// 1–65535; default 5432.
    public var port: Int
    public var user: String
    /// One of ``sslModes``; default `require`.
    public var sslmode: String
    /// The maintenance database the admin connection opens (libpq `dbname`);
    /// default `postgres`.
    public var dbname: String
    /// libpq `sslrootcert`, as written; see ``PgcellarConfig/resolvedSSLRootCert``.
    public var sslrootcert: String?

    public init(
        host: String,
        port: Int = 5432,
        user: String,
        sslmode: String = "require",
        dbname: String = "postgres",
        sslrootcert: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.sslmode = sslmode
        self.dbname = dbname
        self.sslrootcert = sslrootcert
    }
}

/// The managed database: `database:` in the file.
public struct DatabaseConfig: Sendable, Equatable {
    public var name: String
    /// The role that owns the database; listed in `roles` with profile `owner`.
    public var owner: String
    /// A PostgreSQL server encoding, normalized to its canonical name (`UTF8`);
    /// default `UTF8`.
    public var encoding: String
    /// `LC_COLLATE` and `LC_CTYPE`; `nil` takes the template's.
    public var locale: String?
    /// Default `template0`, which any encoding and locale can be copied from.
    public var template: String
    /// `-1` (no limit, the default) or more.
    public var connectionLimit: Int
    /// Extensions created in the database, in file order; default none.
    public var extensions: [String]

    public init(
        name: String,
        owner: String,
        encoding: String = "UTF8",
        locale: String? = nil,
        template: String = "template0",
        connectionLimit: Int = -1,
        extensions: [String] = []
    ) {
        self.name = name
        self.owner = owner
        self.encoding = encoding
        self.locale = locale
        self.template = template
        self.connectionLimit = connectionLimit
        self.extensions = extensions
    }
}

/// What a managed role may do in the database.
public enum RoleProfile: String, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// Owns the database and its objects: DDL and DML (the data model's
    /// `beersystem_admin`).
    case owner
    /// Reads and writes rows, no DDL (the data model's future `beersystem_app`).
    case readwrite
    /// Reads rows only.
    case readonly

    public var description: String { rawValue }
}

/// One managed role: an entry of `roles:` in the file.
public struct RoleConfig: Sendable, Equatable {
    public typealias Profile = RoleProfile

    public var name: String
    /// Default `true`.
    public var login: Bool
    public var profile: RoleProfile
    /// `nil` leaves PostgreSQL's default (no limit); otherwise `-1` or more.
    public var connectionLimit: Int?
    /// Present exactly when ``login`` is true.
    public var secret: SecretConfig?

    public init(
        name: String,
        login: Bool = true,
        profile: RoleProfile,
        connectionLimit: Int? = nil,
        secret: SecretConfig? = nil
    ) {
        self.name = name
        self.login = login
        self.profile = profile
        self.connectionLimit = connectionLimit
        self.secret = secret
    }
}

/// Where a login role's credentials go: `roles[n].secret:` in the file.
public struct SecretConfig: Sendable, Equatable {
    /// The Secret's name: a DNS-1123 subdomain (at most 253 characters).
    public var name: String
    /// The Secret's namespace: a DNS-1123 label (at most 63 characters).
    public var namespace: String
    /// The manifest file, as written; see ``PgcellarConfig/resolvedSecretPath(_:)``.
    public var file: String
    /// What the application connects to, when it differs from `cluster`.
    public var host: String?
    public var port: Int?
    public var sslmode: String?

    public init(
        name: String,
        namespace: String,
        file: String,
        host: String? = nil,
        port: Int? = nil,
        sslmode: String? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.file = file
        self.host = host
        self.port = port
        self.sslmode = sslmode
    }
}

/// How new passwords are made: `rotation:` in the file.
public struct RotationConfig: Sendable, Equatable {
    /// RFC 3986's unreserved characters: safe in URIs, conninfo strings,
    /// pgpass lines, shells and YAML without any escaping.
    public static let unreservedAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

    /// Characters per password; default 43 (about 260 bits from the default alphabet).
    public var passwordLength: Int
    /// The characters passwords are drawn from, each once; printable ASCII
    /// without space. Default ``unreservedAlphabet``.
    public var alphabet: String
    /// How long a password is good for, in seconds; `rotate` replaces older
    /// ones. `nil`: rotate whenever asked.
    public var validFor: TimeInterval?

    public init(
        passwordLength: Int = 43,
        alphabet: String = RotationConfig.unreservedAlphabet,
        validFor: TimeInterval? = nil
    ) {
        self.passwordLength = passwordLength
        self.alphabet = alphabet
        self.validFor = validFor
    }
}
