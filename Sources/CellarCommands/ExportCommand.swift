import ArgumentParser
import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient

/// `pgcellar export`: a consistent, compressed logical export of one database.
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export one database, consistently and compressed, to a .sql.zst file or stdout.",
        discussion: """
        The output is a sequence of zstd frames whose decompressed stream is a plain SQL script, so `zstd -dc FILE | psql -d fresh` restores it; pgcellar restore can load it in parallel and selectively, and pgcellar verify checks it without a server (docs/archive-format.md).

        Everything comes from one snapshot: with -j N, N connections copy tables at once and import the first connection's snapshot. A file is written under a temporary name and renamed into place only when the export is complete.

        An object the exporter cannot write makes it fail, naming the object, unless --exclude-unsupported leaves it out with a warning.
        """)

    @Option(name: [.customShort("d"), .customLong("dbname")], help: ArgumentHelp(
        "The database: a name (host, port and user from PG* variables, as pg_dump takes it), a libpq conninfo string or a postgresql:// URI (default: PG* variables). TLS is required unless it, PGSSLMODE or a service names an sslmode. No passwords here: use ~/.pgpass, PGPASSFILE or PGPASSWORD.",
        valueName: "DSN"))
    public var dbname: String?

    @Option(name: [.customShort("c"), .customLong("config")], help: ArgumentHelp(
        "Export the database a configuration file describes, through its cluster connection.", valueName: "FILE"))
    public var config: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp(
        "Where to write the export; - for stdout.", valueName: "FILE"))
    public var output: String

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Connections copying tables at once.")
    public var jobs = 1

    @Option(name: .customLong("level"), help: "zstd compression level (1-22).")
    public var level = 3

    @Option(name: [.customShort("t"), .customLong("table")], help: ArgumentHelp(
        "Export only matching tables (schema.table; * and ? wildcards; repeatable).", valueName: "PATTERN"))
    public var tables: [String] = []

    @Option(name: [.customShort("T"), .customLong("exclude-table")], help: ArgumentHelp(
        "Leave out matching tables (repeatable).", valueName: "PATTERN"))
    public var excludedTables: [String] = []

    @Option(name: [.customShort("n"), .customLong("schema")], help: ArgumentHelp(
        "Export only this schema (repeatable).", valueName: "NAME"))
    public var schemas: [String] = []

    @Flag(name: [.customShort("s"), .customLong("schema-only")], help: "Export the schema, no rows.")
    public var schemaOnly = false

    @Flag(name: [.customShort("a"), .customLong("data-only")], help: "Export the rows (and sequence values), no schema.")
    public var dataOnly = false

    @Flag(name: .customLong("exclude-unsupported"), help: "Leave out objects the exporter does not support, with a warning each, instead of failing.")
    public var excludeUnsupported = false

    @Flag(name: .customLong("no-tablespaces"), help: "Record no tablespace assignments: a restore creates everything in its database's default tablespace.")
    public var noTablespaces = false

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp(
        "Uncompressed size of each table-data chunk, e.g. 2M or 512K.", valueName: "SIZE"))
    public var chunkSize = "2M"

    @OptionGroup public var outputOptions: OutputOptions

    @OptionGroup public var encryption: RecipientOptions

    public init() {}

    public func validate() throws {
        if let dbname { try checkConnectionArgument(dbname, option: "--dbname") }
        if dbname != nil && config != nil {
            throw ValidationError("--dbname and -c/--config both name the database; give one")
        }
        if schemaOnly && dataOnly { throw ValidationError("--schema-only and --data-only exclude each other") }
        guard (1...64).contains(jobs) else { throw ValidationError("-j/--jobs must be between 1 and 64") }
        guard (1...22).contains(level) else { throw ValidationError("--level must be between 1 and 22") }
        guard let size = Self.parseSize(chunkSize), size >= 64 * 1024, size <= 256 << 20 else {
            throw ValidationError("--chunk-size must be a size between 64K and 256M, e.g. 4M")
        }
        if output == "-" && outputOptions.json {
            throw ValidationError("-o - writes the export to stdout, so --json cannot; the summary goes to stderr instead")
        }
        if output == "-" && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("refusing to write a compressed export to a terminal; redirect stdout or use -o FILE")
        }
    }

    static func parseSize(_ text: String) -> Int? {
        let upper = text.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = upper.last, let multiplier = multipliers[last] {
            // Overflow is no size at all, not a trap.
            guard let value = Int(upper.dropLast()) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        return Int(upper)
    }

    public func run() throws {
        outputOptions.bootstrapLogging()
        let logger = Logger(label: "pgcellar.export")
        let target: ConnectionTarget
        if let config {
            let loaded = try loadConfig(config)
            target = loaded.clusterTarget.with(database: loaded.database.name)
        } else {
            target = .pgcellar(dbname ?? "")
        }
        var options = ExportOptions(
            target: target, jobs: jobs, level: level,
            selection: ExportSelection(tables: tables, excludedTables: excludedTables, schemas: schemas,
                                       schemaOnly: schemaOnly, dataOnly: dataOnly, excludeUnsupported: excludeUnsupported,
                                       noTablespaces: noTablespaces),
            chunkSize: Self.parseSize(chunkSize) ?? 2 << 20)
        // Only for scripts/bench.sh, to measure what the row digests cost.
        options.rowDigests = ProcessInfo.processInfo.environment["PGCELLAR_BENCH_NO_ROW_DIGESTS"] != "1"
        let progress: ExportProgressObserver? = (!outputOptions.quiet && Diagnostics.stderrIsTerminal) ? TerminalProgress() : nil
        let exporter = Exporter(options: options, logger: logger, progress: progress)

        let recipients = try encryption.parsed()
        // With recipients, the archive goes through age on its way out.
        func run(to sink: ByteSink) throws -> ExportSummary {
            guard !recipients.isEmpty else { return try exporter.run(to: sink) }
            let encrypted = try AgeEncryptingSink(wrapping: sink, recipients: recipients)
            let summary = try exporter.run(to: encrypted)
            try encrypted.finish()
            return summary
        }
        let summary: ExportSummary
        if output == "-" {
            summary = try run(to: FileDescriptorOutput.standardOutput())
        } else {
            let file = try AtomicFileWriter(path: output, mode: 0o600)
            // An interrupted export leaves nothing behind; the target path is
            // untouched either way. The server ends the export's transactions
            // when the connections drop.
            let temporaryPath = file.temporaryPath
            let trap = SignalTrap { _ in
                unlink(temporaryPath)
                Diagnostics.printError("pgcellar: export interrupted; nothing was written to the target")
            }
            defer { trap.cancel() }
            do {
                summary = try run(to: file)
                try file.commit()
            } catch {
                file.abort()
                throw error
            }
        }
        report(summary, recipients: recipients)
    }

    private func report(_ summary: ExportSummary, recipients: [AgeRecipient]) {
        if outputOptions.json {
            printJSON([
                "ok": true,
                "output": output,
                "database": summary.database,
                "snapshotTakenAt": summary.snapshotTakenAt,
                "tables": summary.tables,
                "rows": summary.rows,
                "entries": summary.entries,
                "dataChunks": summary.dataChunks,
                "uncompressedBytes": summary.uncompressedBytes,
                "archiveBytes": summary.archiveBytes,
                "durationSeconds": (summary.durationSeconds * 1000).rounded() / 1000,
                "jobs": summary.jobs,
                "compressionLevel": summary.compressionLevel,
                "skippedObjects": summary.skippedObjects,
                // docs/encryption.md, "Keys": names the recipients without being keys.
                "encryptedToFingerprints": recipients.map(\.fingerprint),
            ] as [String: Any])
        } else if !outputOptions.quiet {
            let ratio = summary.archiveBytes > 0 ? Double(summary.uncompressedBytes) / Double(summary.archiveBytes) : 0
            Diagnostics.printError(String(
                format: "pgcellar: exported %@ to %@: %d tables, %d rows, %@ of SQL in %@ (%.1fx) in %.1fs",
                summary.database, output == "-" ? "stdout" : output, summary.tables, summary.rows,
                ByteCount.text(summary.uncompressedBytes), ByteCount.text(summary.archiveBytes), ratio, summary.durationSeconds)
                + (recipients.isEmpty ? "" : ", encrypted with age to \(recipients.count) recipient\(recipients.count == 1 ? "" : "s")"))
        }
    }
}

enum ByteCount {
    static func text(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
