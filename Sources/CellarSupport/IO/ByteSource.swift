#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - ByteSource

/// Something bytes can be read from in order: a file, a pipe, standard input,
/// an array in memory.
///
/// Readers such as ``ZstdFrameReader`` only ever read forward, so a source
/// need not support seeking.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes into the start of `buffer`.
    ///
    /// - Returns: How many bytes were read; 0 only at the end of the input
    ///   (or when `buffer` is empty).
    /// - Throws: An error naming the source when reading fails.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

// MARK: - FileDescriptorInput

/// Reads from a file descriptor with `read(2)`: a file, a pipe, standard input.
///
/// Handles are not `Sendable`: use one from one thread at a time.
public final class FileDescriptorInput: ByteSource {
    /// The descriptor read from; -1 after ``close()``.
    public private(set) var fileDescriptor: Int32
    /// The name used in error messages: the path, or e.g. `"standard input"`.
    public let name: String
    private let closesDescriptor: Bool

    /// Opens `path` for reading.
    ///
    /// - Throws: ``FileError`` when the file cannot be opened.
    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FileError(path: path, operation: "open for reading", errorNumber: currentErrno)
        }
        self.fileDescriptor = descriptor
        self.name = path
        self.closesDescriptor = true
    }

    /// Reads from a descriptor someone else opened.
    ///
    /// - Parameters:
    ///   - fileDescriptor: The descriptor to read from.
    ///   - name: What to call it in error messages.
    ///   - closeWhenDone: Whether this object owns the descriptor and closes
    ///     it in ``close()`` or `deinit`.
    public init(fileDescriptor: Int32, name: String, closeWhenDone: Bool = false) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.closesDescriptor = closeWhenDone
    }

    /// Standard input (descriptor 0), which is left open.
    public static func standardInput() -> FileDescriptorInput {
        FileDescriptorInput(fileDescriptor: STDIN_FILENO, name: "standard input")
    }

    deinit {
        if closesDescriptor, fileDescriptor >= 0 {
            _ = systemClose(fileDescriptor)
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        precondition(fileDescriptor >= 0, "read from a closed FileDescriptorInput (\(name))")
        while true {
            let count = systemRead(fileDescriptor, base, buffer.count)
            if count >= 0 { return count }
            let code = currentErrno
            if code != EINTR {
                throw FileError(path: name, operation: "read from", errorNumber: code)
            }
        }
    }

    /// Reads exactly `count` bytes starting at byte `offset` of the file,
    /// without moving the read position (`pread(2)`).
    ///
    /// Useful for reading one frame whose place a table of contents gives.
    ///
    /// - Throws: ``FileError`` when reading fails or the file ends first
    ///   (`ESPIPE` when the descriptor is a pipe).
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        precondition(fileDescriptor >= 0, "read from a closed FileDescriptorInput (\(name))")
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let got = pread(
                    fileDescriptor, buffer.baseAddress! + initialized, count - initialized,
                    off_t(offset) + off_t(initialized))
                if got < 0 {
                    let code = currentErrno
                    if code == EINTR { continue }
                    throw FileError(path: name, operation: "read \(count) bytes at offset \(offset) from", errorNumber: code)
                }
                if got == 0 {
                    throw FileError(path: name, operation: "read \(count) bytes at offset \(offset) from (the file ends first)", errorNumber: EIO)
                }
                initialized += got
            }
        }
    }

    /// The file's size in bytes (`fstat(2)`); 0 for pipes and terminals.
    ///
    /// With ``read(at:count:)`` this finds a trailer at a fixed distance from
    /// the end of a file.
    ///
    /// - Throws: ``FileError`` when `fstat(2)` fails.
    public func size() throws -> UInt64 {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else {
            throw FileError(path: name, operation: "get the size of", errorNumber: currentErrno)
        }
        return UInt64(max(info.st_size, 0))
    }

    /// Closes the descriptor if this object owns it.
    ///
    /// - Throws: ``FileError`` when `close(2)` reports an error.
    public func close() throws {
        guard closesDescriptor, fileDescriptor >= 0 else { return }
        let descriptor = fileDescriptor
        fileDescriptor = -1
        if systemClose(descriptor) != 0 {
            throw FileError(path: name, operation: "close", errorNumber: currentErrno)
        }
    }
}

// MARK: - MemoryByteSource

/// Reads from bytes held in memory; handy for tests and small inputs.
public final class MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    /// How many bytes have been read so far.
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: count)
        }
        position += count
        return count
    }
}

// MARK: - Disambiguation

/// `read` and `close` are also the names of methods here; these reach the C functions.
@inline(__always)
func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

@inline(__always)
func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
