import ArgumentParser
import CellarCommands
import Foundation
import Testing

/// docs/commands.md is the design of record for the command line. These
/// tests read every command's `--help` as argument-parser renders it and
/// fail when a command or an option is missing from the document, or when a
/// help text would break a line in the middle of a sentence.
@Suite("docs/commands.md and the help texts")
struct CommandDocsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A command and the words that name it on the command line (`backups prune`).
    struct Command: CustomTestStringConvertible {
        var path: [String]
        var type: ParsableCommand.Type

        var name: String { (["pgcellar"] + path).joined(separator: " ") }
        var testDescription: String { name }
    }

    /// Every command under `pgcellar`, the group commands (`backups`) included.
    static func commands() -> [Command] {
        func walk(_ type: ParsableCommand.Type, _ path: [String]) -> [Command] {
            let here = Command(path: path, type: type)
            return [here] + type.configuration.subcommands.flatMap { sub in
                walk(sub, path + [sub.configuration.commandName ?? "?"])
            }
        }
        return walk(PgCellar.self, [])
    }

    /// Help as argument-parser prints it, wide enough that nothing wraps.
    static func help(_ command: Command) -> String {
        command.type == PgCellar.self
            ? PgCellar.helpMessage(columns: 10_000)
            : PgCellar.helpMessage(for: command.type, columns: 10_000)
    }

    /// The option names in a help text's OPTIONS section: `-c`, `--config`, ...
    static func optionNames(inHelp help: String) -> [String] {
        var names: [String] = []
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(":") && !line.hasPrefix(" ") {
                inOptions = line == "OPTIONS:"
                continue
            }
            guard inOptions, line.hasPrefix("  -") else { continue }
            // The label ends where the two-space gap before the help text begins.
            let label = line.dropFirst(2).components(separatedBy: "  ")[0]
            for token in label.split(whereSeparator: { $0 == " " || $0 == "," }) where token.hasPrefix("-") {
                names.append(String(token))
            }
        }
        return names
    }

    static func document() throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent("docs/commands.md"), encoding: .utf8)
    }

    /// The part of the document about one command: from its heading
    /// ``## `pgcellar backups prune` `` to the next heading of that level.
    static func section(of command: Command, in document: String) -> String? {
        let heading = "## `\(command.name)`"
        guard let start = document.range(of: heading + "\n") else { return nil }
        let rest = document[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// Options every command has; the document describes them once.
    static let everyCommandOptions: Set<String> = ["-h", "--help", "--version"]

    @Test("every command has its own section in docs/commands.md", arguments: commands())
    func everyCommandHasASection(_ command: Command) throws {
        let document = try Self.document()
        #expect(Self.section(of: command, in: document) != nil,
                "docs/commands.md has no section headed ## `\(command.name)`; add one describing it")
    }

    @Test("every option in --help is described in its command's section", arguments: commands())
    func everyOptionIsDocumented(_ command: Command) throws {
        let document = try Self.document()
        let section = try #require(Self.section(of: command, in: document))
        let names = Self.optionNames(inHelp: Self.help(command))
        #expect(names.contains("--help"), "the help text was not read: \(names)")
        for name in names {
            if Self.everyCommandOptions.contains(name) {
                #expect(document.contains("`\(name)`"), "docs/commands.md does not describe \(name)")
            } else {
                #expect(section.contains("`\(name)`") || section.contains("`\(name) "),
                        "\(command.name) --help lists \(name), but its section of docs/commands.md does not")
            }
        }
    }

    @Test("the option names are read from the help text as argument-parser prints them")
    func optionNamesAreRead() {
        let help = PgCellar.helpMessage(for: RestoreCommand.self, columns: 10_000)
        let names = Self.optionNames(inHelp: help)
        for expected in ["-c", "--config", "-d", "--dbname", "-1", "--single-transaction", "--identity", "-h", "--help"] {
            #expect(names.contains(expected), "\(expected) in \(names)")
        }
        #expect(!names.contains("<FILE>") && !names.contains("-"), "\(names)")
    }

    /// argument-parser wraps a paragraph to the terminal's width but keeps a
    /// line break written into the string, so a hard-wrapped discussion
    /// prints as "... load on\n-j connections". A line break is allowed
    /// between paragraphs ("\n\n") and before a list item or an indented line.
    @Test("abstracts and discussions are paragraphs argument-parser can wrap", arguments: commands())
    func paragraphsWrap(_ command: Command) {
        let configuration = command.type.configuration
        #expect(!configuration.abstract.contains("\n"), "\(command.name): the abstract is one line")
        for paragraph in configuration.discussion.components(separatedBy: "\n\n") {
            let lines = paragraph.split(separator: "\n")
            for (previous, line) in zip(lines, lines.dropFirst()) where !(line.hasPrefix("- ") || line.hasPrefix("  ")) {
                Issue.record("\(command.name): a line break inside a sentence, after \"\(previous.suffix(30))\"; write the paragraph on one line")
            }
        }
    }
}
