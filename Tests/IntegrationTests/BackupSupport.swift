#if canImport(Glibc)
import Glibc
#endif
import Cellar
import Foundation
import Testing

/// A scratch database with a little data, a configuration that backs it up
/// into a directory repository, and the `pgcellar` binary to run.
struct BackupFixture {
    let database: String
    let directory: String
    let repository: String
    let configPath: String

    init(prefix: String, rows: Int = 2_000) throws {
        database = TestServer.uniqueName(prefix)
        directory = NSTemporaryDirectory() + "pgc-\(database)"
        repository = directory + "/repo"
        configPath = directory + "/config.yaml"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = database
        try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(name))") }
        try TestServer.withConnection(database: database) { connection in
            try connection.execute("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2))")
            try connection.execute("INSERT INTO items SELECT g, 'item ' || g, g * 1.25 FROM generate_series(1, \(rows)) g")
            try connection.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, item integer REFERENCES items, body text)")
            try connection.execute("INSERT INTO notes (item, body) SELECT g, repeat('n', g % 50) FROM generate_series(1, \(rows / 2)) g")
        }
        try writeConfig()
    }

    /// Writes the configuration, with `extra` lines inside `repository:`.
    ///
    /// - Parameter location: The repository's location line; the directory
    ///   `repo` beside the configuration by default.
    func writeConfig(port: String = TestServer.port, location: String = "path: repo", repositoryLines: [String] = []) throws {
        let yaml = """
            cluster: {host: \(TestServer.host), port: \(port), user: postgres, sslmode: require}
            database: {name: \(database), owner: \(database)_owner}
            roles:
              - {name: \(database)_owner, profile: owner, secret: {name: owner, namespace: test, file: owner.secret.yaml}}
            repository:
              \(location)
            \(repositoryLines.map { "  " + $0 }.joined(separator: "\n"))

            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func pgcellar(_ arguments: [String], environment: [String: String] = [:]) throws -> Pgcellar.Output {
        try Pgcellar.run(arguments, environment: environment)
    }

    /// `backups list --json`, parsed.
    func listed() throws -> [[String: Any]] {
        let output = try pgcellar(["backups", "list", "-c", configPath, "--json"])
        guard output.status == 0 else { throw ExportTestSupport.CommandFailed(command: "backups list", status: output.status, stderr: output.stderr) }
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        return object?["backups"] as? [[String: Any]] ?? []
    }

    /// Starts `pgcellar backup` and SIGKILLs it after a random delay of up
    /// to 1.1 × `duration` (a complete backup's time, so that some runs
    /// finish). Returns the delay in milliseconds and the ended process.
    func killBackup(within duration: TimeInterval) throws -> (delayMilliseconds: Int, process: Process) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Pgcellar.binary())
        process.arguments = ["backup", "-c", configPath, "-q"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let delay = Double.random(in: 0...(duration * 1.1))
        usleep(useconds_t(delay * 1_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return (Int(delay * 1000), process)
    }

    /// Every file under the repository, hidden ones included, relative to it.
    func repositoryFiles() -> [String] {
        let all = FileManager.default.enumerator(atPath: repository)?.allObjects as? [String] ?? []
        return all.filter { path in
            var flag: ObjCBool = false
            return FileManager.default.fileExists(atPath: repository + "/" + path, isDirectory: &flag) && !flag.boolValue
        }.sorted()
    }

    /// Sets every file in the repository two days into the past, as a
    /// leftover is by the time the next day's backup runs.
    func ageRepository() throws {
        let old = Date().addingTimeInterval(-2 * 86_400)
        // Directories too: a backup killed right after making its directory leaves it empty.
        let all = FileManager.default.enumerator(atPath: repository)?.allObjects as? [String] ?? []
        for path in all {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: repository + "/" + path)
        }
    }

    func cleanUp() {
        dropDatabase(database)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
