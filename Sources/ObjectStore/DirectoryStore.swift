#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CellarSupport
import Foundation

// MARK: - DirectoryStore

/// A backup repository in a directory: a local disk, a PVC, an NFS mount.
///
/// Each key is a file under the root (`db/2026…/archive` is
/// `<root>/db/2026…/archive`). An upload is an ``AtomicFileWriter``: the bytes
/// go to a hidden temporary file beside the target (`.<name>.<random>.tmp`,
/// mode 0600), which is `fsync`ed, renamed into place and its directory
/// `fsync`ed by ``ObjectUpload/finish()``. A killed upload leaves only the
/// hidden file, which ``list(prefix:)`` never returns and
/// ``sweepIncompleteUploads(prefix:olderThan:)`` removes once it is old enough.
///
/// Keys whose components start with `.` are refused, so no object can be
/// mistaken for a temporary file, and neither can `..` leave the root.
public struct DirectoryStore: ObjectStore {
    /// The directory, as configured.
    public let root: String

    public var description: String { root }

    /// - Parameter root: The repository's directory; created on the first
    ///   upload if it is missing.
    public init(root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    // MARK: Writing

    public func makeUpload(key: String, expectedSize: Int64?) throws -> any ObjectUpload {
        let path = try self.path(of: key)
        try createDirectories(for: key)
        return DirectoryUpload(writer: try AtomicFileWriter(path: path, mode: 0o600))
    }

    public func put(key: String, bytes: [UInt8]) throws {
        let upload = try makeUpload(key: key, expectedSize: Int64(bytes.count))
        do {
            try upload.write(bytes)
            try upload.finish()
        } catch {
            upload.abort()
            throw error
        }
    }

    // MARK: Reading

    public func get(key: String) throws -> [UInt8]? {
        let path = try self.path(of: key)
        let input: FileDescriptorInput
        do {
            input = try FileDescriptorInput(path: path)
        } catch let error as FileError where error.errorNumber == ENOENT {
            return nil
        }
        defer { try? input.close() }
        let size = try input.size()
        return try input.read(at: 0, count: Int(size))
    }

    public func open(key: String) throws -> any RandomAccessSource {
        let path = try self.path(of: key)
        do {
            return try FileDescriptorInput(path: path)
        } catch let error as FileError where error.errorNumber == ENOENT {
            throw DirectoryStoreError(store: root, key: key, message: "there is no such object; `pgcellar backups list` shows the backups there are")
        }
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        try walk(prefix: prefix).filter { !isTemporary($0.name) }.map(\.info)
    }

    // MARK: Removing

    public func delete(key: String) throws {
        let path = try self.path(of: key)
        do {
            try AtomicFile.removeDurably(path: path)
        } catch let error as FileError where error.errorNumber == ENOENT {
            return
        }
        removeEmptyDirectories(from: directoryPart(of: key))
    }

    public func sweepIncompleteUploads(prefix: String, olderThan: Duration) throws -> Int {
        let cutoff = Date().addingTimeInterval(-olderThan.seconds)
        var removed = 0
        for file in try walk(prefix: prefix) where isTemporary(file.name) && file.info.lastModified < cutoff {
            let path = root + "/" + file.info.key
            guard unlink(path) == 0 || errno == ENOENT else {
                throw FileError(path: path, operation: "remove the abandoned temporary file", errorNumber: errno)
            }
            removed += 1
            removeEmptyDirectories(from: directoryPart(of: file.info.key))
        }
        removeStaleEmptyDirectories(directoryPart(of: prefix), cutoff: cutoff)
        return removed
    }

    /// Removes the empty directories under `directory` (a key prefix) last
    /// changed before `cutoff`: what an upload killed between creating its
    /// directory and its temporary file leaves. A younger one may be a
    /// concurrent upload's, about to receive its file, and stays.
    private func removeStaleEmptyDirectories(_ directory: String, cutoff: Date) {
        let path = directory.isEmpty ? root : root + "/" + directory
        guard let handle = opendir(path) else { return }
        var children: [String] = []
        var empty = true
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            empty = false
            let key = directory.isEmpty ? name : directory + "/" + name
            var info = stat()
            if lstat(root + "/" + key, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { children.append(key) }
        }
        closedir(handle)
        for child in children { removeStaleEmptyDirectories(child, cutoff: cutoff) }
        var info = stat()
        guard empty, !directory.isEmpty, lstat(path, &info) == 0,
              Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec)) < cutoff else { return }
        _ = rmdir(path)
    }

    // MARK: - Keys and paths

    /// The file that holds `key`, after checking that the key stays inside
    /// the root and cannot be mistaken for a temporary file.
    func path(of key: String) throws -> String {
        let components = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, components.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }), !key.contains("\0") else {
            throw DirectoryStoreError(store: root, key: key, message: "not a valid key: keys are /-separated names, none empty or starting with a dot")
        }
        return root + "/" + key
    }

    private func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }

    private func directoryPart(of key: String) -> String {
        guard let slash = key.lastIndex(of: "/") else { return "" }
        return String(key[..<slash])
    }

    /// Creates the root and every directory between it and `key`'s file,
    /// syncing each parent so the new directory survives a crash.
    private func createDirectories(for key: String) throws {
        // The root's own parents too, as `mkdir -p` would: `path:
        // /var/lib/pgcellar/backups` on a fresh volume.
        var pending: [String] = []
        var parent = root.hasPrefix("/") ? "" : "."
        for component in root.split(separator: "/") {
            parent += "/" + component
            pending.append(parent)
        }
        var path = root
        for component in directoryPart(of: key).split(separator: "/") {
            path += "/" + component
            pending.append(path)
        }
        for directory in pending {
            if mkdir(directory, 0o700) == 0 {
                try synchronizeDirectory(parentOf: directory)
                continue
            }
            let code = errno
            guard code == EEXIST else {
                throw FileError(path: directory, operation: "create the repository directory", errorNumber: code)
            }
        }
    }

    private func synchronizeDirectory(parentOf path: String) throws {
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        let descriptor = Glibc.open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        // Some network file systems cannot sync a directory (EINVAL); the
        // directory exists either way.
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw FileError(path: parent, operation: "flush to disk the directory", errorNumber: errno)
        }
    }

    /// Removes `directory` (a key prefix) and its parents while they are
    /// empty, stopping at the root; what a deleted backup leaves is nothing.
    private func removeEmptyDirectories(from directory: String) {
        var current = directory
        while !current.isEmpty {
            guard rmdir(root + "/" + current) == 0 else { return }
            current = directoryPart(of: current)
        }
    }

    private struct FoundFile {
        var name: String
        var info: ObjectInfo
    }

    /// Every regular file under the root whose key starts with `prefix`, in
    /// key order, temporary files included.
    private func walk(prefix: String) throws -> [FoundFile] {
        var found: [FoundFile] = []
        // Only the directory the prefix names (up to its last slash) is walked.
        let start = directoryPart(of: prefix)
        try walk(directory: start, prefix: prefix, into: &found)
        return found.sorted { $0.info.key < $1.info.key }
    }

    private func walk(directory: String, prefix: String, into found: inout [FoundFile]) throws {
        let path = directory.isEmpty ? root : root + "/" + directory
        guard let handle = opendir(path) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return }
            throw FileError(path: path, operation: "list the repository directory", errorNumber: code)
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let key = directory.isEmpty ? name : directory + "/" + name
            var info = stat()
            guard lstat(root + "/" + key, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                // Descend only where keys with the prefix can be.
                if (key + "/").hasPrefix(prefix) || prefix.hasPrefix(key + "/") {
                    try walk(directory: key, prefix: prefix, into: &found)
                }
            case S_IFREG where key.hasPrefix(prefix):
                let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
                found.append(FoundFile(name: name, info: ObjectInfo(key: key, size: Int64(info.st_size), lastModified: modified)))
            default:
                continue
            }
        }
    }
}

// MARK: - DirectoryUpload

/// An object being written to a ``DirectoryStore``: an ``AtomicFileWriter``.
final class DirectoryUpload: ObjectUpload {
    private let writer: AtomicFileWriter

    init(writer: AtomicFileWriter) {
        self.writer = writer
    }

    /// The hidden file the bytes go to until ``finish()``.
    var temporaryPath: String { writer.temporaryPath }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try writer.write(bytes)
    }

    func finish() throws {
        try writer.commit()
    }

    func abort() {
        writer.abort()
    }
}

// MARK: - Errors

/// A key a directory repository cannot serve: missing or malformed.
public struct DirectoryStoreError: Error, CustomStringConvertible, Sendable {
    public var store: String
    public var key: String
    public var message: String

    public var description: String { "\(store)/\(key): \(message)" }
}

extension Duration {
    /// The duration in seconds, fractions included.
    fileprivate var seconds: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
