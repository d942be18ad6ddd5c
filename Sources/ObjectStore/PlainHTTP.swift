import Foundation

/// One HTTP request outside S3, over the same libcurl wrapper as the store:
/// a push to a Prometheus Pushgateway. Unsigned, not retried: its callers
/// treat a failure as a warning.
public enum PlainHTTP {
    /// A request that got no 2xx answer; the message names the URL (which
    /// carries no credentials: callers refuse URLs with a user or password).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Sends `body` with `method` (`PUT` or `POST`) to `url`.
    ///
    /// - Parameters:
    ///   - caBundle: A PEM file of CA certificates to trust instead of the system's.
    ///   - stallTimeout: Gives up when the transfer moves less than a byte a
    ///     second for this many seconds.
    /// - Throws: ``Failure`` when there is no connection or the answer is not 2xx.
    public static func send(_ method: String, url: String, contentType: String, body: [UInt8],
                            caBundle: String? = nil, stallTimeout: Int = 30) throws {
        let request = HTTPRequest(method: method, url: url, headers: [("Content-Type", contentType)], body: body)
        let response: HTTPResponse
        do {
            response = try CurlEasy(caBundle: caBundle).perform(request, stallTimeout: stallTimeout)
        } catch let error as HTTPTransportError {
            throw Failure(description: error.message)
        }
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "\(method) \(url): HTTP \(response.status)\(text.isEmpty ? "" : ": \(text)")")
        }
    }
}
