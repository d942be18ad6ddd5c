#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call on a file: which file, what was being done, and why.
///
/// The description reads like a sentence a person can act on:
/// `cannot create a temporary file next to deploy/app.secret.yaml: Permission denied (check that you may write to the directory deploy)`.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or directory) the operation was about.
    public var path: String
    /// What was being done, phrased to follow "cannot", e.g. `"write to"`.
    public var operation: String
    /// The `errno` value the system call reported.
    public var errorNumber: Int32
    /// The system's text for ``errorNumber`` (`strerror(3)`).
    public var reason: String

    public init(path: String, operation: String, errorNumber: Int32) {
        self.path = path
        self.operation = operation
        self.errorNumber = errorNumber
        self.reason = systemErrorText(errorNumber)
    }

    public var description: String {
        var text = "cannot \(operation) \(path): \(reason)"
        if let hint { text += " (\(hint))" }
        return text
    }

    /// Whether the operation only reads (`open for reading`, `read ... from`):
    /// its remedies concern the file, not the directory one would write in.
    private var reads: Bool { operation.contains("read") || operation.hasPrefix("open") && !operation.contains("writ") }

    /// What to do next, for the errors whose remedy is predictable.
    private var hint: String? {
        switch errorNumber {
        case EACCES where reads, EPERM where reads:
            return "check that you may read \(path)"
        case ENOENT where reads || directoryExists(directoryName(of: path)):
            return "no such file; check the path"
        case EACCES, EPERM:
            return "check that you may write to the directory \(directoryName(of: path))"
        case ENOSPC, EDQUOT:
            return "the file system is full or over quota; free some space and try again"
        case EROFS:
            return "the file system is mounted read-only; choose another location"
        case ENOENT:
            return "the directory \(directoryName(of: path)) does not exist"
        default:
            return nil
        }
    }
}

private func directoryExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
