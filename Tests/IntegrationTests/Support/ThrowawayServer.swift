#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

/// A PostgreSQL cluster of one test's own, built as scripts/dev-postgres.sh
/// builds the shared one (initdb, pg_ctl; as root the server runs as the
/// `postgres` user), for what the shared cluster cannot be: a server with
/// `ssl = off`, or one listening on a non-loopback address.
///
/// Local connections (its Unix socket, 127.0.0.1) are trusted; other
/// addresses need the `postgres` password, ``password``, which
/// ``pgpassFile`` holds. Always ``stop()`` it.
final class ThrowawayServer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Holds the data directory, the socket, the log and the certificate.
    let directory: String
    let port: Int
    let password = "pw-\(UUID().uuidString)"
    private let bin: String
    private let serverUser: String?

    /// The socket directory, as a libpq `host`.
    var socketDirectory: String { directory }
    var pgpassFile: String { directory + "/pgpass" }
    /// The server's self-signed certificate (with `tls`), valid for
    /// localhost and every address it listens on: the CA to verify it with.
    var certificate: String { directory + "/server.crt" }
    var log: String { (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "" }

    /// - Parameters:
    ///   - tls: `ssl = on` with a self-signed certificate; else `ssl = off`.
    ///   - addresses: `listen_addresses`, 127.0.0.1 always among them.
    init(tls: Bool, addresses: [String] = []) throws {
        guard let bin = ProcessInfo.processInfo.environment["PGCELLAR_TEST_PGBIN"] else { throw TestServer.NotConfigured() }
        self.bin = bin
        if getuid() == 0 {
            guard let user = ["postgres", "pgcellar"].first(where: { name in name.withCString { getpwnam($0) } != nil }) else {
                throw Failure(description: "running as root and no postgres or pgcellar user to run a server as: run the tests through scripts/test.sh, which creates one")
            }
            serverUser = user
        } else {
            serverUser = nil
        }
        // Short, under /tmp: a Unix socket path has at most 107 bytes, and the
        // server user must reach it.
        var template = Array("/tmp/pgc-tls-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        chmod(directory, 0o755)
        port = try Self.freePort()
        do {
            try start(tls: tls, addresses: ["127.0.0.1"] + addresses)
        } catch {
            stop()
            throw error
        }
    }

    private func start(tls: Bool, addresses: [String]) throws {
        if let serverUser { try run("/bin/chown", [serverUser, directory]) }
        let data = directory + "/data"
        try asServer(bin + "/initdb", ["--pgdata=\(data)", "--username=postgres", "--auth=trust",
                                       "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        var settings = """

            listen_addresses = '\(addresses.joined(separator: ","))'
            port = \(port)
            unix_socket_directories = '\(directory)'
            logging_collector = off
            fsync = off
            max_connections = 30
            shared_buffers = 16MB
            ssl = \(tls ? "on" : "off")

            """
        if tls {
            try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                         "-days", "2", "-subj", "/CN=localhost",
                                         "-addext", "subjectAltName=DNS:localhost," + addresses.map { "IP:\($0)" }.joined(separator: ","),
                                         "-keyout", directory + "/server.key", "-out", certificate])
            chmod(directory + "/server.key", 0o600)
            if let serverUser { try run("/bin/chown", [serverUser, directory + "/server.key", directory + "/server.crt"]) }
            settings += "ssl_cert_file = '\(directory)/server.crt'\nssl_key_file = '\(directory)/server.key'\n"
        }
        try append(settings, to: data + "/postgresql.conf")
        // Trust on the socket and loopback only; the server's other
        // addresses ("samehost") need the password.
        try asServer("/bin/sh", ["-c", "cat > '\(data)/pg_hba.conf'"], input: """
            local all all trust
            host  all all 127.0.0.1/32 trust
            host  all all samehost scram-sha-256

            """)
        // The server must not inherit this process's descriptors: Foundation's
        // Process watches a child's end through a socket that the child
        // holds, and a server holding it too would never seem to end.
        try asServer("/bin/bash", ["-c", Self.closingDescriptors + "exec \"$@\"", "pg_ctl",
                                   bin + "/pg_ctl", "start", "-D", data, "-l", directory + "/server.log", "-w", "-t", "60"])
        try "*:*:*:postgres:\(password)\n".write(toFile: pgpassFile, atomically: false, encoding: .utf8)
        chmod(pgpassFile, 0o600)
        try asServer(bin + "/psql", ["-X", "-q", "-h", directory, "-p", String(port), "-U", "postgres", "-d", "postgres",
                                     "-c", "SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '\(password)'"])
    }

    /// Stops the server and removes its directory.
    func stop() {
        if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
            _ = try? asServer(bin + "/pg_ctl", ["stop", "-D", directory + "/data", "-m", "immediate", "-w", "-t", "30"])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A conninfo for the superuser over TCP at `host` (127.0.0.1 by default),
    /// no sslmode in it.
    func conninfo(host: String = "127.0.0.1", database: String = "postgres") -> String {
        "host=\(host) port=\(port) user=postgres dbname=\(database)"
    }

    // MARK: - Running programs

    private func asServer(_ executable: String, _ arguments: [String], input: String? = nil) throws {
        if let serverUser {
            try run("/usr/sbin/runuser", ["-u", serverUser, "--", executable] + arguments, input: input)
        } else {
            try run(executable, arguments, input: input)
        }
    }

    private func run(_ executable: String, _ arguments: [String], input: String? = nil) throws {
        let output = try Subprocess.run(executable, arguments, environment: Self.cleanEnvironment,
                                        stdin: input.map { Data($0.utf8) }, directory: "/")
        guard output.status == 0 else {
            throw Failure(description: "\(([executable] + arguments).joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)\n\(log)")
        }
    }

    /// Bash that closes every descriptor above 2.
    private static let closingDescriptors = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; "#

    /// The tools must not pick up the shared test cluster's PG* settings.
    private static var cleanEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") || $0.key.hasPrefix("PGCELLAR_") }
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// A TCP port nobody listens on at 127.0.0.1 now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// This machine's first non-loopback IPv4 address, if it has one.
enum NetworkAddress {
    static let nonLoopbackIPv4: String? = {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  current.pointee.ifa_flags & UInt32(IFF_UP) != 0, current.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let found = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var raw = inet.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(text.count)) != nil
            }
            if found { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return nil
    }()
}
