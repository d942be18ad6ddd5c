import CellarSupport
import Foundation

/// The pending file: a rotation's new credentials, written (0600, atomically,
/// directory fsynced) before `ALTER ROLE` and removed only after the Secret
/// manifest holds them.
///
/// While it exists the server may have either password, so the next run
/// finishes this rotation before anything else: it re-issues the journaled
/// verifier (the same bytes the killed run may or may not have committed),
/// verifies a login and promotes the password into the Secret.
///
/// It lives next to the Secret, `<secret file>.pending`, on the same volume:
/// a CronJob mounts a persistent volume there so that it survives the pod.
///
/// - Important: It holds a plaintext password; `description` never shows it.
public struct RotationJournal: Sendable, Equatable {
    public static let format = "pgcellar-rotation-journal"
    public static let version = 1

    public var role: String
    public var database: String
    public var password: String
    /// The SCRAM-SHA-256 verifier sent to the server; re-issued as is.
    public var verifier: String
    /// The rotation time that goes into the Secret's annotation.
    public var rotatedAt: Date
    /// `VALID UNTIL`, from `rotation.validFor`; nil for `'infinity'`.
    public var validUntil: Date?
    /// The role's `VALID UNTIL` before this rotation, read from the server
    /// before `ALTER ROLE`: what a rollback sets again. Nil in a journal
    /// written by a pgcellar that did not record it.
    public var previousValidUntil: RoleExpiry?

    public init(role: String, database: String, password: String, verifier: String, rotatedAt: Date, validUntil: Date?,
                previousValidUntil: RoleExpiry? = nil) {
        self.role = role
        self.database = database
        self.password = password
        self.verifier = verifier
        // Whole seconds, as the Secret's annotation and VALID UNTIL keep them.
        self.rotatedAt = Date(timeIntervalSince1970: rotatedAt.timeIntervalSince1970.rounded(.down))
        self.validUntil = validUntil.map { Date(timeIntervalSince1970: $0.timeIntervalSince1970.rounded(.down)) }
        self.previousValidUntil = previousValidUntil
    }

    /// Where the journal of the Secret at `secretPath` lives.
    public static func path(forSecret secretPath: String) -> String {
        secretPath + ".pending"
    }

    // MARK: - Reading and writing

    /// The journal at `path`, or nil when there is none.
    /// - Throws: ``RotationError`` when the file exists but is not a journal;
    ///   pgcellar then stops rather than guess the server's state.
    public static func load(path: String) throws -> RotationJournal? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RotationError("cannot read the pending rotation \(path): \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["format"] as? String == format else {
            throw RotationError("\(path) is not a pgcellar rotation journal; move it away only if you know the role's password is in its Secret")
        }
        guard object["version"] as? Int == version else {
            throw RotationError("\(path) is a rotation journal of version \(object["version"] ?? "?"), this pgcellar reads version \(version)")
        }
        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String, !value.isEmpty else {
                throw RotationError("\(path): the rotation journal has no \(key)")
            }
            return value
        }
        func time(_ key: String) throws -> Date {
            let text = try string(key)
            guard let date = SecretManifest.parseTimestamp(text) else {
                throw RotationError("\(path): \(key) \(displayQuoted(text)) is not an RFC 3339 time")
            }
            return date
        }
        return RotationJournal(
            role: try string("role"), database: try string("database"), password: try string("password"),
            verifier: try string("verifier"), rotatedAt: try time("rotatedAt"),
            validUntil: object["validUntil"] is String ? try time("validUntil") : nil,
            previousValidUntil: (object["previousValidUntil"] as? String).map(RoleExpiry.init(literal:)))
    }

    /// The journal as written: JSON, keys sorted.
    public func rendered() throws -> Data {
        var object: [String: Any] = [
            "format": Self.format, "version": Self.version, "role": role, "database": database,
            "password": password, "verifier": verifier, "rotatedAt": SecretManifest.timestamp(rotatedAt),
        ]
        if let validUntil { object["validUntil"] = SecretManifest.timestamp(validUntil) }
        // An optional key: version 1 readers that predate it ignore it.
        if let previousValidUntil { object["previousValidUntil"] = previousValidUntil.literal }
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Writes the journal to `path`: mode 0600, atomically and durably, its
    /// directory created (0700) when missing.
    public func write(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        try AtomicFile.write(try rendered(), to: path, mode: 0o600)
    }
}

extension RotationJournal: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "pending rotation of \(displayQuoted(role)) from \(SecretManifest.timestamp(rotatedAt)) (password redacted)"
    }

    public var debugDescription: String { "RotationJournal(\(description))" }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "role": role, "database": database, "password": "<redacted>", "verifier": "<redacted>",
            "rotatedAt": rotatedAt, "validUntil": validUntil as Any, "previousValidUntil": previousValidUntil as Any,
        ], displayStyle: .struct)
    }
}

/// Why a rotation could not start or finish, in words a person can act on.
public struct RotationError: Error, Sendable, CustomStringConvertible, LocalizedError {
    public var message: String
    /// The role's Secret file holds another role's credentials: never overwrite it.
    public var isForeignSecret = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
