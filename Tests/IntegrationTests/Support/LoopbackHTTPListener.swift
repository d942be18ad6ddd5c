#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A minimal HTTP/1.1 server on 127.0.0.1 for tests of what pgcellar sends
/// (a Prometheus Pushgateway's side): it records each request and answers
/// every one with `status`.
final class LoopbackHTTPListener: @unchecked Sendable {
    // @unchecked Sendable: `received` and `status` are guarded by `lock`;
    // the socket is only read by the accepting thread after init.
    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
    }

    let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private var answer: Int

    var url: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] {
        lock.lock(); defer { lock.unlock() }
        return received
    }

    /// Starts listening on a free port; answers `status` until told otherwise.
    init(status: Int = 200) throws {
        answer = status
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func answer(with status: Int) {
        lock.lock(); answer = status; lock.unlock()
    }

    /// Stops accepting; the thread ends at its next `accept`.
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func acceptLoop() {
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            serve(client)
            close(client)
        }
    }

    /// Reads one request (headers, then Content-Length bytes) and answers it.
    private func serve(_ client: Int32) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            data += buffer[0..<count]
            if headerEnd == nil, let end = data.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                headerEnd = end
                let head = String(decoding: data[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, data.count >= headerEnd + contentLength { break }
        }
        let end = headerEnd!
        let lines = String(decoding: data[0..<end], as: UTF8.self).split(separator: "\r\n")
        let first = lines.first?.split(separator: " ") ?? []
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        lock.lock()
        received.append(Request(method: first.count > 0 ? String(first[0]) : "", path: first.count > 1 ? String(first[1]) : "",
                                headers: headers, body: String(decoding: data[end..<(end + contentLength)], as: UTF8.self)))
        let status = answer
        lock.unlock()
        let response = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = response.withCString { write(client, $0, strlen($0)) }
    }
}
