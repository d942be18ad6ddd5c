#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// MARK: - ByteSink

/// Somewhere bytes can be written in order: a file being replaced atomically
/// (``AtomicFileWriter``), standard output (``FileDescriptorOutput``), memory
/// (``MemoryByteSink``).
public protocol ByteSink: AnyObject {
    /// Writes all of `bytes`, or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    /// Writes all of `bytes` (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, ...), or throws.
    public func write(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

// MARK: - FileDescriptorOutput

/// Writes to a file descriptor with `write(2)`, typically standard output.
///
/// Every call is one or more `write(2)` calls; nothing is buffered, so there
/// is nothing to flush. Pass it large pieces (the zstd compressor's output
/// already comes in blocks of up to 128 KiB).
public final class FileDescriptorOutput: ByteSink {
    /// The descriptor written to; -1 after ``close()``.
    public private(set) var fileDescriptor: Int32
    /// The name used in error messages, e.g. `"standard output"`.
    public let name: String
    /// How many bytes have been written through this object.
    public private(set) var bytesWritten: UInt64 = 0
    private let closesDescriptor: Bool

    /// Writes to a descriptor someone else opened.
    ///
    /// - Parameters:
    ///   - fileDescriptor: The descriptor to write to.
    ///   - name: What to call it in error messages.
    ///   - closeWhenDone: Whether this object owns the descriptor and closes
    ///     it in ``close()`` or `deinit`.
    public init(fileDescriptor: Int32, name: String, closeWhenDone: Bool = false) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.closesDescriptor = closeWhenDone
    }

    /// Standard output (descriptor 1), which is left open.
    public static func standardOutput() -> FileDescriptorOutput {
        FileDescriptorOutput(fileDescriptor: STDOUT_FILENO, name: "standard output")
    }

    deinit {
        if closesDescriptor, fileDescriptor >= 0 {
            _ = systemClose(fileDescriptor)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(fileDescriptor >= 0, "write to a closed FileDescriptorOutput (\(name))")
        let code = writeAll(fileDescriptor, bytes)
        guard code == 0 else {
            throw FileError(path: name, operation: "write to", errorNumber: code)
        }
        bytesWritten += UInt64(bytes.count)
    }

    /// Flushes what was written to stable storage (`fsync(2)`) when the
    /// descriptor is a file; does nothing for pipes and terminals.
    ///
    /// - Throws: ``FileError`` when `fsync(2)` fails on a file.
    public func synchronize() throws {
        let code = fsyncRetrying(fileDescriptor)
        // > EINVAL: fd is bound to a special file (e.g., a pipe, FIFO, or
        // > socket) which does not support synchronization.
        guard code == 0 || code == EINVAL || code == EROFS else {
            throw FileError(path: name, operation: "flush to disk", errorNumber: code)
        }
    }

    /// Closes the descriptor if this object owns it.
    ///
    /// - Throws: ``FileError`` when `close(2)` reports an error (which can be
    ///   the first sign of a failed write on network file systems).
    public func close() throws {
        guard closesDescriptor, fileDescriptor >= 0 else { return }
        let descriptor = fileDescriptor
        fileDescriptor = -1
        if systemClose(descriptor) != 0 {
            throw FileError(path: name, operation: "close", errorNumber: currentErrno)
        }
    }
}

// MARK: - MemoryByteSink

/// Collects written bytes in memory; for tests and small outputs.
public final class MemoryByteSink: ByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }
}
