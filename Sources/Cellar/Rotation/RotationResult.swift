#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What `rotate` was asked to do.
public struct RotationOptions: Sendable, Equatable {
    /// The roles to rotate; nil for every managed login role.
    public var roles: [String]?
    /// Leave a role alone when its Secret says it was rotated less than
    /// this many seconds ago.
    public var ifOlderThan: TimeInterval?
    /// Say what would happen; change nothing.
    public var dryRun: Bool

    public init(roles: [String]? = nil, ifOlderThan: TimeInterval? = nil, dryRun: Bool = false) {
        self.roles = roles
        self.ifOlderThan = ifOlderThan
        self.dryRun = dryRun
    }
}

/// What happened to one role. Never holds a password.
public struct RoleRotationResult: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// A new password is set, verified and in the Secret.
        case rotated
        /// A journal left by an interrupted run was found and that rotation
        /// finished (its password is set, verified and in the Secret).
        case completedPending = "completed-pending"
        /// `--if-older-than`: the Secret is fresh; nothing was touched.
        case fresh
        /// `--dry-run` outcomes.
        case wouldRotate = "would-rotate"
        case wouldCompletePending = "would-complete-pending"
        case wouldSkip = "would-skip"
        /// Nothing changed, or the previous password was restored (see
        /// ``RoleRotationResult/restoredPrevious``); the exit code is 1.
        case failed
    }

    public var role: String
    public var outcome: Outcome
    /// The Secret manifest file.
    public var secretFile: String
    /// When the password now in the Secret was set.
    public var rotatedAt: Date?
    /// `VALID UNTIL` of the new password, when `rotation.validFor` is set.
    public var validUntil: Date?
    /// True when a failed verification put the previous password back.
    public var restoredPrevious: Bool
    /// One sentence: what was done, or what failed and what to do.
    public var message: String

    public init(role: String, outcome: Outcome, secretFile: String, rotatedAt: Date? = nil, validUntil: Date? = nil,
                restoredPrevious: Bool = false, message: String) {
        self.role = role
        self.outcome = outcome
        self.secretFile = secretFile
        self.rotatedAt = rotatedAt
        self.validUntil = validUntil
        self.restoredPrevious = restoredPrevious
        self.message = message
    }

    public var succeeded: Bool { outcome != .failed }

    /// Whether the Secret file now holds a new password.
    public var changedSecret: Bool { outcome == .rotated || outcome == .completedPending }

    /// For `--json`: keys sorted by the caller, times in RFC 3339.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "role": role, "result": outcome.rawValue, "secretFile": secretFile,
            "restoredPrevious": restoredPrevious, "message": message,
        ]
        object["rotatedAt"] = rotatedAt.map(SecretManifest.timestamp) ?? NSNull()
        object["validUntil"] = validUntil.map(SecretManifest.timestamp) ?? NSNull()
        return object
    }
}

/// Who ran a rotation, for the audit line: the admin role on the server,
/// the operating-system user and the machine (a CronJob's pod name).
public struct RotationActor: Sendable, Equatable {
    public var adminRole: String
    public var server: String
    public var osUser: String
    public var hostname: String

    public init(adminRole: String, server: String, osUser: String = RotationActor.currentOSUser,
                hostname: String = RotationActor.currentHostname) {
        self.adminRole = adminRole
        self.server = server
        self.osUser = osUser
        self.hostname = hostname
    }

    public static var currentOSUser: String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid \(geteuid())"
    }

    public static var currentHostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "?" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension RoleRotationResult {
    /// `audit: rotate role=… result=… at=… by=…@… os_user=… host=… secret=…`,
    /// one line per role, for stderr. Never the password.
    public func auditLine(actor: RotationActor?, at time: Date) -> String {
        var fields: [(String, String)] = [
            ("role", role), ("result", outcome.rawValue), ("at", SecretManifest.timestamp(time)),
        ]
        if let actor {
            fields += [("by", "\(actor.adminRole)@\(actor.server)"), ("os_user", actor.osUser), ("host", actor.hostname)]
        }
        fields.append(("secret", secretFile))
        if let rotatedAt, changedSecret { fields.append(("rotated_at", SecretManifest.timestamp(rotatedAt))) }
        if let validUntil, changedSecret { fields.append(("valid_until", SecretManifest.timestamp(validUntil))) }
        if restoredPrevious { fields.append(("restored_previous", "true")) }
        if outcome == .failed { fields.append(("reason", message)) }
        return "audit: rotate " + fields.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
    }

    /// A value as logfmt writes it: bare when it is one plain word, else
    /// double-quoted with `"`, `\` and line breaks escaped.
    static func logfmtValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" && $0 != "="
        }
        return plain ? value : displayQuoted(value)
    }
}
