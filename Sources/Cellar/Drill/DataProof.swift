import CellarSupport
import Foundation
import Logging
import PostgresClient

/// A drill's data proof: every table the archive has rows for is copied out
/// of the scratch database, as the export wrote it (its column list, its
/// COPY text settings, an empty search_path), and its row count and row
/// digest compared with the sum of the archive's chunks.
///
/// An extension configuration table is read under its `extcondition`, as
/// the export read it: after a restore it also holds the rows the
/// extension's script put there itself.
///
/// Sequence values are compared by the schema proof (their SEQUENCE SET
/// entries); large objects by ``LargeObjectProof``.
struct DataProof: Sendable {
    struct Expected: Sendable {
        var schema: String
        var name: String
        var copyStatement: String
        var rows = 0
        var digest: RowDigest? = .zero
        /// `COPY (SELECT ... WHERE condition) TO STDOUT` for an extension
        /// configuration table; nil to turn the archive's COPY around.
        var copyOut: String? = nil
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

    /// One table's outcome: its check and the mismatch it makes, if any.
    struct Outcome: Sendable {
        var check: DrillTableCheck?
        var mismatch: DrillMismatch?
    }

    /// Runs the proof: on `main` with one job, else on `jobs` connections to
    /// `target` (the scratch database), each taking the next table.
    func run(target: ConnectionTarget, main: Connection, jobs: Int, into report: inout DrillReport) throws {
        let configured = try Self.configurationCopies(main)
        let tables = expectedTables().map { table in
            var table = table
            table.copyOut = configured[table.schema + "\u{0}" + table.name]
            return table
        }
        let (seed, note) = self.seed
        report.digestsCompared = seed != nil
        report.digestNote = note
        let outcomes: [Outcome]
        if jobs <= 1 || tables.count <= 1 {
            try prepare(main)
            defer { _ = try? main.execute("ROLLBACK") }
            outcomes = try tables.map { try check($0, seed: seed, on: main) }
        } else {
            let queue = WorkQueue(Array(tables.indices))
            let collected = Outcomes(count: tables.count)
            let proof = self
            _ = try WorkerPool.run(threads: min(jobs, tables.count), name: "pgcellar-d") { context in
                let connection = try target.connect(logger: proof.logger)
                defer { connection.close() }
                try proof.prepare(connection)
                while !context.isCancelled, let index = queue.next() {
                    collected.set(index, try proof.check(tables[index], seed: seed, on: connection))
                }
            }
            outcomes = collected.all
        }
        for outcome in outcomes {
            if let check = outcome.check {
                report.tables.append(check)
                report.rows += check.restoredRows
                report.bytes += check.bytes
            }
            if let mismatch = outcome.mismatch { report.mismatches.append(mismatch) }
        }
    }

    /// The export's session, on a connection to the scratch database, in a
    /// read-only transaction.
    func prepare(_ connection: Connection) throws {
        try connection.execute("SELECT pg_catalog.set_config('search_path', '', false)")
        if let settings = header.copySettings {
            try CopyTextSettings.apply(settings, to: connection)
        } else {
            try Exporter.prepareSession(connection)
        }
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    }

    /// Copies one table out and compares it with the archive.
    func check(_ table: Expected, seed: UInt64?, on connection: Connection) throws -> Outcome {
        let object = "TABLE DATA \(table.schema).\(table.name)"
        guard let statement = table.copyOut ?? Self.copyOutStatement(table.copyStatement) else {
            return Outcome(mismatch: DrillMismatch(kind: .tableRows, object: object, detail: "the archive's COPY statement is not one this pgcellar writes, so its rows cannot be read back: \(table.copyStatement)"))
        }
        var digester = RowDigester(seed: seed ?? 0)
        var bytes: UInt64 = 0
        do {
            try connection.copyOut(statement) { row in
                digester.add(row: row)
                bytes += UInt64(row.count)
            }
        } catch let error as PostgresError {
            // The transaction is aborted: start another for the next table.
            try connection.execute("ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return Outcome(mismatch: DrillMismatch(kind: .tableRows, object: object, detail: "cannot read its rows back: \(error.message)"))
        }
        let expectedDigest = seed == nil ? nil : table.digest?.hex
        let check = DrillTableCheck(
            schema: table.schema, name: table.name, archiveRows: table.rows, restoredRows: digester.rows,
            archiveDigest: expectedDigest, restoredDigest: expectedDigest == nil ? nil : digester.digest.hex, bytes: bytes)
        guard !check.matches else { return Outcome(check: check) }
        var problems: [String] = []
        if check.archiveRows != check.restoredRows {
            problems.append("the archive holds \(check.archiveRows) rows, the restore gave back \(check.restoredRows)")
        }
        if let archive = check.archiveDigest, let restored = check.restoredDigest, archive != restored {
            problems.append("row digest \(restored) differs from the archive's \(archive): rows came back with other values")
        }
        return Outcome(check: check, mismatch: DrillMismatch(kind: .tableRows, object: object, detail: problems.joined(separator: "; ")))
    }

    /// The extension configuration tables of the scratch database, by
    /// "schema\0name": the COPY that reads their rows as the export did
    /// (CatalogBuilder+ExtensionMembers), under the extension's condition.
    static func configurationCopies(_ connection: Connection) throws -> [String: String] {
        let rows: [ExtensionConfigurationRow] = try decodeRows(connection, CatalogQueries.extensionConfigurationData)
        var copies: [String: String] = [:]
        for table in rows {
            let columns = table.columns ?? []
            let condition = table.condition.isEmpty ? "" : " \(table.condition)"
            copies[table.schema + "\u{0}" + table.name] =
                "COPY (SELECT \(columns.isEmpty ? "*" : columns.joined(separator: ", ")) FROM ONLY \(table.qname)\(condition)) TO STDOUT"
        }
        return copies
    }

    /// `COPY schema.table (columns) FROM stdin;` as `... TO STDOUT`: the
    /// statement the restore ran, turned around; nil for any other form.
    static func copyOutStatement(_ copyIn: String) -> String? {
        let suffix = " FROM stdin;"
        guard copyIn.hasPrefix("COPY "), copyIn.hasSuffix(suffix), !copyIn.contains("\n") else { return nil }
        return String(copyIn.dropLast(suffix.count)) + " TO STDOUT"
    }
}

/// Outcomes collected from the workers, by table index.
private final class Outcomes: Sendable {
    private let values: Locked<[DataProof.Outcome?]>

    init(count: Int) { values = Locked(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ outcome: DataProof.Outcome) {
        values.withLock { $0[index] = outcome }
    }

    /// Every outcome, in table order; a table no worker reached (after a
    /// worker failed) is left out: the failure is reported instead.
    var all: [DataProof.Outcome] {
        values.withLock { $0.compactMap { $0 } }
    }
}
