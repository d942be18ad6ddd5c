import Foundation
import Testing

/// Runs the built `pgcellar` binary, as a user or a CronJob would.
enum Pgcellar {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String {
            "PGCELLAR_BIN does not name the built pgcellar binary: run the tests through scripts/test.sh"
        }
    }

    static func binary() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["PGCELLAR_BIN"],
              FileManager.default.isExecutableFile(atPath: path) else { throw BinaryMissing() }
        return path
    }

    /// Runs `pgcellar args...` with the test environment plus `environment`,
    /// standard input from `stdin` (nothing when nil).
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
                    directory: String? = nil) throws -> Output {
        try Subprocess.run(try binary(), arguments, environment: environment, stdin: stdin, directory: directory)
    }
}

/// Runs a program to completion, its output collected through files (a pipe
/// that nobody reads while the child writes could fill and block it).
enum Subprocess {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
                    directory: String? = nil) throws -> Pgcellar.Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let inURL = scratch.appendingPathComponent("in")
            try stdin.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Pgcellar.Output(status: process.terminationStatus,
                               stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                               stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
