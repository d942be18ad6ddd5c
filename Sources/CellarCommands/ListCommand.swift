import ArgumentParser
import Cellar
import CellarSupport
import Foundation

/// `pgcellar list FILE`: prints an export's table of contents.
public struct ListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print an export's table of contents, like pg_restore -l.",
        discussion: """
        Each line: id; section kind schema name owner, and for table data the chunk and its rows. Reads only the header and the table of contents of a file; from stdin (-) it reads the whole stream.
        """)

    @Argument(help: ArgumentHelp("The export; - for stdin; repo:latest, repo:<id> or repo:<database>@latest with -c.", valueName: "FILE"))
    public var file: String

    @OptionGroup public var repositoryOptions: RepositoryReferenceOptions

    @OptionGroup public var output: OutputOptions

    @OptionGroup public var identity: IdentityOptions

    public init() {}

    public func validate() throws {
        try repositoryOptions.check(file)
    }

    public func run() throws {
        output.bootstrapLogging()
        let header: ArchiveHeader
        let entries: [ArchiveEntry]
        var size: UInt64?
        switch try openArchiveInput(file, identity: identity, repository: repositoryOptions) {
        case .stream(let input):
            let reader = try ArchiveStreamReader(source: input)
            while try reader.next() != nil {}
            header = reader.header
            entries = reader.tableOfContents?.entries ?? reader.entriesRead
        case .randomAccess(let input):
            let archive = try ArchiveReader(source: input)
            header = archive.header
            entries = archive.entries
            size = archive.fileSize
        }
        if output.json {
            struct Listing: Encodable {
                var header: ArchiveHeader
                var entries: [ArchiveEntry]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(Listing(header: header, entries: entries))
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(ArchiveListing.text(header: header, entries: entries, fileSize: size), terminator: "")
        }
    }
}
