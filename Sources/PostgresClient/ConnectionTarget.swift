import Foundation
internal import CLibPQ
import Logging

/// Where and how to connect: a libpq connection string, keywords that win
/// over it, and the defaults every connection made from it gets. Built once,
/// then ``connect(logger:)`` opens as many connections as a run needs, each
/// the same way. (postgres-nio's `PostgresConnection.Configuration` plays
/// this part there.)
///
/// The defaults:
/// - `sslmode=require` unless an sslmode is named — by an override, in the
///   connection string, by a libpq service entry or in `PGSSLMODE` (see
///   ``sslModeChoice(environment:)``). libpq's own default, `prefer`, falls
///   back to plain text without a word.
/// - ``fallbackApplicationName``, which an `application_name` anywhere
///   (connection string, `PGAPPNAME`) overrides.
/// - ``advice`` for a failure, by kind, where the caller knows better than
///   libpq what a person should do.
/// - one warning per ``UnverifiedServerWarning`` when TLS does not verify
///   who the server is.
///
/// ```swift
/// let target = ConnectionTarget("host=db.internal dbname=shop")  // or "shop", or a URI
/// let connection = try target.connect(logger: logger)
/// let maintenance = try target.with(database: "postgres").connect(logger: logger)
/// ```
///
/// Everything libpq reads besides keeps working: `PG*` variables for what is
/// not named, `~/.pgpass`/`PGPASSFILE`, service files.
///
/// - Important: ``description`` never shows a password, whether it came in
///   the connection string, a URI or an override.
public struct ConnectionTarget: Sendable {
    /// A libpq keyword and its value.
    public struct Parameter: Sendable, Equatable {
        public var keyword: String
        public var value: String

        public init(_ keyword: String, _ value: String) {
            self.keyword = keyword
            self.value = value
        }
    }

    /// The connection string or URI: as given, or `dbname='NAME'` for a
    /// bare database name. Empty for libpq's defaults (`PG*` variables).
    public private(set) var conninfo: String
    /// Keywords that win over ``conninfo``, in order; a keyword appears once.
    public private(set) var overrides: [Parameter]
    /// The sslmode of connections for which nothing names one; nil leaves
    /// libpq's default (`prefer`).
    public var defaultSSLMode: String? = "require"
    /// `fallback_application_name`: what `pg_stat_activity` shows unless an
    /// `application_name` is set.
    public var fallbackApplicationName: String?
    /// What to tell a person when a connection fails, by kind; kinds not
    /// named here get ``ConnectionError/genericAdvice(for:)``.
    public var advice: [ConnectionError.Kind: String] = [:]
    /// Warns when a connection's TLS does not verify the server's identity;
    /// nil never warns. Shared by every copy of the target, so a run that
    /// opens many connections warns once.
    public var unverifiedServerWarning: UnverifiedServerWarning? = .perProcess

    /// - Parameters:
    ///   - conninfo: a conninfo string (`host=db dbname=shop`), a
    ///     `postgresql://` URI, a bare database name (`shop`, as pg_dump and
    ///     psql take `-d`: a value with no `=` that is not a URI), or ""
    ///     for libpq's defaults. It is not checked here; ``parsed()`` does,
    ///     and ``connect(logger:)`` fails with libpq's reason.
    ///   - overrides: keywords that win over `conninfo`.
    public init(_ conninfo: String = "", overrides: [Parameter] = []) {
        self.conninfo = Self.isConnectionString(conninfo) || conninfo.isEmpty
            ? conninfo
            : "dbname=" + Self.quoted(conninfo)
        self.overrides = []
        for parameter in overrides { self = self.overriding(parameter.keyword, parameter.value) }
    }

    // MARK: - Deriving targets

    /// The same target with `keyword` set to `value` (replacing an earlier override).
    public func overriding(_ keyword: String, _ value: String) -> ConnectionTarget {
        var copy = self
        copy.overrides.removeAll { $0.keyword == keyword }
        copy.overrides.append(Parameter(keyword, value))
        return copy
    }

    /// The same target with each keyword set, in order.
    public func overriding(_ parameters: KeyValuePairs<String, String>) -> ConnectionTarget {
        parameters.reduce(self) { $0.overriding($1.key, $1.value) }
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> ConnectionTarget {
        overriding("dbname", database)
    }

    // MARK: - What it names

    /// libpq's reading of ``conninfo`` (`PQconninfoParse`): keywords as
    /// written, no defaults, no password.
    /// - Throws: `ClientError` with libpq's reason when it is malformed.
    public func parsed() throws -> ConnectionInfo {
        try ConnectionInfo(conninfo)
    }

    /// The value an override or the connection string gives `keyword`, if any.
    public func value(of keyword: String) -> String? {
        if let parameter = overrides.last(where: { $0.keyword == keyword }) { return parameter.value }
        return (try? parsed())?.options[keyword]
    }

    /// The database named by an override or the connection string; nil
    /// leaves it to libpq (`PGDATABASE`, then the user name).
    public var database: String? { value(of: "dbname") }

    /// True when a password is written into the connection string or an override.
    public var hasPassword: Bool {
        overrides.contains { $0.keyword == "password" } || (try? parsed())?.hasPassword == true
    }

    /// libpq's rule for a `dbname` value that is a connection string rather
    /// than a name: it starts with a URI designator or holds an `=`.
    public static func isConnectionString(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") || text.contains("=")
    }

    // MARK: - Connecting

    /// Opens a connection to the target, with its defaults.
    ///
    /// - Parameter logger: receives the server's notices, and the warning
    ///   of ``unverifiedServerWarning``.
    /// - Throws: `ConnectionError` naming host, port, user and database,
    ///   libpq's reason and what to do about it.
    public func connect(logger: Logger = Logger(label: "PostgresClient")) throws -> Connection {
        let choice = sslModeChoice()
        var parameters: [(String, String)] = []
        if let fallbackApplicationName { parameters.append(("fallback_application_name", fallbackApplicationName)) }
        if choice.source == .targetDefault { parameters.append(("sslmode", choice.mode)) }
        // > PQconnectdbParams: If expand_dbname is non-zero, the value for the
        // > first dbname key word is checked to see if it is a connection
        // > string. [...] Any values specified after the expanded one override it.
        // The defaults above come before it, so that the connection string's
        // own fallback_application_name wins; the overrides after it win over it.
        if !conninfo.isEmpty { parameters.append(("dbname", conninfo)) }
        parameters += overrides.map { ($0.keyword, $0.value) }
        let connection: Connection
        do {
            connection = try Connection(parameters: parameters, expandDatabaseName: !conninfo.isEmpty, logger: logger)
        } catch var error as ConnectionError {
            if error.kind == .tlsNotOffered && choice.source == .targetDefault {
                error.kind = .tlsRequiredByDefault
            }
            error.advice = advice[error.kind] ?? ConnectionError.genericAdvice(for: error.kind)
            throw error
        }
        unverifiedServerWarning?.check(connection, logger: logger)
        return connection
    }

    // MARK: - Helpers

    /// Keywords whose values are never shown.
    static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// A conninfo value in single quotes, `\` and `'` escaped.
    static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

// MARK: - Equality and descriptions

extension ConnectionTarget: Equatable {
    public static func == (lhs: ConnectionTarget, rhs: ConnectionTarget) -> Bool {
        lhs.conninfo == rhs.conninfo && lhs.overrides == rhs.overrides
            && lhs.defaultSSLMode == rhs.defaultSSLMode && lhs.fallbackApplicationName == rhs.fallbackApplicationName
            && lhs.advice == rhs.advice && lhs.unverifiedServerWarning === rhs.unverifiedServerWarning
    }
}

extension ConnectionTarget: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The keywords the target names, passwords as `<redacted>`:
    /// `dbname=shop host=db password=<redacted>`; "libpq defaults" when none.
    public var description: String {
        var parts: [String] = []
        if !conninfo.isEmpty {
            parts.append((try? parsed().description) ?? "<malformed connection string>")
        }
        for parameter in overrides {
            let shown = Self.secretKeywords.contains(parameter.keyword) ? "<redacted>" : parameter.value
            parts.append("\(parameter.keyword)=\(shown)")
        }
        return parts.isEmpty ? "libpq defaults" : parts.joined(separator: " ")
    }

    public var debugDescription: String { "ConnectionTarget(\(description))" }

    /// What `dump` and the debugger show: the redacted description, never the fields.
    public var customMirror: Mirror {
        Mirror(self, children: ["target": description], displayStyle: .struct)
    }
}
