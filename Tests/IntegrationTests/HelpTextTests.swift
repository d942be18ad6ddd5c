import Foundation
import Testing

/// `pgcellar <command> --help` as a person reads it, from the built binary.
/// argument-parser wraps paragraphs to the terminal (COLUMNS) but keeps line
/// breaks written into a help string, so a hard-wrapped discussion prints
/// "... load on" / "-j connections" on an 80-column terminal. On a terminal
/// wide enough for any paragraph, a well-written discussion prints one line
/// per paragraph, each ending where its last sentence ends.
@Suite("pgcellar --help reads cleanly")
struct HelpTextTests {
    /// The command paths below `pgcellar`, read from the SUBCOMMANDS section of
    /// each group's help (`backups` leads to `backups list` and `backups prune`).
    static func commandPaths() throws -> [[String]] {
        var paths: [[String]] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            paths.append(path)
            let help = try Pgcellar.run(path + ["--help"], environment: ["COLUMNS": "10000"])
            #expect(help.status == 0, "pgcellar \(path.joined(separator: " ")) --help: \(help.stderr)")
            pending += subcommands(inHelp: help.stdout).map { path + [$0] }
        }
        return paths
    }

    static func subcommands(inHelp help: String) -> [String] {
        guard let start = help.range(of: "\nSUBCOMMANDS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("  See ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
    }

    /// The discussion: the lines between the OVERVIEW line and USAGE.
    static func discussion(inHelp help: String) -> [Substring] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        guard let usage = lines.firstIndex(where: { $0.hasPrefix("USAGE:") }) else { return [] }
        return lines[..<usage].dropFirst().filter { !$0.isEmpty }
    }

    @Test("every command's discussion prints as whole paragraphs: no line ends in mid-sentence")
    func noLineEndsMidSentence() throws {
        let paths = try Self.commandPaths()
        #expect(paths.contains(["restore"]) && paths.contains(["backups", "prune"]), "found \(paths)")
        var discussions = 0
        for path in paths {
            let help = try Pgcellar.run(path + ["--help"], environment: ["COLUMNS": "10000"])
            let lines = Self.discussion(inHelp: help.stdout)
            if !lines.isEmpty { discussions += 1 }
            for line in lines where !(line.hasPrefix("- ") || line.hasPrefix(" ")) {
                let last = line.trimmingCharacters(in: .whitespaces).last
                #expect(last.map { ".:;!?)".contains($0) } == true,
                        "pgcellar \(path.joined(separator: " ")) --help breaks a sentence after: \"\(line.suffix(40))\"")
            }
        }
        #expect(discussions >= 10, "read \(discussions) discussions")
    }

    @Test("restore --help on an 80-column terminal keeps \"on -j connections\" together")
    func restoreAtEightyColumns() throws {
        let help = try Pgcellar.run(["restore", "--help"], environment: ["COLUMNS": "80"])
        #expect(help.status == 0)
        let lines = Self.discussion(inHelp: help.stdout)
        #expect(lines.allSatisfy { $0.count <= 80 })
        // The short lines a hard break leaves behind: "on", "foreign", "privileges,".
        #expect(!lines.contains { $0.split(separator: " ").count == 1 }, "\(lines.joined(separator: "\n"))")
        let text = lines.joined(separator: " ")
        #expect(text.contains("on -j connections"), "\(text)")
    }
}
