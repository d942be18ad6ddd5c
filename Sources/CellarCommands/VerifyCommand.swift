import ArgumentParser
import Cellar
import CellarSupport
import Foundation

/// `pgcellar verify FILE|-`: checks an export's integrity without a server.
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an export's integrity without a server.",
        discussion: """
        Reads the whole export: every zstd frame and its content checksum, every entry's size and SHA-256, the table of contents against the entries found, and the footer's SHA-256 of everything before it. Names the first bad entry. Exit status: 0 when the export is intact, 1 when any byte is wrong or missing.
        """)

    @Argument(help: ArgumentHelp("The export; - for stdin.", valueName: "FILE"))
    public var file: String

    @OptionGroup public var output: OutputOptions

    public init() {}

    public func run() throws {
        output.bootstrapLogging()
        let name = file == "-" ? "stdin" : file
        do {
            let report: ArchiveVerification
            if file == "-" {
                report = try ArchiveVerifier.verify(FileDescriptorInput.standardInput())
            } else {
                report = try ArchiveVerifier.verify(path: file)
            }
            if output.json {
                printJSON([
                    "ok": true, "file": name, "database": report.header.database.name,
                    "snapshotTakenAt": report.header.snapshotTakenAt, "formatVersion": report.header.formatVersion,
                    "entries": report.entries, "tables": report.tables, "dataChunks": report.dataChunks,
                    "rows": report.rows, "uncompressedBytes": report.uncompressedBytes, "archiveBytes": report.archiveBytes,
                ] as [String: Any])
            } else if !output.quiet {
                print("\(name): OK: export of \(report.header.database.name) taken at \(report.header.snapshotTakenAt); \(report.entries) entries, \(report.tables) tables, \(report.rows) rows, \(report.uncompressedBytes) bytes of SQL in \(report.archiveBytes) bytes")
            }
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
