import Foundation
import Testing

/// Round trips for the object kinds of issue #10: the source is exported
/// once for `restore --create -j 2` and once for `zstd -dc | psql`, and each
/// copy must give the same `pg_dump --schema-only` and rows as the source.
enum ExportKindsSupport {
    typealias Support = ExportTestSupport

    /// Runs both round trips of `source`. `inspect` gets each restored
    /// database's name for checks a user would make there; `cleanup` runs in
    /// each copy before it is dropped (a subscription must go first).
    static func roundTripBoth(_ source: String, cleanup: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                              inspect: (String) throws -> Void = { _ in }) throws {
        try ExportEdgeCaseTests.roundTrip(source, sourceLocation: sourceLocation) { result in
            defer { if let cleanup { try? Support.psql(result.restored, cleanup) } }
            try inspect(result.restored)
        }
        let archive = Support.temporaryPath("\(source).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try Support.export(source, to: archive, ["-j", "2"])
        try TestServer.withScratchDatabase("kinds_psql") { restored in
            defer { if let cleanup { try? Support.psql(restored, cleanup) } }
            try Support.restoreWithZstdAndPsql(archive, into: restored)
            let before = try Support.schemaDump(source), after = try Support.schemaDump(restored)
            #expect(before == after, "pg_dump --schema-only differs after zstd -dc | psql:\n\(briefDiff(before, after))",
                    sourceLocation: sourceLocation)
            let expected = try DatabaseFingerprint.of(source), actual = try DatabaseFingerprint.of(restored)
            #expect(expected.tables == actual.tables, "table checksums differ after zstd -dc | psql", sourceLocation: sourceLocation)
            try inspect(restored)
        }
    }

    /// One value of one row, as text.
    static func value(_ database: String, _ sql: String) throws -> String? {
        try TestServer.withConnection(database: database) { connection in
            guard let row = try connection.query(sql).first else { return nil }
            return try row.optionalString("v")
        }
    }
}
