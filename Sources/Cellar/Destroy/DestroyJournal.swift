import CellarSupport
import Foundation

/// What a destroy changed on the database before dropping it, written (0600,
/// atomically, directory fsynced) *before* anything is revoked and removed
/// only once the database is dropped or given back as it was.
///
/// While it exists, the database may be closed to its applications: CONNECT
/// revoked, `ALLOW_CONNECTIONS false`. A signal or a failed run puts back
/// what the journal says (``DatabaseGate/reopen(_:on:logger:)``); after a
/// crash, the next run refuses to start another destroy and offers
/// `--abort` (reopen) or `--resume` (finish the destroy). The export a
/// destroy writes records the ACL from here, not the revoked one.
///
/// It lives beside the export, `.<export name>.destroy-journal`, on the same
/// volume as the file the destroy is writing.
public struct DestroyJournal: Sendable, Equatable {
    public static let format = "pgcellar-destroy-journal"
    public static let version = 1

    /// Where the destroy is, for the message of a run that finds the journal.
    public enum Stage: String, Sendable {
        /// CONNECT is revoked (or about to be); the export has not been dropped.
        case closed
        /// The export is verified (and drilled); `DROP DATABASE` is under way.
        case dropping
    }

    public var database: String
    /// The database's OID: the database the journal speaks of, even if
    /// another one has taken its name since.
    public var databaseOID: UInt32
    /// The database's owner when the destroy began.
    public var owner: String
    /// `datacl` as `aclexplode` lists it, in order; nil for the default ACL
    /// (`datacl` NULL), which is what the export records then.
    public var privileges: [ArchiveHeader.Privilege]?
    /// The ACL in effect (`coalesce(datacl, acldefault('d', datdba))`),
    /// exploded, in order: what a reopen grants back.
    public var effectivePrivileges: [ArchiveHeader.Privilege]
    /// `datacl` as text, for a person reading the journal.
    public var aclText: String?
    /// `datallowconn` before the destroy.
    public var allowConnections: Bool
    /// When the destroy set `ALLOW_CONNECTIONS false`; nil while it has not.
    public var connectionsDisallowedAt: Date?
    public var stage: Stage
    public var exportPath: String
    public var startedAt: Date

    public init(database: String, databaseOID: UInt32, owner: String, privileges: [ArchiveHeader.Privilege]?,
                effectivePrivileges: [ArchiveHeader.Privilege], aclText: String?, allowConnections: Bool,
                connectionsDisallowedAt: Date? = nil, stage: Stage = .closed, exportPath: String, startedAt: Date) {
        self.database = database
        self.databaseOID = databaseOID
        self.owner = owner
        self.privileges = privileges
        self.effectivePrivileges = effectivePrivileges
        self.aclText = aclText
        self.allowConnections = allowConnections
        self.connectionsDisallowedAt = connectionsDisallowedAt.map { Date(timeIntervalSince1970: $0.timeIntervalSince1970.rounded(.down)) }
        self.stage = stage
        self.exportPath = exportPath
        self.startedAt = Date(timeIntervalSince1970: startedAt.timeIntervalSince1970.rounded(.down))
    }

    /// Where the journal of a destroy exporting to `exportPath` lives.
    public static func path(forExport exportPath: String) -> String {
        let url = URL(fileURLWithPath: exportPath)
        let directory = (exportPath as NSString).deletingLastPathComponent
        let name = "." + url.lastPathComponent + ".destroy-journal"
        return directory.isEmpty ? name : directory + "/" + name
    }

    // MARK: - Reading and writing

    /// The journal at `path`, or nil when there is none.
    /// - Throws: ``DestroyError`` when the file exists but is not a journal;
    ///   pgcellar then stops rather than guess the database's state.
    public static func load(path: String) throws -> DestroyJournal? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DestroyError("cannot read the destroy journal \(path): \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["format"] as? String == format else {
            throw DestroyError("\(path) is not a pgcellar destroy journal; move it away only if the database's privileges are as they should be")
        }
        guard object["version"] as? Int == version else {
            throw DestroyError("\(path) is a destroy journal of version \(object["version"] ?? "?"), this pgcellar reads version \(version)")
        }
        func string(_ key: String) throws -> String {
            guard let value = object[key] as? String, !value.isEmpty else {
                throw DestroyError("\(path): the destroy journal has no \(key)")
            }
            return value
        }
        func time(_ key: String) throws -> Date {
            let text = try string(key)
            guard let date = SecretManifest.parseTimestamp(text) else {
                throw DestroyError("\(path): \(key) \(displayQuoted(text)) is not an RFC 3339 time")
            }
            return date
        }
        func privileges(_ key: String) throws -> [ArchiveHeader.Privilege]? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            do {
                return try JSONDecoder().decode([ArchiveHeader.Privilege].self,
                                                from: JSONSerialization.data(withJSONObject: value))
            } catch {
                throw DestroyError("\(path): \(key) is not a list of privileges: \(error)")
            }
        }
        guard let oid = object["databaseOID"] as? Int, let databaseOID = UInt32(exactly: oid) else {
            throw DestroyError("\(path): the destroy journal has no databaseOID")
        }
        guard let allow = object["allowConnections"] as? Bool else {
            throw DestroyError("\(path): the destroy journal has no allowConnections")
        }
        guard let stage = Stage(rawValue: try string("stage")) else {
            throw DestroyError("\(path): stage \(displayQuoted(try string("stage"))) is not one this pgcellar knows")
        }
        guard let effective = try privileges("effectivePrivileges") else {
            throw DestroyError("\(path): the destroy journal has no effectivePrivileges")
        }
        return DestroyJournal(
            database: try string("database"), databaseOID: databaseOID, owner: try string("owner"),
            privileges: try privileges("privileges"), effectivePrivileges: effective,
            aclText: object["aclText"] as? String, allowConnections: allow,
            connectionsDisallowedAt: object["connectionsDisallowedAt"] is String ? try time("connectionsDisallowedAt") : nil,
            stage: stage, exportPath: try string("exportPath"), startedAt: try time("startedAt"))
    }

    /// The journal as written: JSON, keys sorted.
    public func rendered() throws -> Data {
        func json(_ privileges: [ArchiveHeader.Privilege]) throws -> Any {
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(privileges))
        }
        var object: [String: Any] = [
            "format": Self.format, "version": Self.version, "database": database, "databaseOID": Int(databaseOID),
            "owner": owner, "privileges": try privileges.map(json) ?? NSNull(),
            "effectivePrivileges": try json(effectivePrivileges), "aclText": aclText ?? NSNull(),
            "allowConnections": allowConnections, "stage": stage.rawValue, "exportPath": exportPath,
            "startedAt": SecretManifest.timestamp(startedAt),
        ]
        if let connectionsDisallowedAt { object["connectionsDisallowedAt"] = SecretManifest.timestamp(connectionsDisallowedAt) }
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Writes the journal to `path`: mode 0600, atomically and durably.
    public func write(to path: String) throws {
        try AtomicFile.write(try rendered(), to: path, mode: 0o600)
    }

    /// Removes the journal at `path` durably; a journal already gone is no error.
    public static func remove(path: String) throws {
        do {
            try AtomicFile.removeDurably(path: path)
        } catch let error as FileError where error.errorNumber == ENOENT {
            return
        }
    }

    /// What a run that finds this journal tells the operator.
    public func interruptedMessage(path: String) -> String {
        let closed = connectionsDisallowedAt != nil ? "CONNECT revoked and ALLOW_CONNECTIONS false" : "CONNECT revoked"
        let state = stage == .dropping
            ? "it was dropping database \(database), which may be gone"
            : "database \(database) may still have \(closed)"
        return "a destroy of \(database) begun at \(SecretManifest.timestamp(startedAt)) was interrupted (journal \(path)): \(state). "
            + "Run pgcellar destroy --abort to give the database its privileges and connections back, "
            + "or pgcellar destroy --yes --resume to finish the destroy (export, verify, drill, drop); "
            + "no new destroy starts while the journal exists"
    }
}

/// Removes the temporary files an interrupted `AtomicFileWriter` left next
/// to `path` (`.<name>.<random>.tmp`): a killed export's partial copy of the
/// database.
///
/// - Returns: The paths removed.
@discardableResult
func removeLeftoverTemporaryFiles(of path: String) -> [String] {
    let name = (path as NSString).lastPathComponent
    // AtomicFileWriter keeps the first 48 characters of the name; a longer
    // one could share its prefix with another file, so leave those.
    guard name.count <= 48 else { return [] }
    let directory = (path as NSString).deletingLastPathComponent
    let listing = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
    var removed: [String] = []
    for entry in listing where entry.hasPrefix("." + name + ".") && entry.hasSuffix(".tmp") {
        let middle = entry.dropFirst(name.count + 2).dropLast(4)
        guard !middle.isEmpty, middle.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { continue }
        let leftover = directory.isEmpty ? entry : directory + "/" + entry
        if (try? AtomicFile.removeDurably(path: leftover)) != nil { removed.append(leftover) }
    }
    return removed
}
