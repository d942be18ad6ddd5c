// MARK: - RandomAccessSource

/// Something whose bytes can be read at any offset, from several threads at
/// once: a file (``FileDescriptorInput``), an object in a store read by ranged
/// GETs, or the plaintext view of an encrypted file.
///
/// An archive reader needs only this: the footer at a fixed distance from the
/// end, then each entry's frame where the table of contents places it, which
/// is what lets a parallel restore read a file, an S3 object or an age file
/// alike.
public protocol RandomAccessSource: AnyObject, Sendable {
    /// The name used in error messages: a path, `s3://bucket/key`, ...
    var name: String { get }
    /// The size in bytes.
    func size() throws -> UInt64
    /// Exactly `count` bytes from `offset`; throws when the source ends first.
    /// Safe to call from several threads at once.
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
}

// @unchecked Sendable: a FileDescriptorInput's only shared operation is
// pread(2), which is safe from many threads; `close()` must not race a read,
// and callers close once every reader has finished.
extension FileDescriptorInput: RandomAccessSource, @unchecked Sendable {}
