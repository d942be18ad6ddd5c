import Foundation
import PostgresClient

/// What `pgcellar drill` was asked to do.
public struct DrillOptions: Sendable {
    /// The maintenance connection of the server where the scratch database
    /// is made; the scratch database's own connections are made from it.
    public var server: ConnectionTarget
    /// The scratch database's name; nil for `<source>_drill_<random suffix>`.
    public var name: String?
    /// Fail when roles the archive references are missing on the server,
    /// instead of restoring without owners and privileges.
    public var requireRoles = false
    /// Leave the scratch database in place afterwards (for inspection).
    public var keep = false
    /// Connections the restore uses.
    public var jobs = 1

    public init(server: ConnectionTarget) {
        self.server = server
    }
}

/// Why a drill could not run at all (before a scratch database existed).
public struct DrillError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Names for scratch databases.
public enum ScratchName {
    /// PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1).
    public static let maximumBytes = 63

    /// `<source>_drill_<8 random hex digits>`, the source part shortened
    /// (on a character boundary) so the whole fits ``maximumBytes``: the
    /// suffix is never cut, so the name never equals the source's.
    public static func make(source: String, random: UInt32 = UInt32.random(in: 0...UInt32.max)) -> String {
        let suffix = "_drill_" + String(format: "%08x", random)
        var prefix = Substring(source)
        while prefix.utf8.count + suffix.utf8.count > maximumBytes { prefix = prefix.dropLast() }
        return prefix + suffix
    }

    /// Why `name` cannot be a scratch database for a drill of `source`; nil when it can.
    public static func problem(_ name: String, source: String) -> String? {
        if name.isEmpty { return "--name is empty" }
        if name.utf8.count > maximumBytes { return "--name \(name) is \(name.utf8.count) bytes; PostgreSQL names hold at most \(maximumBytes)" }
        if name == source { return "--name \(name) is the archive's own database: a drill restores into a database of its own" }
        return nil
    }
}
