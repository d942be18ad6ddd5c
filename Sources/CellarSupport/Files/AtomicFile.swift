#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// MARK: - AtomicFile

/// Writes files that must never be seen half-written, and that may hold
/// secrets: Kubernetes Secret manifests, exports.
///
/// The new content goes to a fresh temporary file in the target's directory
/// (`O_CREAT|O_EXCL`, so never someone else's file, with exactly the requested
/// mode whatever the umask), is written in full and `fsync`ed, then renamed
/// over the target, and the directory is `fsync`ed so the rename itself
/// survives a crash. Readers see either the old file or the new one.
///
/// Foundation's `.atomic` writing is not used because on Linux it creates
/// files with mode 0644 (minus umask) and does not sync the directory.
public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, atomically and durably.
    ///
    /// - Parameters:
    ///   - bytes: The complete new content.
    ///   - path: The file to create or replace.
    ///   - mode: The permission bits of the new file, applied exactly (the
    ///     umask does not narrow or widen them). Owner-only by default.
    /// - Throws: ``FileError`` naming the path and the step that failed. The
    ///   temporary file is removed; the old file, if any, is untouched unless
    ///   the failure came after the rename (syncing the directory).
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o600) throws {
        let writer = try AtomicFileWriter(path: path, mode: mode, bufferCapacity: 0)
        do {
            try writer.write(bytes)
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Replaces the file at `path` with `bytes` (`[UInt8]`, `Data`, ...),
    /// atomically and durably. See ``write(_:to:mode:)-(UnsafeRawBufferPointer,_,_)``.
    public static func write(_ bytes: some ContiguousBytes, to path: String, mode: mode_t = 0o600) throws {
        try bytes.withUnsafeBytes { try write($0, to: path, mode: mode) }
    }

    /// Replaces the file at `path` with the UTF-8 encoding of `text`,
    /// atomically and durably.
    public static func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0), to: path, mode: mode) }
    }

    /// Removes the file at `path` and syncs its directory, so the removal
    /// survives a crash.
    ///
    /// - Throws: ``FileError``, also when the file does not exist (`ENOENT`).
    public static func removeDurably(path: String) throws {
        if unlink(path) != 0 {
            throw FileError(path: path, operation: "remove", errorNumber: currentErrno)
        }
        try synchronizeDirectory(containing: path)
    }

    /// `fsync`s the directory that holds `path`, making a rename or unlink in
    /// it durable.
    static func synchronizeDirectory(containing path: String) throws {
        let directory = directoryName(of: path)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FileError(path: directory, operation: "open the directory", errorNumber: currentErrno)
        }
        defer { _ = systemClose(descriptor) }
        let code = fsyncRetrying(descriptor)
        // Some file systems (certain FUSE and network ones) cannot sync a
        // directory and say EINVAL; the rename has happened, and there is
        // nothing more a caller could do, so that one is not an error.
        guard code == 0 || code == EINVAL else {
            throw FileError(path: directory, operation: "flush to disk the directory", errorNumber: code)
        }
    }
}

// MARK: - AtomicFileWriter

/// Writes a large file in pieces, then puts it in place atomically with
/// ``commit()``; until then the target is untouched.
///
/// ```swift
/// let output = try AtomicFileWriter(path: "export.sql.zst")
/// try output.write(frame)          // as often as needed
/// try output.commit()              // fsync, rename over the target, fsync the directory
/// ```
///
/// If neither ``commit()`` nor ``abort()`` is called, `deinit` aborts: the
/// temporary file is removed and the target stays as it was.
///
/// Small writes are gathered in a buffer (256 KiB by default) so that each
/// becomes no system call of its own.
///
/// - Important: Not `Sendable`; use from one thread at a time.
public final class AtomicFileWriter: ByteSink {
    /// The file that ``commit()`` creates or replaces.
    public let path: String
    /// Where the content is written until ``commit()``: a hidden file in the
    /// same directory, `.<name>.<random>.tmp`.
    public let temporaryPath: String
    /// How many bytes were written so far (buffered ones included).
    public private(set) var bytesWritten: UInt64 = 0

    private var descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0

    /// Creates the temporary file next to `path`.
    ///
    /// - Parameters:
    ///   - path: The file that ``commit()`` creates or replaces.
    ///   - mode: Permission bits of the new file, applied exactly (the umask
    ///     does not change them). Owner-only by default.
    ///   - bufferCapacity: Bytes gathered before a `write(2)`; 0 writes through.
    /// - Throws: ``FileError`` when the temporary file cannot be created.
    public init(path: String, mode: mode_t = 0o600, bufferCapacity: Int = 256 * 1024) throws {
        precondition(bufferCapacity >= 0, "bufferCapacity must not be negative")
        self.path = path
        let directory = directoryName(of: path)
        // Keep the name within NAME_MAX (255 bytes) however long the target's is.
        let stem = String(baseName(of: path).prefix(48))
        var descriptor: Int32 = -1
        var temporaryPath = ""
        var attempts = 0
        while true {
            let suffix = String(UInt64.random(in: .min ... .max), radix: 36)
            temporaryPath = (directory == "/" ? "/" : directory + "/") + ".\(stem).\(suffix).tmp"
            // > O_EXCL: Ensure that this call creates the file: if this flag is
            // > specified in conjunction with O_CREAT, and pathname already
            // > exists, then open() fails with the error EEXIST.
            descriptor = open(temporaryPath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
            if descriptor >= 0 { break }
            let code = currentErrno
            attempts += 1
            if code == EINTR || (code == EEXIST && attempts < 16) { continue }
            throw FileError(path: path, operation: "create a temporary file next to", errorNumber: code)
        }
        // > The effective mode is modified by the process's umask in the usual
        // > way: in the absence of a default ACL, the mode of the created file
        // > is (mode & ~umask).
        // The caller asked for exactly `mode`; fchmod is not subject to umask.
        if fchmod(descriptor, mode) != 0 {
            let code = currentErrno
            _ = systemClose(descriptor)
            _ = unlink(temporaryPath)
            throw FileError(path: temporaryPath, operation: "set the permissions of", errorNumber: code)
        }
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.buffer = .allocate(byteCount: bufferCapacity, alignment: 16)
    }

    deinit {
        abort()
        buffer.deallocate()
    }

    /// Whether neither ``commit()`` nor ``abort()`` has been called.
    public var isOpen: Bool { descriptor >= 0 }

    /// Appends `bytes` to the new file.
    ///
    /// - Throws: ``FileError`` when writing fails (the disk is full, ...).
    ///   The writer stays open; call ``abort()`` or let it go.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(isOpen, "write to an AtomicFileWriter after commit() or abort() (\(path))")
        guard !bytes.isEmpty else { return }
        if buffered + bytes.count <= buffer.count {
            (buffer.baseAddress! + buffered).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            buffered += bytes.count
        } else {
            try flushBuffer()
            if bytes.count < buffer.count {
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                buffered = bytes.count
            } else {
                try writeThrough(bytes)
            }
        }
        bytesWritten += UInt64(bytes.count)
    }

    /// Makes the new file durable and puts it in place: `fsync`, `rename` over
    /// ``path``, `fsync` of the directory.
    ///
    /// - Throws: ``FileError`` naming the step that failed. Before the rename
    ///   the temporary file is removed and the target stays as it was; a
    ///   failure to sync the directory comes after the rename, so the new file
    ///   is in place but may not survive a crash.
    public func commit() throws {
        precondition(isOpen, "commit() of an AtomicFileWriter after commit() or abort() (\(path))")
        do {
            try flushBuffer()
            let syncCode = fsyncRetrying(descriptor)
            guard syncCode == 0 else {
                throw FileError(path: temporaryPath, operation: "flush to disk", errorNumber: syncCode)
            }
            let closing = descriptor
            descriptor = -1
            // > A careful programmer will check the return value of close(),
            // > since it is quite possible that errors on a previous write(2)
            // > operation are reported only on the final close().
            if systemClose(closing) != 0 {
                throw FileError(path: temporaryPath, operation: "close", errorNumber: currentErrno)
            }
            // > rename() [...] If newpath already exists, it will be atomically
            // > replaced, so that there is no point at which another process
            // > attempting to access newpath will find it missing.
            if rename(temporaryPath, path) != 0 {
                throw FileError(path: path, operation: "rename \(temporaryPath) to", errorNumber: currentErrno)
            }
        } catch {
            if descriptor >= 0 { _ = systemClose(descriptor) }
            descriptor = -1
            _ = unlink(temporaryPath)
            throw error
        }
        try AtomicFile.synchronizeDirectory(containing: path)
    }

    /// Gives up: closes and removes the temporary file; the target stays as it
    /// was. Does nothing after ``commit()`` or a previous ``abort()``.
    public func abort() {
        guard isOpen else { return }
        _ = systemClose(descriptor)
        descriptor = -1
        _ = unlink(temporaryPath)
    }

    private func flushBuffer() throws {
        guard buffered > 0 else { return }
        let pending = UnsafeRawBufferPointer(start: buffer.baseAddress, count: buffered)
        buffered = 0
        try writeThrough(pending)
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws {
        let code = writeAll(descriptor, bytes)
        guard code == 0 else {
            throw FileError(path: temporaryPath, operation: "write to", errorNumber: code)
        }
    }
}
