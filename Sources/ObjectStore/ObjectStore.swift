import CellarSupport
import Foundation

// MARK: - ObjectStore

/// Where a backup repository keeps its objects: a directory (``DirectoryStore``)
/// or an S3-compatible bucket (``S3Store``). Keys are `/`-separated paths
/// relative to the store's root (the directory, or the bucket's prefix).
///
/// The contract both implementations keep:
/// - Nothing is visible under a key until its upload has finished: a killed
///   writer leaves no object that `list` returns (a temporary name on disk, an
///   incomplete multipart upload in S3).
/// - Reads are ranged, so an archive in a store is read like a file.
/// - Every error names the store, the key and what to do.
public protocol ObjectStore: Sendable {
    /// How the store is named in messages: a path, `s3://bucket/prefix`.
    var description: String { get }

    /// Starts streaming an object to `key`. The bytes become visible under
    /// `key` only when ``ObjectUpload/finish()`` returns.
    /// - Parameter expectedSize: an estimate of the final size, used to size
    ///   the parts of a multipart upload; nil when unknown.
    func makeUpload(key: String, expectedSize: Int64?) throws -> any ObjectUpload

    /// Writes a small object in one request (manifests, drill results).
    func put(key: String, bytes: [UInt8]) throws

    /// The whole of a small object, or nil when there is none.
    func get(key: String) throws -> [UInt8]?

    /// Opens an object for ranged reads; throws when there is none.
    func open(key: String) throws -> any RandomAccessSource

    /// Every object whose key starts with `prefix`, in key order (all pages).
    func list(prefix: String) throws -> [ObjectInfo]

    /// Removes an object; removing a missing object is not an error.
    func delete(key: String) throws

    /// Removes what killed uploads left behind that started more than
    /// `olderThan` ago (temporary files, incomplete multipart uploads), so a
    /// concurrent upload is never cut off.
    /// - Returns: how many were removed.
    func sweepIncompleteUploads(prefix: String, olderThan: Duration) throws -> Int
}

/// An object being written. Not `Sendable`: one writer at a time.
public protocol ObjectUpload: ByteSink {
    /// Completes the upload; the object is visible under its key afterwards.
    func finish() throws
    /// Gives up; nothing becomes visible and what was sent is released.
    /// Safe to call more than once, and after a failed `finish()`.
    func abort()
}

/// An object as `list` reports it.
public struct ObjectInfo: Sendable, Hashable {
    public var key: String
    public var size: Int64
    public var lastModified: Date

    public init(key: String, size: Int64, lastModified: Date) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
    }
}
