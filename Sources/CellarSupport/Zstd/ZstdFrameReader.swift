internal import CZstd

// MARK: - Frame descriptions

/// The two kinds of frame a zstd stream holds.
public enum ZstdFrameKind: Sendable, Hashable {
    /// A compressed frame (magic 0xFD2FB528).
    case data
    /// A skippable frame (magic 0x184D2A50 + variant).
    case skippable(variant: UInt8)
}

/// Where a frame lies in its input, and what its header says.
public struct ZstdFrameInfo: Sendable, Hashable {
    /// Data or skippable.
    public var kind: ZstdFrameKind
    /// Byte offset of the frame's first byte in the input.
    public var offset: UInt64
    /// The whole frame's size in bytes, headers and checksum included.
    public var size: UInt64
    /// For a data frame, the content size its header records, if it does;
    /// for a skippable frame, the payload size.
    public var contentSize: UInt64?
    /// Whether a data frame ends with a content checksum (always false for
    /// skippable frames, which have none).
    public var hasChecksum: Bool

    public init(kind: ZstdFrameKind, offset: UInt64, size: UInt64, contentSize: UInt64?, hasChecksum: Bool) {
        self.kind = kind
        self.offset = offset
        self.size = size
        self.contentSize = contentSize
        self.hasChecksum = hasChecksum
    }
}

/// One frame read whole: where it was, and its bytes exactly as in the input.
public struct ZstdFrame: Sendable, Hashable {
    /// Where the frame was, and what its header says.
    public var info: ZstdFrameInfo
    /// The whole frame, headers included: give a data frame to
    /// ``ZstdDecompressor/decompressFrame(_:)-(UnsafeRawBufferPointer)``.
    public var bytes: [UInt8]

    public init(info: ZstdFrameInfo, bytes: [UInt8]) {
        self.info = info
        self.bytes = bytes
    }

    /// Data or skippable.
    public var kind: ZstdFrameKind { info.kind }
    /// Byte offset of the frame's first byte in the input.
    public var offset: UInt64 { info.offset }
    /// The frame's size in bytes.
    public var size: Int { bytes.count }
    /// A skippable frame's payload (without the 8-byte header); nil for a data frame.
    public var skippablePayload: ArraySlice<UInt8>? {
        guard case .skippable = info.kind else { return nil }
        return bytes[SkippableFrame.headerSize...]
    }
}

// MARK: - ZstdFrameReader

/// Reads a zstd stream frame by frame, from any ``ByteSource`` (a file,
/// standard input, memory), without seeking and with a fixed-size buffer.
///
/// Frames are delimited by walking their structure (RFC 8878): a data
/// frame's header (`ZSTD_getFrameHeader`), then each block header (3 bytes:
/// last-block bit, type, size) and, when the header says so, the 4-byte
/// checksum; a skippable frame's 8-byte header gives its size. No frame needs
/// to be held in memory to find where it ends, and nothing is decompressed:
/// checksums are verified by ``ZstdDecompressor``, not here.
///
/// ```swift
/// let reader = ZstdFrameReader(source: try FileDescriptorInput(path: "export.sql.zst"))
/// while let frame = try reader.next() {
///     switch frame.kind {
///     case .data: ...                      // frame.bytes is one zstd frame
///     case .skippable(let variant): ...    // frame.skippablePayload
///     }
/// }
/// ```
///
/// - Important: Not `Sendable`; use from one thread at a time. After an
///   error the reader's position is undefined: stop reading.
public final class ZstdFrameReader {
    /// The smallest buffer the reader works with: a frame header's maximum size.
    public static let minimumBufferSize = 32

    /// The largest frame ``next()`` accepts; larger ones are an error
    /// (``next(into:)`` streams frames of any size).
    public let maximumFrameSize: Int
    /// Byte offset, in the input, of the next frame (between calls: bytes consumed so far).
    public private(set) var offset: UInt64 = 0

    private let source: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    /// Unconsumed bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEndOfInput = false

    /// Creates a reader.
    ///
    /// - Parameters:
    ///   - source: Where the frames come from; read forward only.
    ///   - bufferSize: Bytes read from `source` at a time (at least
    ///     ``minimumBufferSize``); memory use does not grow beyond it.
    ///   - maximumFrameSize: The largest frame ``next()`` returns whole.
    public init(source: any ByteSource, bufferSize: Int = 128 * 1024, maximumFrameSize: Int = 256 * 1024 * 1024) {
        self.source = source
        self.buffer = .allocate(byteCount: max(bufferSize, Self.minimumBufferSize), alignment: 16)
        self.maximumFrameSize = maximumFrameSize
    }

    deinit {
        buffer.deallocate()
    }

    /// Reads the next frame whole.
    ///
    /// - Returns: The frame, or nil at the end of the input.
    /// - Throws: ``ZstdError``: `truncatedInput` when the input ends inside a
    ///   frame, `notAFrame` when no frame starts where one should,
    ///   `corruptData` for an impossible header, `frameTooLarge` beyond
    ///   ``maximumFrameSize``; or what the source throws.
    public func next() throws -> ZstdFrame? {
        var bytes: [UInt8] = []
        let limit = maximumFrameSize
        let frameStart = offset
        let info = try readFrame(sizeLimit: limit) { piece in
            guard bytes.count + piece.count <= limit else {
                throw ZstdError(
                    code: .frameTooLarge, operation: "reading the frame at byte offset \(frameStart)",
                    reason: "the frame is larger than the \(limit) bytes allowed", offset: frameStart)
            }
            bytes.append(contentsOf: piece)
        }
        guard let info else { return nil }
        return ZstdFrame(info: info, bytes: bytes)
    }

    /// Reads the next frame, handing its bytes to `sink` piece by piece
    /// instead of collecting them, so frames of any size take no more memory
    /// than the buffer.
    ///
    /// - Parameter sink: Receives the frame's bytes in order, headers
    ///   included; each piece is valid only during the call.
    /// - Returns: Where the frame was, or nil at the end of the input.
    /// - Throws: As ``next()`` (except `frameTooLarge`), or what `sink` throws.
    public func next(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> ZstdFrameInfo? {
        try readFrame(sizeLimit: nil, sink: sink)
    }

    // MARK: - Frame structure

    private func readFrame(
        sizeLimit: Int?, sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> ZstdFrameInfo? {
        let frameStart = offset
        guard try fill(atLeast: 4) else {
            if available == 0 { return nil }
            throw truncated(frameStart, what: "a frame's magic number")
        }
        let magic = peekUInt32(at: 0)
        if let variant = SkippableFrame.variant(ofMagic: magic) {
            guard try fill(atLeast: SkippableFrame.headerSize) else {
                throw truncated(frameStart, what: "the skippable frame's header")
            }
            let payloadSize = UInt64(peekUInt32(at: 4))
            let size = UInt64(SkippableFrame.headerSize) + payloadSize
            if let sizeLimit, size > UInt64(sizeLimit) {
                throw ZstdError(
                    code: .frameTooLarge, operation: "reading the skippable frame at byte offset \(frameStart)",
                    reason: "its header announces \(size) bytes, more than the \(sizeLimit) allowed", offset: frameStart)
            }
            try pass(size, frameStart: frameStart, kind: "skippable", sink: sink)
            return ZstdFrameInfo(
                kind: .skippable(variant: variant), offset: frameStart, size: size, contentSize: payloadSize,
                hasChecksum: false)
        }
        guard magic == UInt32(ZSTD_MAGICNUMBER) else {
            throw ZstdError(
                code: .notAFrame, operation: "reading frames",
                reason: "the bytes at offset \(frameStart) (magic number 0x\(String(magic, radix: 16, uppercase: true))) "
                    + "start neither a zstd frame nor a skippable frame; the file is damaged or not zstd",
                offset: frameStart)
        }
        let header = try readDataFrameHeader(frameStart: frameStart)
        try pass(UInt64(header.headerSize), frameStart: frameStart, kind: "data", sink: sink)

        // Blocks, up to and including the one flagged last.
        var lastBlock = false
        while !lastBlock {
            guard try fill(atLeast: 3) else {
                throw truncated(frameStart, what: "a block header of the data frame")
            }
            // RFC 8878 §3.1.1.2:
            // > The block header (Block_Header) uses 3 bytes, written using
            // > little-endian convention. It contains three fields:
            // > Last_Block (bit 0), Block_Type (bits 1-2), Block_Size (bits 3-23).
            let blockHeader = UInt32(peekByte(at: 0)) | UInt32(peekByte(at: 1)) << 8 | UInt32(peekByte(at: 2)) << 16
            lastBlock = blockHeader & 1 == 1
            let blockType = (blockHeader >> 1) & 3
            let blockSize = blockHeader >> 3
            let blockOffset = offset
            if blockType == 3 {
                throw ZstdError(
                    code: .corruptData, operation: "reading the data frame at byte offset \(frameStart)",
                    reason: "the block at offset \(blockOffset) has the reserved block type 3; the file is damaged",
                    offset: blockOffset)
            }
            // > Block_Size is limited by Block_Maximum_Size [...]
            // > Block_Maximum_Size is the smallest of: Window_Size, 128 KB.
            // (ZSTD_getFrameHeader computes it as blockSizeMax.)
            if blockSize > header.blockSizeMax {
                throw ZstdError(
                    code: .corruptData, operation: "reading the data frame at byte offset \(frameStart)",
                    reason: "the block at offset \(blockOffset) claims \(blockSize) bytes, more than the frame's "
                        + "maximum of \(header.blockSizeMax); the file is damaged",
                    offset: blockOffset)
            }
            // > RLE_Block: This is a single byte, repeated Block_Size times.
            // > Block_Content consists of a single byte.
            let contentSize = blockType == 1 ? 1 : UInt64(blockSize)
            try pass(3 + contentSize, frameStart: frameStart, kind: "data", sink: sink)
        }
        if header.checksumFlag != 0 {
            // > Content_Checksum: An optional 32-bit checksum, only present if
            // > Content_Checksum_Flag is set.
            try pass(4, frameStart: frameStart, kind: "data", sink: sink)
        }
        return ZstdFrameInfo(
            kind: .data, offset: frameStart, size: offset - frameStart,
            // ZSTD_CONTENTSIZE_UNKNOWN is (0ULL - 1).
            contentSize: header.frameContentSize == UInt64.max ? nil : header.frameContentSize,
            hasChecksum: header.checksumFlag != 0)
    }

    /// Decodes the data frame header at the start of the buffer, reading more
    /// as `ZSTD_getFrameHeader` asks for it.
    private func readDataFrameHeader(frameStart: UInt64) throws -> ZSTD_frameHeader {
        var header = ZSTD_frameHeader()
        while true {
            // > ZSTD_getFrameHeader(): decode Frame Header, or requires larger `srcSize`.
            // > @return : 0, `zfhPtr` is correctly filled, >0, `srcSize` is too
            // > small, value is wanted `srcSize` amount, or an error code.
            let result = ZSTD_getFrameHeader(&header, buffer.baseAddress! + start, available)
            if ZSTD_isError(result) != 0 {
                var error = ZstdError(
                    zstdResult: result, operation: "reading the header of the data frame at byte offset \(frameStart)",
                    offset: frameStart)
                error.code = .corruptData
                throw error
            }
            if result == 0 { return header }
            guard result <= buffer.count, try fill(atLeast: result) else {
                throw truncated(frameStart, what: "the data frame's header")
            }
        }
    }

    // MARK: - Buffer

    private var available: Int { end - start }

    private func peekByte(at index: Int) -> UInt8 {
        buffer[start + index]
    }

    private func peekUInt32(at index: Int) -> UInt32 {
        UInt32(peekByte(at: index)) | UInt32(peekByte(at: index + 1)) << 8 | UInt32(peekByte(at: index + 2)) << 16
            | UInt32(peekByte(at: index + 3)) << 24
    }

    /// Makes at least `count` (≤ buffer size) unconsumed bytes available.
    ///
    /// - Returns: false when the input ends first.
    private func fill(atLeast count: Int) throws -> Bool {
        precondition(count <= buffer.count)
        while available < count {
            if atEndOfInput { return false }
            if end == buffer.count || start > 0 {
                // Move the few unconsumed bytes to the front.
                if available > 0 {
                    buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: available)
                }
                end = available
                start = 0
            }
            let read = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if read == 0 { atEndOfInput = true } else { end += read }
        }
        return true
    }

    /// Consumes `count` bytes of the current frame, handing them to `sink`.
    private func pass(
        _ count: UInt64, frameStart: UInt64, kind: String, sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var remaining = count
        while remaining > 0 {
            if available == 0 {
                guard try fill(atLeast: 1) else {
                    throw ZstdError(
                        code: .truncatedInput, operation: "reading the \(kind) frame at byte offset \(frameStart)",
                        reason: "the input ends at offset \(offset), \(remaining) bytes before the frame does "
                            + "(the file is truncated)",
                        offset: offset)
                }
            }
            let take = Int(min(remaining, UInt64(available)))
            try sink(UnsafeRawBufferPointer(start: buffer.baseAddress! + start, count: take))
            start += take
            offset += UInt64(take)
            remaining -= UInt64(take)
        }
    }

    private func truncated(_ frameStart: UInt64, what: String) -> ZstdError {
        ZstdError(
            code: .truncatedInput, operation: "reading the frame at byte offset \(frameStart)",
            reason: "the input ends at offset \(offset + UInt64(available)) inside \(what) (the file is truncated)",
            offset: offset + UInt64(available))
    }
}
