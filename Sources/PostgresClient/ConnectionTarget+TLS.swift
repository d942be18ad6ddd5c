import Foundation
internal import CLibPQ
import Logging

// MARK: - Which sslmode a connection gets

extension ConnectionTarget {
    /// A connection's sslmode and where it comes from.
    public struct SSLModeChoice: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// An override (a configuration file's setting, say).
            case override
            /// The connection string or URI (`sslmode=`, `?sslmode=`).
            case connectionString
            /// The named entry of a libpq service file.
            case service(String)
            /// `PGSSLMODE`.
            case environment
            /// Named nowhere: the target's ``ConnectionTarget/defaultSSLMode``.
            case targetDefault
            /// Named nowhere, and the target has no default: libpq's own.
            case libpqDefault
        }

        public var mode: String
        public var source: Source

        /// True when the target adds the sslmode itself.
        public var isTargetDefault: Bool { source == .targetDefault }
    }

    /// The sslmode a connection gets, and why; the first that applies:
    ///
    /// 1. an override, then the connection string (`PQconninfoParse` tells
    ///    which keywords it sets);
    /// 2. the libpq service the connection string or `PGSERVICE` names, when
    ///    its entry sets sslmode;
    /// 3. `PGSSLMODE`;
    /// 4. ``defaultSSLMode`` (`require`), else libpq's default.
    ///
    /// libpq reads a service file only while it connects, so for step 2 the
    /// target asks libpq to resolve the connection's options exactly as a
    /// connection would — service file, environment, compiled-in defaults —
    /// and stops it before any network traffic (an impossible
    /// `target_session_attrs` fails the option checks that run before the
    /// first connection attempt); then reads the sslmode back (`PQconninfo`).
    ///
    /// - Important: A service entry that says `sslmode=prefer` cannot be told
    ///   from libpq's compiled-in default, which is also `prefer`. It counts
    ///   as naming nothing, so TLS is still required: the safe reading. To
    ///   allow plain text through a service knowingly, put `sslmode=prefer`
    ///   (or `disable`) in the connection string or `PGSSLMODE`.
    /// - Parameter environment: where `PGSSLMODE` and `PGSERVICE` are read;
    ///   libpq itself always reads the process environment.
    public func sslModeChoice(environment: [String: String] = ProcessInfo.processInfo.environment) -> SSLModeChoice {
        if let mode = overrides.last(where: { $0.keyword == "sslmode" })?.value {
            return SSLModeChoice(mode: mode, source: .override)
        }
        let parsed = try? parsed()
        if let mode = parsed?.options["sslmode"] {
            return SSLModeChoice(mode: mode, source: .connectionString)
        }
        let fromEnvironment = environment["PGSSLMODE"].flatMap { $0.isEmpty ? nil : $0 }
        let service = value(of: "service") ?? environment["PGSERVICE"].flatMap { $0.isEmpty ? nil : $0 }
        if let service, let resolved = resolvedByLibpq()?["sslmode"] {
            // libpq: a service entry's values win over PG* variables.
            if resolved == fromEnvironment { return SSLModeChoice(mode: resolved, source: .environment) }
            if resolved != Self.libpqDefaultSSLMode || fromEnvironment != nil {
                return SSLModeChoice(mode: resolved, source: .service(service))
            }
        }
        if let fromEnvironment { return SSLModeChoice(mode: fromEnvironment, source: .environment) }
        if let defaultSSLMode { return SSLModeChoice(mode: defaultSSLMode, source: .targetDefault) }
        return SSLModeChoice(mode: Self.libpqDefaultSSLMode, source: .libpqDefault)
    }

    /// libpq's compiled-in sslmode (`prefer`; `disable` in a build without TLS).
    static let libpqDefaultSSLMode: String = {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse("", &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return "prefer"
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "sslmode", let compiled = option.pointee.compiled {
                return String(cString: compiled)
            }
            option += 1
        }
        return "prefer"
    }()

    /// Every option as libpq would resolve it for a connection to this
    /// target (service file, `PG*` variables, compiled-in defaults), without
    /// connecting; passwords left out. Nil when libpq could not resolve them
    /// (a service that is not defined): connecting then fails with its reason.
    func resolvedByLibpq() -> [String: String]? {
        var parameters: [(String, String)] = []
        if !conninfo.isEmpty { parameters.append(("dbname", conninfo)) }
        parameters += overrides.map { ($0.keyword, $0.value) }
        // > connectOptions2: [...] Validate target_session_attrs option.
        // It runs after the options are filled in and before the first
        // connection attempt, so an impossible value stops libpq in between.
        parameters.append(("target_session_attrs", "resolve-options-only"))
        let conn: OpaquePointer? = withCStringArray(parameters.map(\.0)) { keywords in
            withCStringArray(parameters.map(\.1)) { values in
                PQconnectStartParams(keywords, values, conninfo.isEmpty ? 0 : 1)
            }
        }
        guard let conn else { return nil }
        defer { PQfinish(conn) }
        guard let options = PQconninfo(conn) else { return nil }
        defer { PQconninfoFree(options) }
        var resolved: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            let key = String(cString: keyword)
            if let value = option.pointee.val, !Self.secretKeywords.contains(key) {
                resolved[key] = String(cString: value)
            }
            option += 1
        }
        // Options never filled in: libpq stopped before applying defaults.
        return resolved["sslmode"] == nil ? nil : resolved
    }
}

// MARK: - Whether TLS verified the server

extension Connection {
    /// The sslmode libpq used for this connection.
    public var sslMode: String? {
        guard let conn = try? live(), let options = PQconninfo(conn) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "sslmode" { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    /// True for a Unix-domain socket or a loopback address: no network
    /// between client and server on which anyone could pose as the server.
    public var isLocal: Bool {
        if host.hasPrefix("/") || host.hasPrefix("@") { return true }
        guard let conn = try? live() else { return false }
        // > PQhostaddr: Returns the server IP address of the active connection.
        let address = PQhostaddr(conn).map { String(cString: $0) } ?? ""
        return Self.isLoopback(address.isEmpty ? host : address)
    }

    /// True when TLS encrypts a connection that leaves the machine but
    /// nothing checked the server's certificate: an sslmode below
    /// `verify-ca` (which checks its issuer; `verify-full` also its name).
    public var isServerIdentityUnverified: Bool {
        guard usesTLS, !isLocal else { return false }
        return !["verify-ca", "verify-full"].contains(sslMode ?? "")
    }

    /// 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost".
    static func isLoopback(_ address: String) -> Bool {
        if address == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
            return mapped && bytes[12] == 127
        }
        return false
    }
}

/// Warns that TLS does not verify who the server is — once, however many
/// connections would: a run that opens sixteen connections says it once.
///
/// Every ``ConnectionTarget`` shares ``perProcess`` unless given another
/// (tests give their own, to see the warning again).
public final class UnverifiedServerWarning: @unchecked Sendable {
    // @unchecked Sendable: `warned` is guarded by `lock`. CellarSupport's
    // `Locked` would do, but PostgresClient stands alone and depends on no
    // other target of the package.
    private let lock = NSLock()
    private var warned = false

    /// The one for the whole process: one warning per run of a tool.
    public static let perProcess = UnverifiedServerWarning()

    public init() {}

    /// True once the warning was given.
    public var hasWarned: Bool {
        lock.lock()
        defer { lock.unlock() }
        return warned
    }

    /// Logs the warning if `connection` does not verify its server and no
    /// connection warned before.
    func check(_ connection: Connection, logger: Logger) {
        guard connection.isServerIdentityUnverified else { return }
        lock.lock()
        let first = !warned
        warned = true
        lock.unlock()
        guard first else { return }
        logger.warning("""
            TLS to \(connection.host):\(connection.port) does not verify the server's identity \
            (sslmode=\(connection.sslMode ?? "?")): the connection is encrypted, but anyone on the network path \
            could pose as the server; use sslmode=verify-full with sslrootcert naming the CA's certificate
            """)
    }
}
