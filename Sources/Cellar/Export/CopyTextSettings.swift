import Foundation
import PostgresClient

/// The run-time settings that decide how `COPY ... TO STDOUT` writes values
/// as text: the same rows read under another TimeZone, DateStyle or
/// bytea_output come out as other bytes, and so with another row digest.
///
/// The export records their values in the header (`copySettings`); a drill
/// sets them before reading restored rows back.
enum CopyTextSettings {
    /// Settings that shape COPY text output. `Exporter.prepareSession` fixes
    /// the first four; the others come from the server, database and role.
    /// (search_path, which decides how `regclass` and similar values are
    /// written, is always empty in an export session and in a drill's.)
    static let names = [
        "DateStyle", "IntervalStyle", "extra_float_digits", "client_encoding",
        "TimeZone", "bytea_output", "lc_monetary",
    ]

    /// The session's current values of ``names``, in that order.
    static func read(_ connection: Connection) throws -> [ArchiveHeader.SessionSetting] {
        try connection.query(
            "SELECT n AS name, pg_catalog.current_setting(n) AS value FROM unnest($1::text[]) WITH ORDINALITY AS s(n, i) ORDER BY i",
            [textArrayParameter(names)]
        ).rows.map { ArchiveHeader.SessionSetting(name: try $0.string("name"), value: try $0.string("value")) }
    }

    /// Sets the recorded values of ``names`` on `connection`, as bound
    /// parameters of `set_config`; settings with other names are ignored
    /// (an archive names the settings, but the list of what may be set is
    /// this reader's).
    ///
    /// - Throws: ``ClientError`` naming the setting the server refused (an
    ///   `lc_monetary` locale this server lacks, a TimeZone it does not know).
    static func apply(_ settings: [ArchiveHeader.SessionSetting], to connection: Connection) throws {
        let known = Set(names.map { $0.lowercased() })
        for setting in settings where known.contains(setting.name.lowercased()) {
            do {
                try connection.execute("SELECT pg_catalog.set_config($1, $2, false)", [setting.name, setting.value])
            } catch let error as PostgresError {
                throw ClientError("cannot set \(setting.name) to '\(setting.value)' as the export did: \(error.message); rows cannot be read back in the export's text form on this server")
            }
        }
    }
}
