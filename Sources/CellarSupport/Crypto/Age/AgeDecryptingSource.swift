import Foundation

/// The plaintext of an age-encrypted random-access source, decrypting only
/// the 64 KiB chunks a read covers; each is authenticated before any of its
/// bytes is returned.
///
/// Opening reads and authenticates the header (which needs an identity
/// that opens it) and the last chunk, so a file cut short or extended
/// fails here rather than mid-restore.
///
/// ```swift
/// let plain = try AgeDecryptingSource(source: try FileDescriptorInput(path: path),
///                                     identities: try AgeIdentity.parseIdentityFile(path: keyPath))
/// let archive = try ArchiveReader(source: plain)
/// ```
public final class AgeDecryptingSource: RandomAccessSource {
    // Each decryption makes its own cipher context.

    public var name: String { source.name }
    private let source: any RandomAccessSource
    private let payloadKey: [UInt8]
    private let payloadOffset: UInt64
    private let chunks: UInt64
    private let plaintextSize: UInt64
    private let sealedSize: UInt64

    /// Decrypted chunks by index, and the indexes oldest first.
    private let cache = Locked<(chunks: [UInt64: [UInt8]], order: [UInt64])>(([:], []))
    /// Chunks kept decrypted: enough for a few parallel readers, 64 KiB each.
    private static let cacheCapacity = 16

    /// Does `prefix` (the first bytes of a file) start an age v1 file?
    public static func isEncrypted(prefix: [UInt8]) -> Bool {
        prefix.starts(with: AgeHeader.magic)
    }

    /// How many leading bytes ``isEncrypted(prefix:)`` needs.
    public static let magicLength = AgeHeader.magic.count

    /// Opens an encrypted source.
    ///
    /// - Parameters:
    ///   - source: The ciphertext.
    ///   - identities: Tried in turn against every recipient stanza.
    ///   - recipientFingerprints: Who the caller knows the file was encrypted
    ///     to (a backup manifest), named in the error when no identity fits.
    /// - Throws: ``AgeError``: `badHeader`, `noMatchingIdentity`, or
    ///   `damaged` when the ciphertext's length is impossible or its last
    ///   chunk does not authenticate; the source's read errors.
    public init(source: any RandomAccessSource, identities: [AgeIdentity], recipientFingerprints: [String] = []) throws {
        self.source = source
        let size = try source.size()
        var prefixLength = UInt64(4096)
        var header: AgeHeader?
        while header == nil {
            let count = Int(min(prefixLength, size))
            header = try AgeHeader.parse(try source.read(at: 0, count: count), name: source.name)
            if header == nil {
                guard UInt64(count) < size else {
                    throw AgeError(.damaged, "\(source.name) ends inside its age header: the file is truncated")
                }
                prefixLength *= 4
            }
        }
        let fileKey = try header!.unwrapFileKey(identities: identities, name: source.name, recipientFingerprints: recipientFingerprints)
        let headerLength = UInt64(header!.length)
        guard size >= headerLength + UInt64(AgePayload.nonceSize) else {
            throw AgeError(.badHeader, "\(source.name) ends right after its age header: the encrypted data is missing (truncated file)")
        }
        let nonce = try source.read(at: headerLength, count: AgePayload.nonceSize)
        payloadKey = try AgePayload.payloadKey(fileKey: fileKey, nonce: nonce)
        payloadOffset = headerLength + UInt64(AgePayload.nonceSize)
        sealedSize = size - payloadOffset
        guard let layout = AgePayload.layout(sealedLength: sealedSize) else {
            throw AgeError(.damaged, "\(source.name) has \(sealedSize) bytes of age payload, which no complete file has: it is truncated or damaged")
        }
        plaintextSize = layout.plaintextSize
        chunks = layout.chunks
        // A file cut at a chunk boundary has a valid length; its new last
        // chunk was sealed as not last and fails here.
        _ = try chunk(chunks - 1)
    }

    public func size() throws -> UInt64 { plaintextSize }

    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= plaintextSize else {
            throw AgeError(.damaged, "cannot read \(count) bytes at offset \(offset) of the decrypted \(name): it holds only \(plaintextSize) bytes")
        }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        let chunkSize = UInt64(AgePayload.chunkSize), sealedChunk = UInt64(AgePayload.sealedChunkSize)
        let first = offset / chunkSize
        let last = end == offset ? first : (end - 1) / chunkSize
        // A read over several chunks fetches their ciphertext in one read of
        // the source: one ranged GET for a backup in S3, not one per 64 KiB.
        var fetched: (start: UInt64, bytes: [UInt8])?
        if last > first {
            let start = first * sealedChunk
            let stop = min((last + 1) * sealedChunk, sealedSize)
            fetched = (start, try source.read(at: payloadOffset + start, count: Int(stop - start)))
        }
        var position = offset
        while position < end {
            let index = position / UInt64(AgePayload.chunkSize)
            let plain: [UInt8]
            if let fetched {
                let from = Int(index * sealedChunk - fetched.start)
                let to = min(from + AgePayload.sealedChunkSize, fetched.bytes.count)
                plain = try open(fetched.bytes[from..<to], index: index)
            } else {
                plain = try chunk(index)
            }
            let start = Int(position - index * UInt64(AgePayload.chunkSize))
            let take = min(plain.count - start, Int(end - position))
            result.append(contentsOf: plain[start..<(start + take)])
            position += UInt64(take)
        }
        return result
    }

    /// Chunk `index`'s plaintext, from the cache or decrypted and authenticated.
    private func chunk(_ index: UInt64) throws -> [UInt8] {
        if let cached = cache.withLock({ $0.chunks[index] }) { return cached }
        let start = payloadOffset + index * UInt64(AgePayload.sealedChunkSize)
        let count = Int(min(UInt64(AgePayload.sealedChunkSize), sealedSize - index * UInt64(AgePayload.sealedChunkSize)))
        let plain = try open(try source.read(at: start, count: count)[...], index: index)
        cache.withLock { cache in
            if cache.chunks.updateValue(plain, forKey: index) == nil {
                cache.order.append(index)
                if cache.order.count > Self.cacheCapacity { cache.chunks[cache.order.removeFirst()] = nil }
            }
        }
        return plain
    }
}

extension AgeDecryptingSource {
    /// Chunk `index`'s plaintext from its sealed bytes, authenticated.
    private func open(_ sealed: ArraySlice<UInt8>, index: UInt64) throws -> [UInt8] {
        let last = index == chunks - 1
        let cipher = try ChaCha20Poly1305(key: payloadKey, encrypting: false)
        guard let plain = try sealed.withUnsafeBytes({ try cipher.open($0, nonce: AgePayload.chunkNonce(index, last: last)) }) else {
            let start = payloadOffset + index * UInt64(AgePayload.sealedChunkSize)
            throw AgeError(.damaged, last
                ? "\(name): the last 64 KiB chunk of the age payload does not authenticate: the file is truncated or was altered; nothing from it can be trusted"
                : "\(name): chunk \(index) (at byte \(start)) of the age payload does not authenticate: the file was altered or damaged")
        }
        return plain
    }
}

// MARK: - Streaming

/// The plaintext of an age-encrypted stream (a pipe, standard input),
/// decrypted chunk by chunk as it is read; each chunk is authenticated
/// before any of its bytes is returned, and a stream that ends without its
/// last chunk, or goes on after it, fails.
///
/// - Important: Not `Sendable`: read from one thread.
public final class AgeDecryptingStream: ByteSource {
    private let source: ByteSource
    private let name: String
    private let cipher: ChaCha20Poly1305
    /// Ciphertext read but not yet decrypted.
    private var ciphertext: [UInt8]
    private var plaintext: [UInt8] = []
    private var plaintextPosition = 0
    private var counter: UInt64 = 0
    private var sawLastChunk = false
    private var sourceEnded = false

    /// Reads and authenticates the header.
    ///
    /// - Parameters:
    ///   - source: The ciphertext.
    ///   - name: What to call it in errors (e.g. `"standard input"`).
    ///   - alreadyRead: Bytes already taken from `source` (to detect the format).
    ///   - identities: Tried in turn against every recipient stanza.
    ///   - recipientFingerprints: As for ``AgeDecryptingSource``.
    /// - Throws: ``AgeError``; the source's read errors.
    public init(source: ByteSource, name: String, alreadyRead: [UInt8] = [], identities: [AgeIdentity],
                recipientFingerprints: [String] = []) throws {
        self.source = source
        self.name = name
        var ciphertext = alreadyRead
        var ended = false
        func fill(upTo target: Int) throws -> Bool {
            try Self.fill(&ciphertext, from: source, upTo: target, ended: &ended)
        }
        var header: AgeHeader?
        while true {
            header = try AgeHeader.parse(ciphertext, name: name)
            if header != nil { break }
            guard try fill(upTo: ciphertext.count + 4096) else {
                throw AgeError(.damaged, "\(name) ends inside its age header: the input is truncated")
            }
        }
        ciphertext.removeFirst(header!.length)
        let fileKey = try header!.unwrapFileKey(identities: identities, name: name, recipientFingerprints: recipientFingerprints)
        while ciphertext.count < AgePayload.nonceSize {
            guard try fill(upTo: AgePayload.nonceSize) else {
                throw AgeError(.badHeader, "\(name) ends right after its age header: the encrypted data is missing")
            }
        }
        let nonce = Array(ciphertext.prefix(AgePayload.nonceSize))
        ciphertext.removeFirst(AgePayload.nonceSize)
        self.ciphertext = ciphertext
        sourceEnded = ended
        cipher = try ChaCha20Poly1305(key: try AgePayload.payloadKey(fileKey: fileKey, nonce: nonce), encrypting: false)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while plaintextPosition == plaintext.count {
            if sawLastChunk { return 0 }
            try decryptNextChunk()
        }
        let count = min(buffer.count, plaintext.count - plaintextPosition)
        plaintext.withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + plaintextPosition, byteCount: count)
        }
        plaintextPosition += count
        return count
    }

    private func decryptNextChunk() throws {
        // One byte beyond a full chunk tells whether this chunk is the last.
        while ciphertext.count <= AgePayload.sealedChunkSize, try fill(upTo: AgePayload.sealedChunkSize + 1) {}
        let last = ciphertext.count <= AgePayload.sealedChunkSize
        let count = min(ciphertext.count, AgePayload.sealedChunkSize)
        guard count >= ChaCha20Poly1305.tagSize, !(last && count == ChaCha20Poly1305.tagSize && counter > 0) else {
            throw AgeError(.damaged, "\(name) ends early: the age payload is truncated; nothing from it can be trusted")
        }
        let opened = try ciphertext.withUnsafeBytes {
            try cipher.open(UnsafeRawBufferPointer(rebasing: $0[..<count]), nonce: AgePayload.chunkNonce(counter, last: last))
        }
        guard let opened else {
            throw AgeError(.damaged, last
                ? "\(name): the last chunk of the age payload does not authenticate: the input is truncated or was altered"
                : "\(name): chunk \(counter) of the age payload does not authenticate: the input was altered or damaged")
        }
        ciphertext.removeFirst(count)
        plaintext = opened
        plaintextPosition = 0
        counter += 1
        sawLastChunk = last
    }

    /// Reads from the source until `ciphertext` holds `target` bytes or the
    /// source ends; returns whether anything was read.
    private func fill(upTo target: Int) throws -> Bool {
        try Self.fill(&ciphertext, from: source, upTo: target, ended: &sourceEnded)
    }

    private static func fill(_ ciphertext: inout [UInt8], from source: ByteSource, upTo target: Int, ended sourceEnded: inout Bool) throws -> Bool {
        guard !sourceEnded, ciphertext.count < target else { return false }
        let start = ciphertext.count
        ciphertext.append(contentsOf: repeatElement(0, count: target - start))
        var filled = start
        defer { ciphertext.removeLast(ciphertext.count - filled) }
        while filled < target {
            let count = try ciphertext.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled..<target])) }
            if count == 0 { sourceEnded = true; break }
            filled += count
        }
        return filled > start
    }
}
