internal import CZstd
import Foundation

/// Decompresses zstd frames (RFC 8878), verifying each frame's content
/// checksum, reusing one decompression context.
///
/// Feed a stream of frames, in pieces of any size, to
/// ``decompress(_:into:)-(UnsafeRawBufferPointer,_)``, then call
/// ``finish()``, which reports input that ended inside a frame. Skippable
/// frames produce no output, as with `zstd -d`. For one whole frame in
/// memory, ``decompressFrame(_:)-(UnsafeRawBufferPointer)`` does all of it.
///
/// Decompressed bytes are handed to a `sink` closure in pieces of up to
/// `ZSTD_DStreamOutSize()` (128 KiB) from a buffer the decompressor owns; the
/// sink must copy or write them before returning.
///
/// - Important: Not `Sendable`: use one decompressor per thread.
public final class ZstdDecompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    /// Whether the last `ZSTD_decompressStream` call left a frame unfinished.
    private var insideFrame = false
    /// Compressed bytes consumed since the last reset, for error messages.
    private var consumed: UInt64 = 0

    /// Creates a decompressor.
    ///
    /// - Throws: ``ZstdError`` when zstd cannot allocate its context.
    public init() throws {
        guard let context = ZSTD_createDCtx() else {
            throw ZstdError(code: .outOfMemory, operation: "creating a decompression context", reason: "out of memory")
        }
        self.context = context
        self.output = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(context)
        output.deallocate()
    }

    // MARK: - Streaming

    /// Decompresses the next piece of a stream of frames.
    ///
    /// - Parameters:
    ///   - input: Compressed bytes; a piece may end anywhere, even inside a
    ///     frame header.
    ///   - sink: Receives decompressed bytes, possibly several times.
    /// - Throws: ``ZstdError`` (`checksumMismatch`, `corruptData`, ...) or
    ///   what `sink` throws. The decompressor is then reset.
    public func decompress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !input.isEmpty else { return }
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        do {
            try run(&inBuffer, sink: sink, stopAtFrameEnd: false)
        } catch {
            reset()
            throw error
        }
        consumed += UInt64(inBuffer.pos)
    }

    /// Decompresses the next piece (`[UInt8]`, `Data`, ...) of a stream of
    /// frames. See ``decompress(_:into:)-(UnsafeRawBufferPointer,_)``.
    public func decompress(_ bytes: some ContiguousBytes, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try decompress($0, into: sink) }
    }

    /// Declares the end of the input, and resets for a new stream.
    ///
    /// - Throws: ``ZstdError`` with code `truncatedInput` when the input
    ///   ended inside a frame.
    public func finish() throws {
        defer { reset() }
        if insideFrame {
            throw ZstdError(
                code: .truncatedInput, operation: "decompressing",
                reason: "the input ends inside a frame after \(consumed) compressed bytes (the file is truncated)",
                offset: consumed)
        }
    }

    /// Forgets any partly decompressed frame; the next input must start a frame.
    public func reset() {
        // > ZSTD_DCtx_reset(): Return a DCtx to clean state.
        // > Session and parameters can be reset jointly or separately.
        _ = ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        insideFrame = false
        consumed = 0
    }

    // MARK: - One-shot

    /// Decompresses exactly one frame held in memory.
    ///
    /// - Parameter frame: One complete zstd frame (a skippable frame gives
    ///   an empty result).
    /// - Returns: The frame's content.
    /// - Throws: ``ZstdError``: `truncatedInput` when the frame is
    ///   incomplete, `trailingData` when bytes follow it, `checksumMismatch`
    ///   or `corruptData` when it is damaged.
    public func decompressFrame(_ frame: UnsafeRawBufferPointer, limit: Int = .max) throws -> [UInt8] {
        reset()
        defer { reset() }
        var result: [UInt8] = []
        // > ZSTD_getFrameContentSize(): @return - decompressed size of `src`
        // > frame content, if known - ZSTD_CONTENTSIZE_UNKNOWN [...]
        // > note 5 : If source is untrusted, decompressed size could be wrong
        // > or intentionally modified.
        // So it only sizes the first allocation, within reason.
        if let base = frame.baseAddress {
            let declared = ZSTD_getFrameContentSize(base, frame.count)
            if declared < (1 << 26) { result.reserveCapacity(min(Int(declared), limit)) }
        }
        var inBuffer = ZSTD_inBuffer(src: frame.baseAddress, size: frame.count, pos: 0)
        try run(&inBuffer, sink: { piece in
            guard result.count + piece.count <= limit else {
                throw ZstdError(
                    code: .frameTooLarge, operation: "decompressing a frame of \(frame.count) bytes",
                    reason: "the frame decompresses to more than \(limit) bytes", offset: 0)
            }
            result.append(contentsOf: piece)
        }, stopAtFrameEnd: true)
        if insideFrame || frame.isEmpty {
            throw ZstdError(
                code: .truncatedInput, operation: "decompressing a frame of \(frame.count) bytes",
                reason: "the frame is incomplete", offset: UInt64(frame.count))
        }
        if inBuffer.pos < inBuffer.size {
            throw ZstdError(
                code: .trailingData, operation: "decompressing a frame of \(frame.count) bytes",
                reason: "the frame ends after \(inBuffer.pos) bytes, and \(inBuffer.size - inBuffer.pos) more follow",
                offset: UInt64(inBuffer.pos))
        }
        return result
    }

    /// Decompresses exactly one frame (`[UInt8]`, `ArraySlice<UInt8>`,
    /// `Data`, ...). See ``decompressFrame(_:)-(UnsafeRawBufferPointer)``.
    public func decompressFrame(_ frame: some ContiguousBytes, limit: Int = .max) throws -> [UInt8] {
        try frame.withUnsafeBytes { try decompressFrame($0, limit: limit) }
    }

    // MARK: - Private

    /// Calls `ZSTD_decompressStream` until `input` is consumed and all output
    /// flushed (or, with `stopAtFrameEnd`, until the first frame ends).
    private func run(
        _ input: inout ZSTD_inBuffer, sink: (UnsafeRawBufferPointer) throws -> Void, stopAtFrameEnd: Bool
    ) throws {
        while true {
            var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            // > @return : 0 when a frame is completely decoded and fully flushed,
            // > or an error code, which can be tested using ZSTD_isError(),
            // > or any other value > 0, which means there is some decoding or
            // > flushing to do to complete current frame.
            let hint = ZSTD_decompressStream(context, &outBuffer, &input)
            if ZSTD_isError(hint) != 0 {
                let position = consumed + UInt64(input.pos)
                throw ZstdError(
                    zstdResult: hint, operation: "decompressing (after \(position) compressed bytes)", offset: position)
            }
            if outBuffer.pos > 0 {
                try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuffer.pos))
            }
            insideFrame = hint != 0
            if hint == 0 {
                // Calling again with no input left would start reading the
                // next frame's header and wrongly leave us "inside a frame".
                if stopAtFrameEnd || input.pos == input.size { return }
                continue
            }
            // > If `output.pos < output.size`, decoder has flushed everything it could.
            if input.pos == input.size && outBuffer.pos < outBuffer.size { return }
        }
    }
}
