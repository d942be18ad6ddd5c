import ArgumentParser
import Cellar
import CellarSupport
import Foundation

/// `pgcellar verify [--deep] FILE|-`: checks an export's integrity without a server.
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an export's integrity without a server.",
        discussion: """
        Reads the whole export: every zstd frame and its content checksum, every entry's size and SHA-256, the table of contents against the entries found, and the footer's SHA-256 of everything before it. Names the first bad entry.

        With --deep, also splits every table-data chunk into its rows, counts them and recomputes the chunk's row digest (docs/archive-format.md, "Row digests"), naming every chunk whose recorded count or digest its rows do not give. An export written before row digests is checked by row counts, and the output says so.

        Exit status: 0 when the export is intact, 1 when any byte is wrong or missing or (--deep) any chunk disagrees with its metadata.
        """)

    @Argument(help: ArgumentHelp("The export; - for stdin; repo:latest, repo:<id> or repo:<database>@latest with -c.", valueName: "FILE"))
    public var file: String

    @OptionGroup public var repositoryOptions: RepositoryReferenceOptions

    @Flag(name: .customLong("deep"), help: "Also count every chunk's rows and recompute its row digest.")
    public var deep = false

    @OptionGroup public var output: OutputOptions

    @OptionGroup public var identity: IdentityOptions

    public init() {}

    public func validate() throws {
        try repositoryOptions.check(file)
    }

    public func run() throws {
        output.bootstrapLogging()
        let name = file == "-" ? "stdin" : file
        do {
            let report: ArchiveVerification
            switch try openArchiveInput(file, identity: identity, repository: repositoryOptions) {
            case .randomAccess(let input as FileDescriptorInput):
                report = try ArchiveVerifier.verify(input, deep: deep)
            case .randomAccess(let input as AgeDecryptingSource):
                // Decrypting in order, each chunk once, beats random access here.
                let ciphertext: ByteSource = RepositorySource.isReference(file)
                    ? RandomAccessByteSource(try repositoryOptions.storedArchive(file))
                    : try FileDescriptorInput(path: file)
                report = try ArchiveVerifier.verify(
                    AgeDecryptingStream(source: ciphertext, name: input.name, identities: try identity.identities()),
                    deep: deep)
            case let input:
                report = try ArchiveVerifier.verify(try input.sequential(), deep: deep)
            }
            let ok = report.rowDigests?.passed ?? true
            if output.json {
                var object: [String: Any] = [
                    "ok": ok, "file": name, "database": report.header.database.name,
                    "snapshotTakenAt": report.header.snapshotTakenAt, "formatVersion": report.header.formatVersion,
                    "entries": report.entries, "tables": report.tables, "dataChunks": report.dataChunks,
                    "rows": report.rows, "uncompressedBytes": report.uncompressedBytes, "archiveBytes": report.archiveBytes,
                ]
                if let check = report.rowDigests { object["rowDigests"] = Self.json(check) }
                printJSON(object)
            } else if !output.quiet && ok {
                var line = "\(name): OK: export of \(report.header.database.name) taken at \(report.header.snapshotTakenAt); \(report.entries) entries, \(report.tables) tables, \(report.rows) rows, \(report.uncompressedBytes) bytes of SQL in \(report.archiveBytes) bytes"
                if let check = report.rowDigests {
                    line += check.digestsAvailable
                        ? "; the row digests and row counts of all \(check.chunksChecked) data chunks match their rows"
                        : "; the row counts of all \(check.chunksChecked) data chunks match their rows"
                }
                print(line)
            }
            if let check = report.rowDigests, let reason = check.unavailableReason, !output.quiet {
                Diagnostics.printError("pgcellar: verify: \(name): \(reason)")
            }
            if let check = report.rowDigests, !check.passed {
                for mismatch in check.mismatches { Diagnostics.printError("pgcellar: verify: \(name): \(mismatch)") }
                Diagnostics.printError("pgcellar: verify: \(name): \(check.mismatches.count) of \(check.chunksChecked) data chunks disagree with their metadata: the export was written wrongly; do not rely on it")
                throw ExitCode.failure
            }
        } catch let error as AgeError {
            if output.json { printJSON(["ok": false, "file": name, "error": error.description, "kind": error.kind.rawValue]) }
            Diagnostics.printError("pgcellar: verify: \(error)")
            throw ExitCode.failure
        } catch let error as ArchiveError {
            if output.json {
                var object: [String: Any] = ["ok": false, "file": name, "error": error.description, "kind": error.kind.rawValue]
                if let offset = error.offset { object["offset"] = offset }
                if let entry = error.entryID { object["entry"] = entry }
                printJSON(object)
            }
            Diagnostics.printError("pgcellar: verify: \(name) is damaged: \(error)")
            throw ExitCode.failure
        }
    }
}

extension VerifyCommand {
    static func json(_ check: RowDigestCheck) -> [String: Any] {
        var object: [String: Any] = [
            "digestsAvailable": check.digestsAvailable, "chunksChecked": check.chunksChecked, "rows": check.rows,
            "mismatches": check.mismatches.map { mismatch -> [String: Any] in
                [
                    "entry": mismatch.entryID, "schema": mismatch.tableSchema, "table": mismatch.tableName,
                    "chunk": mismatch.chunk, "recordedRows": mismatch.recordedRows, "countedRows": mismatch.countedRows,
                    "recordedDigest": mismatch.recordedDigest ?? NSNull(), "computedDigest": mismatch.computedDigest ?? NSNull(),
                ]
            },
        ]
        if let reason = check.unavailableReason { object["unavailableReason"] = reason }
        return object
    }
}
