import Foundation
import Testing

@Suite("the pgcellar executable")
struct CommandLineTests {
    @Test("--version prints the version and --help lists the commands")
    func versionAndHelp() throws {
        let version = try Pgcellar.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil)
        let help = try Pgcellar.run(["--help"])
        #expect(help.status == 0)
        for command in ["plan", "provision", "check", "rotate", "export", "restore", "verify", "list", "destroy"] {
            #expect(help.stdout.contains("  \(command) "), "help should list \(command)")
        }
        #expect(help.stdout.contains("Passwords are never"))
    }

    @Test("an unknown option is a usage error (64)")
    func usageError() throws {
        let result = try Pgcellar.run(["plan", "-c", "x.yaml", "--no-such-option"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--no-such-option"))
    }

    @Test("a missing configuration file is named in the error")
    func missingConfig() throws {
        let result = try Pgcellar.run(["plan", "-c", "/nonexistent/pgcellar.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/pgcellar.yaml"))
    }
}
