#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Small wrappers over system calls, shared by the file and I/O types

/// The calling thread's `errno`, read once right after a failed call.
@inline(__always)
var currentErrno: Int32 { errno }

/// The text `strerror(3)` gives for an error number.
func systemErrorText(_ code: Int32) -> String {
    // glibc's strerror returns a pointer into its static table for every
    // known code; only unknown codes use a (thread-local) buffer.
    String(cString: strerror(code))
}

/// Writes all of `bytes` to `descriptor`, retrying on short writes and EINTR.
///
/// - Returns: 0 on success, otherwise the `errno` of the failing `write(2)`.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard var pointer = bytes.baseAddress else { return 0 }
    var remaining = bytes.count
    while remaining > 0 {
        // > On success, the number of bytes written is returned. [...] Note that
        // > a successful write() may transfer fewer than count bytes.
        let written = write(descriptor, pointer, remaining)
        if written < 0 {
            let code = currentErrno
            if code == EINTR { continue }
            return code
        }
        if written == 0 {
            // Only possible for a zero count; treat as an I/O error rather
            // than spin forever.
            return EIO
        }
        pointer += written
        remaining -= written
    }
    return 0
}

/// `fsync(2)`, retried on EINTR.
///
/// - Returns: 0 on success, otherwise `errno`.
func fsyncRetrying(_ descriptor: Int32) -> Int32 {
    while fsync(descriptor) != 0 {
        let code = currentErrno
        if code != EINTR { return code }
    }
    return 0
}

/// The directory part of `path`, as `dirname(1)` prints it.
func directoryName(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    let directory = trimmed[..<slash]
    return directory.isEmpty ? "/" : String(directory)
}

/// The last component of `path`, as `basename(1)` prints it.
func baseName(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
    return String(trimmed[trimmed.index(after: slash)...])
}
