// MARK: - The payload's layout

/// age's payload: a 16-byte nonce, then the plaintext in chunks of 64 KiB,
/// each sealed with ChaCha20-Poly1305 under HKDF(file key, nonce, "payload")
/// with the nonce `11-byte big-endian chunk counter || last-chunk flag`. Only
/// the last chunk may be shorter, and only an empty file has an empty chunk.
enum AgePayload {
    static let nonceSize = 16
    static let fileKeySize = 16
    static let chunkSize = 64 << 10
    static let sealedChunkSize = chunkSize + ChaCha20Poly1305.tagSize

    static func payloadKey(fileKey: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
        try HKDF.sha256(key: fileKey, salt: nonce, info: "payload")
    }

    static func chunkNonce(_ counter: UInt64, last: Bool) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: ChaCha20Poly1305.nonceSize)
        for index in 0..<8 { nonce[3 + index] = UInt8(truncatingIfNeeded: counter >> (56 - 8 * index)) }
        nonce[11] = last ? 1 : 0
        return nonce
    }

    /// The plaintext size and chunk count of a payload (after the nonce) of
    /// `sealedLength` bytes, or nil when no valid payload has that length.
    static func layout(sealedLength: UInt64) -> (plaintextSize: UInt64, chunks: UInt64)? {
        let sealed = UInt64(sealedChunkSize)
        let chunks = (sealedLength + sealed - 1) / sealed
        guard chunks > 0 else { return nil }
        let lastSealed = sealedLength - (chunks - 1) * sealed
        // A last chunk holds at least one byte, unless it is the only one.
        guard lastSealed > UInt64(ChaCha20Poly1305.tagSize) || (chunks == 1 && lastSealed == UInt64(ChaCha20Poly1305.tagSize)) else {
            return nil
        }
        return (sealedLength - chunks * UInt64(ChaCha20Poly1305.tagSize), chunks)
    }
}

// MARK: - Encrypting

/// Encrypts everything written to it in the age v1 format to one or more
/// X25519 recipients, writing the result to another sink; `age -d -i KEY`
/// decrypts it.
///
/// Holds at most one 64 KiB chunk of plaintext: a chunk is sealed once the
/// next byte arrives (only then is it known not to be the last).
///
/// ```swift
/// let encrypted = try AgeEncryptingSink(wrapping: file, recipients: [recipient])
/// try encrypted.write(bytes)   // as often as needed
/// try encrypted.finish()       // seals the last chunk; then commit `file`
/// ```
///
/// - Important: Not `Sendable`. Without ``finish()`` the output is truncated
///   and every reader rejects it.
public final class AgeEncryptingSink: ByteSink {
    private let sink: ByteSink
    private let cipher: ChaCha20Poly1305
    private var pending: [UInt8] = []
    private var sealed: [UInt8] = []
    private var counter: UInt64 = 0
    private var finished = false
    /// Plaintext bytes written so far.
    public private(set) var plaintextBytes: UInt64 = 0

    /// Writes the header and the payload nonce to `sink` at once.
    ///
    /// - Throws: ``AgeError`` when `recipients` is empty; ``OpenSSLError``;
    ///   the sink's error.
    public init(wrapping sink: ByteSink, recipients: [AgeRecipient]) throws {
        guard !recipients.isEmpty else { throw AgeError(.badKey, "encrypting needs at least one age recipient") }
        self.sink = sink
        let fileKey = try SecureRandom.bytes(count: AgePayload.fileKeySize)
        let nonce = try SecureRandom.bytes(count: AgePayload.nonceSize)
        cipher = try ChaCha20Poly1305(key: try AgePayload.payloadKey(fileKey: fileKey, nonce: nonce), encrypting: true)
        try sink.write(try AgeHeader.encoded(fileKey: fileKey, recipients: recipients) + nonce)
        pending.reserveCapacity(AgePayload.chunkSize)
        sealed.reserveCapacity(AgePayload.sealedChunkSize)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "AgeEncryptingSink.write after finish()")
        var offset = 0
        while offset < bytes.count {
            if pending.count == AgePayload.chunkSize { try sealPending(last: false) }
            let take = min(AgePayload.chunkSize - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
        }
        plaintextBytes += UInt64(bytes.count)
    }

    /// Seals the last chunk. Call once, after the last write; the wrapped
    /// sink is neither flushed nor closed.
    public func finish() throws {
        precondition(!finished, "AgeEncryptingSink.finish called twice")
        try sealPending(last: true)
        finished = true
    }

    private func sealPending(last: Bool) throws {
        sealed.removeAll(keepingCapacity: true)
        try pending.withUnsafeBytes { try cipher.seal($0, nonce: AgePayload.chunkNonce(counter, last: last), appendingTo: &sealed) }
        try sink.write(sealed)
        pending.removeAll(keepingCapacity: true)
        counter += 1
    }
}
