/// An error the server reported, with every diagnostic field libpq exposes.
///
/// The statement is kept for context but never printed with bound values: the
/// caller decides whether the statement text itself is safe to show (it is for
/// catalog queries; utility statements that carry a SCRAM verifier are marked
/// redacted by their callers).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// A SQLSTATE code. A struct, not an enum: the server's list grows.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let successfulCompletion = Code("00000")
        public static let syntaxError = Code("42601")
        public static let insufficientPrivilege = Code("42501")
        public static let undefinedTable = Code("42P01")
        public static let undefinedObject = Code("42704")
        public static let undefinedFunction = Code("42883")
        public static let duplicateObject = Code("42710")
        public static let duplicateDatabase = Code("42P04")
        public static let duplicateTable = Code("42P07")
        public static let duplicateSchema = Code("42P06")
        public static let invalidPassword = Code("28P01")
        public static let invalidAuthorizationSpecification = Code("28000")
        public static let invalidCatalogName = Code("3D000")
        public static let uniqueViolation = Code("23505")
        public static let foreignKeyViolation = Code("23503")
        public static let notNullViolation = Code("23502")
        public static let checkViolation = Code("23514")
        public static let badCopyFileFormat = Code("22P04")
        public static let invalidTextRepresentation = Code("22P02")
        public static let objectInUse = Code("55006")
        public static let lockNotAvailable = Code("55P03")
        public static let queryCanceled = Code("57014")
        public static let adminShutdown = Code("57P01")
        public static let serializationFailure = Code("40001")
        public static let deadlockDetected = Code("40P01")
        public static let featureNotSupported = Code("0A000")
        public static let invalidParameterValue = Code("22023")
        public static let dependentObjectsStillExist = Code("2BP01")
        public static let tooManyConnections = Code("53300")
        public static let objectNotInPrerequisiteState = Code("55000")
    }

    public var code: Code
    /// Non-localized severity: ERROR, FATAL, PANIC (or WARNING, NOTICE for notices).
    public var severity: String
    public var message: String
    public var detail: String?
    public var hint: String?
    /// 1-based character position in the statement, when the server gave one.
    public var position: Int?
    public var context: String?
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    public var dataTypeName: String?
    public var constraintName: String?
    /// The statement that failed, or nil when it must not be shown.
    public var statement: String?

    public init(code: Code, severity: String = "ERROR", message: String, detail: String? = nil,
                hint: String? = nil, position: Int? = nil, context: String? = nil,
                schemaName: String? = nil, tableName: String? = nil, columnName: String? = nil,
                dataTypeName: String? = nil, constraintName: String? = nil, statement: String? = nil) {
        self.code = code
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.context = context
        self.schemaName = schemaName
        self.tableName = tableName
        self.columnName = columnName
        self.dataTypeName = dataTypeName
        self.constraintName = constraintName
        self.statement = statement
    }

    public var description: String {
        var text = "\(severity.lowercased()) \(code): \(message)"
        if let detail { text += "\n  detail: \(detail)" }
        if let hint { text += "\n  hint: \(hint)" }
        if let statement {
            let shown = statement.count > 400 ? String(statement.prefix(400)) + "…" : statement
            text += "\n  statement: \(shown)"
            if let position { text += " (at character \(position))" }
        }
        return text
    }
}

/// A connection that could not be opened or was lost.
///
/// Names where it tried to go and as whom — never the password.
public struct ConnectionError: Error, Sendable, CustomStringConvertible {
    public var host: String
    public var port: String
    public var user: String
    public var database: String
    /// libpq's explanation, trimmed.
    public var reason: String
    /// What went wrong, as far as libpq's explanation tells (or the
    /// ``ConnectionTarget`` that knows more, such as where its sslmode came from).
    public var kind: Kind
    /// What a person can do about it, when we can tell.
    public var advice: String?

    /// - Parameter kind: nil to classify `reason`.
    public init(host: String, port: String, user: String, database: String, reason: String,
                kind: Kind? = nil, advice: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.reason = reason
        self.kind = kind ?? Kind(classifying: reason)
        self.advice = advice
    }

    /// True when the server refused the credentials (wrong or missing password).
    public var isAuthenticationFailure: Bool {
        reason.contains("password authentication failed")
            || reason.contains("no password supplied")
            || reason.contains("SCRAM authentication")
            || reason.contains("authentication failed")
    }

    public var description: String {
        var text = "cannot connect to \(host):\(port) as \(user) (database \(database)): \(reason)"
        if let advice { text += " (\(advice))" }
        return text
    }
}

extension ConnectionError {
    /// Why a connection failed, for choosing advice. A struct, not an enum:
    /// callers may name kinds of their own.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let authenticationFailed = Kind("authentication-failed")
        public static let passwordMissing = Kind("password-missing")
        public static let connectionRefused = Kind("connection-refused")
        /// pg_hba.conf has no line for this host, user, database and encryption, or a `reject` line.
        public static let rejectedByHBA = Kind("rejected-by-hba")
        public static let unknownHost = Kind("unknown-host")
        public static let unknownDatabase = Kind("unknown-database")
        /// The server answered the TLS request with "no" and the sslmode
        /// that was asked for requires TLS.
        public static let tlsNotOffered = Kind("tls-not-offered")
        /// As ``tlsNotOffered``, where the sslmode was not named anywhere and
        /// the ``ConnectionTarget``'s default required TLS.
        public static let tlsRequiredByDefault = Kind("tls-required-by-default")
        public static let other = Kind("other")

        /// The kind libpq's message describes.
        public init(classifying reason: String) {
            if reason.contains("password authentication failed") || reason.contains("SCRAM authentication") {
                self = .authenticationFailed
            } else if reason.contains("no password supplied") {
                self = .passwordMissing
            } else if reason.contains("server does not support SSL") {
                self = .tlsNotOffered
            } else if reason.contains("no pg_hba.conf entry") || reason.contains("pg_hba.conf rejects") {
                self = .rejectedByHBA
            } else if reason.contains("Connection refused") {
                self = .connectionRefused
            } else if reason.contains("could not translate host name") {
                self = .unknownHost
            } else if reason.contains("does not exist") && reason.contains("database") {
                self = .unknownDatabase
            } else {
                self = .other
            }
        }
    }

    /// Advice that holds for any libpq client; a ``ConnectionTarget``'s own
    /// ``ConnectionTarget/advice`` wins over it.
    public static func genericAdvice(for kind: Kind) -> String? {
        switch kind {
        case .authenticationFailed:
            return "check the password: ~/.pgpass, PGPASSFILE or PGPASSWORD"
        case .passwordMissing:
            return "supply the password through ~/.pgpass, PGPASSFILE or PGPASSWORD"
        case .connectionRefused:
            return "is the server running and accepting TCP connections on that host and port?"
        case .rejectedByHBA:
            return "the server's pg_hba.conf refuses this host, user, database or encryption (hostssl and hostnossl lines)"
        case .unknownHost:
            return "check the host name"
        case .unknownDatabase:
            return "check the database name"
        case .tlsNotOffered:
            return "the server does not offer TLS and the sslmode asked for requires it: enable ssl on the server, or choose a weaker sslmode knowingly"
        case .tlsRequiredByDefault:
            return "the server does not offer TLS, which this connection requires by default: add sslmode=disable (or prefer) to the connection string or set PGSSLMODE to connect without TLS knowingly"
        default:
            return nil
        }
    }
}

/// A misuse of the protocol that the client itself detected.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
