internal import CZstd

/// A zstd skippable frame (RFC 8878 §3.1.2): a magic number from 0x184D2A50
/// to 0x184D2A5F, a little-endian 32-bit payload size, and the payload.
///
/// Decoders such as `zstd -d` skip these frames, so a `.zst` file can carry
/// metadata that does not change its decompressed content.
public struct SkippableFrame: Sendable, Hashable {
    /// The first of the 16 skippable magic numbers.
    public static let firstMagic: UInt32 = 0x184D_2A50
    /// The bytes before the payload: magic number and size.
    public static let headerSize = 8

    /// Which of the 16 magic numbers the frame uses (0...15).
    public var variant: UInt8
    /// The frame's content.
    public var payload: [UInt8]

    /// A frame with magic number `0x184D2A50 + variant`.
    ///
    /// - Precondition: `variant` is in 0...15 and `payload` holds fewer than
    ///   2³² bytes.
    public init(variant: UInt8, payload: [UInt8]) {
        precondition(variant <= 15, "a skippable frame's magic variant is 0...15, not \(variant)")
        precondition(UInt64(payload.count) <= UInt64(UInt32.max), "a skippable frame holds less than 4 GiB")
        self.variant = variant
        self.payload = payload
    }

    /// The frame as it appears in a file: header, then payload.
    public var encoded: [UInt8] {
        Self.encode(magicVariant: variant, payload: payload)
    }

    /// Encodes a skippable frame with magic number `0x184D2A50 + magicVariant`.
    ///
    /// - Precondition: `magicVariant` is in 0...15 and `payload` holds fewer
    ///   than 2³² bytes.
    public static func encode(magicVariant: UInt8, payload: some Collection<UInt8>) -> [UInt8] {
        precondition(magicVariant <= 15, "a skippable frame's magic variant is 0...15, not \(magicVariant)")
        precondition(UInt64(payload.count) <= UInt64(UInt32.max), "a skippable frame holds less than 4 GiB")
        var frame: [UInt8] = []
        frame.reserveCapacity(headerSize + payload.count)
        appendLittleEndian(firstMagic + UInt32(magicVariant), to: &frame)
        appendLittleEndian(UInt32(payload.count), to: &frame)
        frame.append(contentsOf: payload)
        return frame
    }

    /// Decodes one complete skippable frame.
    ///
    /// - Throws: ``ZstdError``: `notAFrame` when the magic number is not a
    ///   skippable one, `truncatedInput` when the payload is shorter than its
    ///   header says, `trailingData` when bytes follow it.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> SkippableFrame {
        let bytes = Array(bytes)
        guard bytes.count >= headerSize else {
            throw ZstdError(
                code: .truncatedInput, operation: "reading a skippable frame",
                reason: "\(bytes.count) bytes are too few for its 8-byte header")
        }
        let magic = readLittleEndianUInt32(bytes, at: 0)
        guard let variant = variant(ofMagic: magic) else {
            throw ZstdError(
                code: .notAFrame, operation: "reading a skippable frame",
                reason: "magic number 0x\(String(magic, radix: 16, uppercase: true)) is not 0x184D2A50...0x184D2A5F")
        }
        let size = Int(readLittleEndianUInt32(bytes, at: 4))
        if bytes.count < headerSize + size {
            throw ZstdError(
                code: .truncatedInput, operation: "reading a skippable frame",
                reason: "its header announces \(size) bytes of payload, but only \(bytes.count - headerSize) are there")
        }
        if bytes.count > headerSize + size {
            throw ZstdError(
                code: .trailingData, operation: "reading a skippable frame",
                reason: "the frame ends after \(headerSize + size) bytes, and \(bytes.count - headerSize - size) more follow")
        }
        return SkippableFrame(variant: variant, payload: Array(bytes[headerSize...]))
    }

    /// The variant (0...15) of a skippable magic number, or nil for any other number.
    static func variant(ofMagic magic: UInt32) -> UInt8? {
        // > ZSTD_MAGIC_SKIPPABLE_START 0x184D2A50: all 16 values, from
        // > 0x184D2A50 to 0x184D2A5F, signal the beginning of a skippable frame
        guard magic & ZSTD_MAGIC_SKIPPABLE_MASK == ZSTD_MAGIC_SKIPPABLE_START else { return nil }
        return UInt8(magic - firstMagic)
    }
}

// MARK: - Little-endian helpers

@inline(__always)
func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

@inline(__always)
func readLittleEndianUInt32(_ bytes: [UInt8], at index: Int) -> UInt32 {
    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
        | UInt32(bytes[index + 3]) << 24
}
