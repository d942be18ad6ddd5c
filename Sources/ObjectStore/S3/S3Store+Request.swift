import CellarSupport
import Foundation

extension S3Store {
    /// Signs and sends one request, retrying transient failures (5xx,
    /// throttling, resets, timeouts) with exponential backoff and jitter.
    ///
    /// - Parameters:
    ///   - operation: What to call it in messages (`"PUT"`, `"upload part 3 of"`).
    ///   - key: The object's key under the store's prefix; nil for the bucket.
    ///   - query: Unencoded query parameters.
    ///   - contentMD5: Sends `Content-MD5`, so the store checks the body.
    /// - Returns: A response with a 2xx status.
    /// - Throws: ``S3Error`` with the store's error code and what to do.
    func send(
        _ operation: String, method: String, key: String?, query: [(String, String)] = [],
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], contentMD5: Bool = false
    ) throws -> HTTPResponse {
        let request = prepare(method: method, key: key, query: query, headers: headers, body: body, contentMD5: contentMD5)
        var attempt = 1
        while true {
            let signature = signer.sign(
                method: method, path: request.canonicalPath, query: query, headers: request.headers,
                payloadHash: request.payloadHash, sendPayloadHash: true, date: Date())
            let http = HTTPRequest(
                method: method, url: request.url, headers: request.headers + signature.headers, body: body)
            var failure: S3Error
            do {
                let response = try handles.withHandle { try $0.perform(http) }
                if (200..<300).contains(response.status) {
                    // CompleteMultipartUpload can answer 200 and still fail.
                    if method == "POST", let error = embeddedError(response, operation: operation, key: key) {
                        failure = error
                    } else {
                        return response
                    }
                } else {
                    failure = error(from: response, operation: operation, key: key)
                }
            } catch let error as HTTPTransportError {
                failure = S3Error(operation: operation, target: target(key), code: .transport, message: error.message)
                failure.transportIsTransient = error.isTransient
            }
            failure.attempts = attempt
            guard failure.isTransient, attempt < configuration.maxAttempts else { throw failure }
            Thread.sleep(forTimeInterval: backoff(attempt: attempt))
            attempt += 1
        }
    }

    /// The wait before retry `attempt + 1`: the initial backoff doubled per
    /// attempt, capped at 10 s, times a random 50 to 100 % so that parallel
    /// parts do not retry in step.
    private func backoff(attempt: Int) -> TimeInterval {
        let initial = configuration.initialBackoff
        let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
        return min(10, base * pow(2, Double(attempt - 1))) * Double.random(in: 0.5...1)
    }

    /// A request's URL and unsigned headers, computed once for all attempts.
    struct PreparedRequest {
        var url: String
        var canonicalPath: String
        var headers: [(name: String, value: String)]
        var payloadHash: String
    }

    private func prepare(
        method: String, key: String?, query: [(String, String)], headers: [(name: String, value: String)],
        body: [UInt8], contentMD5: Bool
    ) -> PreparedRequest {
        let bucket = configuration.bucket
        let objectPath = key.map { "/" + bucketKey($0) } ?? ""
        let path: String
        var hostHeader = port.map { "\(host):\($0)" } ?? host
        if configuration.forcePathStyle {
            path = "/\(bucket)\(objectPath)"
        } else {
            hostHeader = "\(bucket).\(hostHeader)"
            path = objectPath.isEmpty ? "/" : objectPath
        }
        let queryString = SigV4Signer.canonicalQuery(query)
        let encodedPath = SigV4Signer.encode(path, keepingSlashes: true)
        let url = "\(scheme)://\(hostHeader)\(encodedPath)\(queryString.isEmpty ? "" : "?" + queryString)"
        var allHeaders = [(name: "Host", value: hostHeader)] + headers
        if contentMD5 {
            let digest = body.withUnsafeBytes { Digests.md5($0) }
            allHeaders.append(("Content-MD5", Data(digest).base64EncodedString()))
        }
        return PreparedRequest(
            url: url, canonicalPath: path, headers: allHeaders, payloadHash: Digests.sha256Hex(body))
    }

    /// The S3 error an unsuccessful response describes.
    private func error(from response: HTTPResponse, operation: String, key: String?) -> S3Error {
        let document = XMLNode.parse(response.body)
        var code: S3Error.Code
        var message = ""
        if let document, document.name == "Error", let value = document.value("Code") {
            code = S3Error.Code(rawValue: value)
            message = document.value("Message") ?? ""
        } else {
            // A HEAD answer has no body: name the usual cause of its status.
            switch response.status {
            case 404: code = key == nil ? .noSuchBucket : .noSuchKey
            case 403: code = .accessDenied
            case 503: code = .slowDown
            default: code = S3Error.Code(rawValue: "HTTP\(response.status)")
            }
        }
        if code == .noSuchKey, let key {
            message = message.isEmpty ? "no object \(target(key))" : message
        }
        return S3Error(operation: operation, target: target(key), code: code, httpStatus: response.status, message: message)
    }

    /// An `<Error>` document in a 200 answer, which CompleteMultipartUpload
    /// and CopyObject may send after they started answering.
    private func embeddedError(_ response: HTTPResponse, operation: String, key: String?) -> S3Error? {
        guard response.body.count < 64 * 1024, response.body.starts(with: Array("<?xml".utf8)) || response.body.first == UInt8(ascii: "<"),
            let document = XMLNode.parse(response.body), document.name == "Error"
        else { return nil }
        return S3Error(
            operation: operation, target: target(key), code: S3Error.Code(rawValue: document.value("Code") ?? "InternalError"),
            httpStatus: response.status, message: document.value("Message") ?? "")
    }
}
