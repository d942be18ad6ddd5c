#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

@testable import ObjectStore

/// The moto server `scripts/test.sh` starts (through scripts/dev-s3.sh), read
/// from the PGCELLAR_TEST_S3_* variables; its tests fail, not skip, without it.
enum S3TestServer {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The environment's server, or an error naming scripts/test.sh.
    static func environment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> (
        endpoint: String, bucket: String, region: String, credentialsFile: String
    ) {
        guard let endpoint = env["PGCELLAR_TEST_S3_ENDPOINT"], let bucket = env["PGCELLAR_TEST_S3_BUCKET"],
            let credentials = env["PGCELLAR_TEST_S3_CREDENTIALS_FILE"]
        else {
            throw NotConfigured(
                description:
                    "no test S3 server is configured (PGCELLAR_TEST_S3_ENDPOINT is unset): run the tests through scripts/test.sh, which starts moto with authentication on (scripts/dev-s3.sh) and exports its settings")
        }
        return (endpoint, bucket, env["PGCELLAR_TEST_S3_REGION"] ?? "us-east-1", credentials)
    }

    /// A store on the test bucket under a prefix of its own, so tests do not see
    /// each other's objects.
    static func store(
        prefix: String = "test-\(UUID().uuidString.prefix(8))/", bucket: String? = nil,
        tune: (inout S3Configuration) -> Void = { _ in }
    ) throws -> S3Store {
        let server = try environment()
        var configuration = S3Configuration(
            endpoint: server.endpoint, bucket: bucket ?? server.bucket, prefix: prefix, region: server.region,
            forcePathStyle: true)
        configuration.initialBackoff = .milliseconds(50)
        tune(&configuration)
        let credentials = try S3Credentials.fromFile(path: server.credentialsFile, profile: "default")
        return try S3Store(configuration: configuration, credentials: credentials)
    }

    /// A second moto of the test's own (to kill), through scripts/dev-s3.sh.
    final class Throwaway {
        let directory: String
        let endpoint: String
        let bucket: String
        let credentialsFile: String
        let pid: Int32

        init() throws {
            directory = NSTemporaryDirectory() + "pgcellar-s3-throwaway-\(UUID().uuidString.prefix(8))"
            try Self.script("start", directory: directory)
            // The env file rather than `dev-s3.sh env` through a pipe: the
            // server started in the background must not hold a pipe of ours.
            let exports = try String(contentsOfFile: directory + "/env", encoding: .utf8)
            var values: [String: String] = [:]
            for line in exports.split(separator: "\n") {
                let assignment = line.dropFirst("export ".count)
                guard let equals = assignment.firstIndex(of: "=") else { continue }
                values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
                    .trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            }
            guard let endpoint = values["PGCELLAR_TEST_S3_ENDPOINT"], let bucket = values["PGCELLAR_TEST_S3_BUCKET"],
                let file = values["PGCELLAR_TEST_S3_CREDENTIALS_FILE"], let pid = values["PGCELLAR_TEST_S3_PID"].flatMap({ Int32($0) })
            else { throw NotConfigured(description: "scripts/dev-s3.sh env printed no settings: \(exports)") }
            self.endpoint = endpoint
            self.bucket = bucket
            self.credentialsFile = file
            self.pid = pid
        }

        func store(tune: (inout S3Configuration) -> Void = { _ in }) throws -> S3Store {
            var configuration = S3Configuration(endpoint: endpoint, bucket: bucket, prefix: "", forcePathStyle: true)
            tune(&configuration)
            return try S3Store(configuration: configuration, credentials: try S3Credentials.fromFile(path: credentialsFile, profile: "default"))
        }

        /// Kills the server at once (SIGKILL), as a crash or a lost node would.
        func kill() {
            _ = Foundation.kill(pid, SIGKILL)
        }

        func stop() {
            _ = try? Self.script("stop", directory: directory)
        }

        /// Runs `scripts/dev-s3.sh command` with posix_spawn and waitpid:
        /// Foundation's `Process.waitUntilExit` was seen to hang here once the
        /// script had left a server running in the background.
        static func script(_ command: String, directory: String) throws {
            let script = S3TestServer.repositoryRoot.appendingPathComponent("scripts/dev-s3.sh").path
            var environment = ProcessInfo.processInfo.environment
            environment["PGCELLAR_S3_DEV_DIR"] = directory
            let words: [String] = ["/bin/bash", script, command]
            let assignments: [String] = environment.map { "\($0.key)=\($0.value)" }
            let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            let variables: [UnsafeMutablePointer<CChar>?] = assignments.map { strdup($0) } + [nil]
            defer {
                arguments.forEach { free($0) }
                variables.forEach { free($0) }
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, arguments, variables)
            guard spawned == 0 else {
                throw NotConfigured(description: "cannot run scripts/dev-s3.sh: \(String(cString: strerror(spawned)))")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            guard status == 0 else {
                throw NotConfigured(description: "scripts/dev-s3.sh \(command) failed (wait status \(status))")
            }
        }
    }
}

/// Bytes that differ at every offset, so a misplaced range or part shows.
func patternBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}
