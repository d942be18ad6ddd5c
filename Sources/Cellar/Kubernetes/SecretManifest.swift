import Foundation

/// A Kubernetes Secret holding one role's credentials, laid out as
/// CloudNativePG's application secrets are (`type: kubernetes.io/basic-auth`
/// with `username`, `password`, `host`, `port`, `dbname`, `uri`, `jdbc-uri`
/// and `pgpass`), so that applications and manifests written for those read
/// it unchanged.
///
/// The caller writes ``render()`` with CellarSupport's `AtomicFile` (mode 0600).
/// - Important: ``description`` and ``debugDescription`` never show the
///   password; ``render()``, ``uri``, ``jdbcURI`` and ``pgpassLine`` do.
public struct SecretManifest: Sendable, Equatable {
    /// The PostgreSQL role: the Secret's `username`.
    public var role: String
    public var password: String
    /// What the application connects to.
    public var host: String
    public var port: Int
    public var dbname: String
    /// libpq's `sslmode`, also given to JDBC (whose `sslmode` takes the same values).
    public var sslmode: String
    /// The Secret's `metadata.name` and `metadata.namespace`.
    public var name: String
    public var namespace: String
    /// When the password was set; whole seconds, as the annotation keeps it.
    public var rotatedAt: Date

    /// - Parameter rotatedAt: Rounded down to whole seconds, so that a
    ///   manifest read back from ``render()`` is equal to this one.
    public init(
        role: String,
        password: String,
        host: String,
        port: Int,
        dbname: String,
        sslmode: String,
        name: String,
        namespace: String,
        rotatedAt: Date
    ) {
        self.role = role
        self.password = password
        self.host = host
        self.port = port
        self.dbname = dbname
        self.sslmode = sslmode
        self.name = name
        self.namespace = namespace
        self.rotatedAt = Date(timeIntervalSince1970: rotatedAt.timeIntervalSince1970.rounded(.down))
    }
}

// MARK: - Labels and annotations

extension SecretManifest {
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let managerName = "pgcellar"
    public static let roleKey = "pgcellar.io/role"
    public static let databaseKey = "pgcellar.io/database"
    public static let rotatedAtAnnotation = "pgcellar.io/rotated-at"

    /// `kubectl get secret -l app.kubernetes.io/managed-by=pgcellar,pgcellar.io/database=…`
    /// finds what pgcellar wrote. A role or database name that is not a valid
    /// label value (longer than 63 characters, or with characters other than
    /// letters, digits, `-`, `_` and `.`) gets no label rather than an altered
    /// one; the annotations always carry the exact names.
    public var labels: [(key: String, value: String)] {
        var labels = [(Self.managedByLabel, Self.managerName)]
        if KubernetesName.isValidLabelValue(dbname) { labels.append((Self.databaseKey, dbname)) }
        if KubernetesName.isValidLabelValue(role) { labels.append((Self.roleKey, role)) }
        return labels
    }

    public var annotations: [(key: String, value: String)] {
        [(Self.databaseKey, dbname), (Self.roleKey, role), (Self.rotatedAtAnnotation, Self.timestamp(rotatedAt))]
    }

    /// RFC 3339 in UTC, whole seconds: `2026-11-29T12:00:00Z`.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Reads an RFC 3339 time, with or without fractional seconds.
    public static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

// MARK: - Connection strings

extension SecretManifest {
    /// `postgresql://user:password@host:port/dbname?sslmode=require`, every
    /// part percent-encoded outside RFC 3986's unreserved characters.
    public var uri: String {
        let e = ConnectionStringEscaping.percentEncoded
        return "postgresql://\(e(role)):\(e(password))@\(ConnectionStringEscaping.uriHost(host)):\(port)/\(e(dbname))?sslmode=\(e(sslmode))"
    }

    /// `jdbc:postgresql://host:port/dbname?user=…&password=…&sslmode=…`, as
    /// CloudNativePG's `jdbc-uri`, values percent-encoded (pgjdbc decodes them).
    public var jdbcURI: String {
        let e = ConnectionStringEscaping.percentEncoded
        return "jdbc:postgresql://\(ConnectionStringEscaping.uriHost(host)):\(port)/\(e(dbname))?user=\(e(role))&password=\(e(password))&sslmode=\(e(sslmode))"
    }

    /// `host:port:dbname:user:password` and a newline, for a `.pgpass` file.
    ///
    /// A password with a line break cannot be written in a pgpass file;
    /// ``RotationConfig/alphabet`` is printable ASCII, so generated ones never have one.
    public var pgpassLine: String {
        let e = ConnectionStringEscaping.pgpassEscaped
        return "\(e(host)):\(port):\(e(dbname)):\(e(role)):\(e(password))\n"
    }

    /// The Secret's `data`, decoded, in the order written (sorted by key, as kubectl does).
    public var dataEntries: [(key: String, value: String)] {
        [
            ("dbname", dbname),
            ("host", host),
            ("jdbc-uri", jdbcURI),
            ("password", password),
            ("pgpass", pgpassLine),
            ("port", String(port)),
            ("uri", uri),
            ("username", role),
        ]
    }

    /// The keys of ``dataEntries``.
    public static let dataKeys = ["dbname", "host", "jdbc-uri", "password", "pgpass", "port", "uri", "username"]
}

// MARK: - Rendering

extension SecretManifest {
    public static let secretType = "kubernetes.io/basic-auth"

    /// The manifest as YAML, for `kubectl apply -f`. The same manifest always
    /// renders to the same bytes.
    ///
    /// Every value is a double-quoted string, so that no YAML reader takes a
    /// port, a timestamp or a base64 text like `true` for another type.
    public func render() -> String {
        let q = yamlDoubleQuoted
        var lines = [
            "# A Kubernetes Secret written by pgcellar: the credentials of one PostgreSQL role.",
            "# It holds a password. Keep it out of version control and apply it with kubectl apply -f.",
            "apiVersion: v1",
            "kind: Secret",
            "type: \(Self.secretType)",
            "metadata:",
            "  name: \(q(name))",
            "  namespace: \(q(namespace))",
            "  labels:",
        ]
        lines += labels.map { "    \($0.key): \(q($0.value))" }
        lines.append("  annotations:")
        lines += annotations.map { "    \($0.key): \(q($0.value))" }
        lines.append("data:")
        lines += dataEntries.map { "  \($0.key): \(q(Data($0.value.utf8).base64EncodedString()))" }
        return lines.joined(separator: "\n") + "\n"
    }
}

// MARK: - Descriptions without the password

extension SecretManifest: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "Secret \(namespace)/\(name) for role \(displayQuoted(role)) on \(host):\(port)/\(dbname) (sslmode=\(sslmode), rotated \(Self.timestamp(rotatedAt)), password redacted)"
    }

    public var debugDescription: String {
        "SecretManifest(role: \(displayQuoted(role)), password: <redacted>, host: \(displayQuoted(host)), port: \(port), dbname: \(displayQuoted(dbname)), sslmode: \(displayQuoted(sslmode)), name: \(displayQuoted(name)), namespace: \(displayQuoted(namespace)), rotatedAt: \(Self.timestamp(rotatedAt)))"
    }
}

extension SecretManifest: CustomReflectable {
    /// `dump()` and the debugger show the fields, the password redacted.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "role": role, "password": "<redacted>", "host": host, "port": port, "dbname": dbname,
            "sslmode": sslmode, "name": name, "namespace": namespace, "rotatedAt": rotatedAt,
        ], displayStyle: .struct)
    }
}
