import Foundation
import Logging
import PostgresClient

/// A drill's data proof: every table the archive has rows for is copied out
/// of the scratch database, as the export wrote it (its column list, its
/// COPY text settings, an empty search_path), and its row count and row
/// digest compared with the sum of the archive's chunks.
///
/// Sequence values are compared by the schema proof (their SEQUENCE SET
/// entries). Large objects and extension configuration tables, when the
/// archive holds them, each get a proof of their own beside this one.
struct DataProof {
    struct Expected {
        var schema: String
        var name: String
        var copyStatement: String
        var rows = 0
        var digest: RowDigest? = .zero
    }

    let header: ArchiveHeader
    let entries: [ArchiveEntry]
    let logger: Logger

    /// The seed, or nil with the reason digests cannot be compared.
    var seed: (UInt64?, note: String?) {
        switch header.rowDigest {
        case nil:
            return (nil, "the archive has no row digests (written before they were recorded): tables were compared by row count only")
        case let info? where info.usableSeed == nil:
            return (nil, "the archive's row digests use \(info.algorithm), which this pgcellar does not compute: tables were compared by row count only")
        case let info?:
            return (info.usableSeed, nil)
        }
    }

    /// The archive's tables in file order, their chunks summed.
    func expectedTables() -> [Expected] {
        var order: [String] = []
        var tables: [String: Expected] = [:]
        for entry in entries where entry.kind == .tableData {
            guard let data = entry.data else { continue }
            let key = data.tableSchema + "\u{0}" + data.tableName
            if tables[key] == nil {
                order.append(key)
                tables[key] = Expected(schema: data.tableSchema, name: data.tableName, copyStatement: data.copyStatement)
            }
            tables[key]!.rows += data.rows
            if let hex = data.rowDigest, let digest = RowDigest(hex: hex) {
                tables[key]!.digest = tables[key]!.digest.map { $0 + digest }
            } else {
                tables[key]!.digest = nil
            }
        }
        return order.map { tables[$0]! }
    }

    /// Runs the proof on a connection to the scratch database.
    func run(on connection: Connection, into report: inout DrillReport) throws {
        try connection.execute("SELECT pg_catalog.set_config('search_path', '', false)")
        if let settings = header.copySettings {
            try CopyTextSettings.apply(settings, to: connection)
        } else {
            try Exporter.prepareSession(connection)
        }
        let (seed, note) = seed
        report.digestsCompared = seed != nil
        report.digestNote = note
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        for table in expectedTables() {
            let object = "TABLE DATA \(table.schema).\(table.name)"
            guard let statement = Self.copyOutStatement(table.copyStatement) else {
                report.mismatches.append(DrillMismatch(kind: .tableRows, object: object, detail: "the archive's COPY statement is not one this pgcellar writes, so its rows cannot be read back: \(table.copyStatement)"))
                continue
            }
            var digester = RowDigester(seed: seed ?? 0)
            var bytes: UInt64 = 0
            do {
                try connection.copyOut(statement) { row in
                    digester.add(row: row)
                    bytes += UInt64(row.count)
                }
            } catch let error as PostgresError {
                report.mismatches.append(DrillMismatch(kind: .tableRows, object: object, detail: "cannot read its rows back: \(error.message)"))
                // The transaction is aborted: start another for the next table.
                try connection.execute("ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                continue
            }
            let expectedDigest = seed == nil ? nil : table.digest?.hex
            let check = DrillTableCheck(
                schema: table.schema, name: table.name, archiveRows: table.rows, restoredRows: digester.rows,
                archiveDigest: expectedDigest, restoredDigest: expectedDigest == nil ? nil : digester.digest.hex, bytes: bytes)
            report.tables.append(check)
            report.rows += digester.rows
            report.bytes += bytes
            if !check.matches {
                var problems: [String] = []
                if check.archiveRows != check.restoredRows {
                    problems.append("the archive holds \(check.archiveRows) rows, the restore gave back \(check.restoredRows)")
                }
                if let archive = check.archiveDigest, let restored = check.restoredDigest, archive != restored {
                    problems.append("row digest \(restored) differs from the archive's \(archive): rows came back with other values")
                }
                report.mismatches.append(DrillMismatch(kind: .tableRows, object: object, detail: problems.joined(separator: "; ")))
            }
        }
    }

    /// `COPY schema.table (columns) FROM stdin;` as `... TO STDOUT`: the
    /// statement the restore ran, turned around; nil for any other form.
    static func copyOutStatement(_ copyIn: String) -> String? {
        let suffix = " FROM stdin;"
        guard copyIn.hasPrefix("COPY "), copyIn.hasSuffix(suffix), !copyIn.contains("\n") else { return nil }
        return String(copyIn.dropLast(suffix.count)) + " TO STDOUT"
    }
}
