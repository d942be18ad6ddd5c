internal import COpenSSL

/// A failure inside OpenSSL's libcrypto, with every entry of OpenSSL's error
/// queue at the time, oldest first: the first is usually the cause, later
/// ones the context each caller added.
///
/// Modelled on swift-nio-ssl's `NIOBoringSSLErrorStack`, which also drains
/// the whole queue rather than keeping only the last code.
public struct OpenSSLError: Error, CustomStringConvertible, Sendable, Hashable {
    /// One entry of OpenSSL's error queue.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// The packed code `ERR_get_error` returned.
        public var code: UInt
        /// `ERR_error_string_n`'s text, e.g.
        /// `error:0308010C:digital envelope routines::unsupported`.
        public var message: String

        public init(code: UInt, message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { message }
    }

    /// What was being done, e.g. `"generating 32 random bytes"`.
    public var operation: String
    /// The error queue, oldest first; empty when OpenSSL recorded nothing.
    public var entries: [Entry]

    public init(operation: String, entries: [Entry]) {
        self.operation = operation
        self.entries = entries
    }

    public var description: String {
        let detail =
            entries.isEmpty
            ? "OpenSSL reported no details" : entries.map(\.message).joined(separator: "; ")
        return "OpenSSL: \(operation) failed: \(detail)"
    }

    /// Takes every entry off this thread's OpenSSL error queue.
    ///
    /// Call right after the failing call, on the same thread: the queue is
    /// thread-local.
    static func drainingQueue(operation: String) -> OpenSSLError {
        var entries: [Entry] = []
        // > ERR_get_error() returns the earliest error code from the thread's
        // > error queue and removes the entry. This function can be called
        // > repeatedly until there are no more error codes to return.
        // > ERR_get_error_all() is the same as ERR_get_error(), but on success
        // > it additionally stores the filename, line number and function
        // > where the error occurred in *file, *line and *func, and also
        // > extra text and flags in *data, *flags.
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var message = String(unsafeUninitializedCapacity: 256) { buffer in
                // > ERR_error_string_n() is a variant of ERR_error_string() that
                // > writes at most len characters (including the terminating 0)
                // > and truncates the string if necessary.
                buffer.withMemoryRebound(to: CChar.self) { text in
                    ERR_error_string_n(code, text.baseAddress, text.count)
                    return text.firstIndex(of: 0) ?? text.count
                }
            }
            // The extra text often names what was missing, e.g.
            // "Global default library context, Algorithm (SHA256 : 0), Properties (<null>)".
            if flags & ERR_TXT_STRING != 0, let data, data.pointee != 0 {
                message += " (\(String(validatingCString: data) ?? ""))"
            }
            entries.append(Entry(code: UInt(code), message: message))
        }
        return OpenSSLError(operation: operation, entries: entries)
    }

    /// Empties this thread's error queue so that an error collected after the
    /// next call belongs to that call (libpq's TLS code shares libcrypto and
    /// can leave entries behind).
    static func clearQueue() {
        ERR_clear_error()
    }
}
