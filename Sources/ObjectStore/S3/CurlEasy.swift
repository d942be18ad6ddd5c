internal import CLibCurl
import CellarSupport
import Foundation

// MARK: - HTTP request and response

/// One HTTP exchange as the S3 client needs it: a method, a URL, headers and a
/// body held in memory (at most one part).
struct HTTPRequest {
    var method: String
    var url: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

struct HTTPResponse {
    var status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    var headers: [String: String]
    var body: [UInt8]
}

/// A failure below HTTP: no connection, a reset, a timeout, a TLS problem.
struct HTTPTransportError: Error, CustomStringConvertible {
    /// libcurl's code (`CURLE_*`), kept as a number so no C type leaks.
    var code: Int
    var message: String
    /// Whether trying again may succeed (connections refused or reset, timeouts).
    var isTransient: Bool

    var description: String { message }
}

// MARK: - CurlEasy

/// A libcurl easy handle, reused for request after request so that its
/// connection stays open.
///
/// Not `Sendable`: one request at a time; ``CurlHandlePool`` hands handles to
/// threads.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes its detailed message here; it must outlive the handle's use.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let caBundle: String?

    /// - Parameter caBundle: A PEM file of CA certificates for the endpoint,
    ///   instead of the system's.
    init(caBundle: String?) throws {
        CurlEasy.initializeLibrary()
        // > If this function returns NULL, something went wrong and you cannot
        // > use the other curl functions.
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError(code: -1, message: "libcurl could not create a handle (out of memory?)", isTransient: false)
        }
        self.handle = handle
        self.caBundle = caBundle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// `curl_global_init` must run once before any handle is made, and is
    /// not thread-safe on every build: a `static let` runs it exactly once.
    private static let libraryInitialized: Bool = {
        // > This function must be called at least once within a program [...]
        // > before the program calls any other function in libcurl.
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    private static func initializeLibrary() {
        _ = libraryInitialized
    }

    /// Sends `request` and returns the response, whatever its status.
    ///
    /// - Parameter timeout: Aborts a transfer that moves less than one byte a
    ///   second for this many seconds (a stalled server).
    /// - Throws: ``HTTPTransportError`` when no complete response arrived.
    func perform(_ request: HTTPRequest, stallTimeout: Int = 60) throws -> HTTPResponse {
        // > Re-initializes all options previously set on a specified CURL handle
        // > to the default values. [...] It does not change [...] the connection
        // > cache.
        curl_easy_reset(handle)
        let transfer = Transfer(body: request.body)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // curl adds `Expect: 100-continue` to large uploads and waits for the
        // answer; S3 servers answer at once, so the wait is pure latency.
        headerList = curl_slist_append(headerList, "Expect:")

        errorBuffer[0] = 0
        var status = CURLE_OK
        func set(_ code: CURLcode) { if status == CURLE_OK { status = code } }
        set(cellar_curl_setopt_string(handle, CURLOPT_URL, request.url))
        set(cellar_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        // > If this option is set to 1, libcurl will not use any functions that
        // > install signal handlers or any functions that cause signals to be
        // > sent to the process. This option is here to allow multi-threaded
        // > unix applications to still set/use all timeout options etc.
        set(cellar_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(cellar_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 30))
        set(cellar_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(cellar_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stallTimeout))
        if let caBundle {
            set(cellar_curl_setopt_string(handle, CURLOPT_CAINFO, caBundle))
        }
        set(cellar_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        set(cellar_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()))
        set(cellar_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody))
        set(cellar_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()))
        set(cellar_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader))

        switch request.method {
        case "GET":
            set(cellar_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            set(cellar_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case "PUT":
            // > CURLOPT_UPLOAD [...] If the protocol is HTTP, uploading means
            // > using the PUT request unless you tell libcurl otherwise.
            set(cellar_curl_setopt_long(handle, CURLOPT_UPLOAD, 1))
            set(cellar_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
            set(cellar_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque()))
            set(cellar_curl_setopt_callback(handle, CURLOPT_READFUNCTION, curlReadBody))
        case "POST":
            set(cellar_curl_setopt_long(handle, CURLOPT_POST, 1))
            set(cellar_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            set(cellar_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque()))
            set(cellar_curl_setopt_callback(handle, CURLOPT_READFUNCTION, curlReadBody))
        default:
            set(cellar_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        guard status == CURLE_OK else {
            throw transportError(status, request: request)
        }

        let result = curl_easy_perform(handle)
        guard result == CURLE_OK else {
            throw transportError(result, request: request)
        }
        var code = 0
        _ = cellar_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return HTTPResponse(status: code, headers: transfer.headers, body: transfer.response)
    }

    private func transportError(_ code: CURLcode, request: HTTPRequest) -> HTTPTransportError {
        let detail = String(cString: errorBuffer)
        let summary = String(cString: curl_easy_strerror(code))
        let message = detail.isEmpty ? summary : "\(summary): \(detail)"
        // Requests carry no secrets in their URL (signatures go in headers),
        // so the URL may be named.
        let endpoint = request.url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.url
        let permanent: Set<CURLcode> = [
            CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_COULDNT_RESOLVE_HOST,
            CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
            CURLE_OUT_OF_MEMORY, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
        ]
        return HTTPTransportError(
            code: Int(code.rawValue), message: "\(request.method) \(endpoint): \(message)",
            isTransient: !permanent.contains(code))
    }
}

// MARK: - Transfer state and callbacks

/// What the callbacks of one transfer share: the body being sent, what has
/// arrived so far.
private final class Transfer {
    let body: [UInt8]
    var sent = 0
    var response: [UInt8] = []
    var headers: [String: String] = [:]

    init(body: [UInt8]) {
        self.body = body
    }
}

// > Your callback should return the number of bytes actually taken care of.
// > If that amount differs from the amount passed to your callback function,
// > it signals an error condition to the library.
private func curlWriteBody(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.response.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

// > This function gets called by libcurl as soon as it has received header
// > data. [...] called once for each header and only complete header lines
// > are passed on to the callback.
private func curlWriteHeader(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        // A new response (after a redirect or `100 Continue`): forget the last one's headers.
        transfer.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return length
}

// > Your function must then return the actual number of bytes that it stored
// > in that memory area. Returning 0 will signal end-of-file to the library.
private func curlReadBody(
    _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = min(size * count, transfer.body.count - transfer.sent)
    guard length > 0 else { return 0 }
    transfer.body.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(
            from: bytes.baseAddress! + transfer.sent, byteCount: length)
    }
    transfer.sent += length
    return length
}

// MARK: - CurlHandlePool

/// Easy handles shared by the threads of one store, each used by one thread
/// at a time, so that connections are reused across requests.
final class CurlHandlePool: Sendable {
    /// A handle taken from here belongs to one thread until it is given back.
    private let idle = Locked<[CurlEasy]>([])
    private let caBundle: String?
    /// Handles kept for reuse; more may exist while many threads work.
    private let keep = 8

    init(caBundle: String?) {
        self.caBundle = caBundle
    }

    func withHandle<T>(_ body: (CurlEasy) throws -> T) throws -> T {
        let reused = idle.withLock { $0.popLast() }
        let handle = try reused ?? CurlEasy(caBundle: caBundle)
        let result = try body(handle)
        idle.withLock { idle in
            if idle.count < keep { idle.append(handle) }
        }
        return result
    }
}
