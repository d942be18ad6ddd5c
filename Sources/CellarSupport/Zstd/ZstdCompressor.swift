internal import CZstd
import Foundation

/// The sizes of one finished zstd frame.
public struct ZstdFrameSizes: Sendable, Hashable {
    /// Bytes of content that went into the frame.
    public var uncompressed: UInt64
    /// Bytes of the frame itself, headers and checksum included.
    public var compressed: UInt64

    public init(uncompressed: UInt64, compressed: UInt64) {
        self.uncompressed = uncompressed
        self.compressed = compressed
    }
}

/// Compresses into zstd frames (RFC 8878), each ending in a content checksum
/// by default, reusing one compression context for every frame.
///
/// Stream a frame with ``compress(_:into:)-(UnsafeRawBufferPointer,_)`` as
/// often as needed, then ``endFrame(into:)``; or produce one whole frame with
/// ``compressFrame(_:)-(UnsafeRawBufferPointer)``, whose header records the
/// content size. Frames are independent of each other: concatenated, they
/// form a stream that `zstd -d` decompresses to the concatenated contents.
///
/// Compressed bytes are handed to a `sink` closure in pieces of up to
/// `ZSTD_CStreamOutSize()` (about 128 KiB) from a buffer the compressor owns;
/// the sink must copy or write them before returning.
///
/// - Important: Not `Sendable`: use one compressor per thread.
public final class ZstdCompressor {
    /// The compression level the frames are made with.
    public let level: Int32
    /// The number of zstd worker threads (0: compress on the calling thread).
    public let workers: Int

    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    /// Content bytes in the streamed frame so far; nil when no frame is open.
    private var openFrame: ZstdFrameSizes?

    /// Creates a compressor.
    ///
    /// - Parameters:
    ///   - level: zstd compression level, from ``minimumLevel`` (fastest,
    ///     negative) to ``maximumLevel``; zstd's default is 3.
    ///   - workers: Threads zstd starts to compress a frame in parallel; 0
    ///     compresses on the calling thread. Frames of a few MiB gain little.
    ///   - checksum: Whether each frame ends with a checksum of its content,
    ///     which decoders verify.
    ///   - windowLog: The largest back-reference distance, as a power of two;
    ///     nil for the level's own (2 MiB at level 3). A streamed frame's
    ///     context holds about that much, so a long-lived one that compresses
    ///     little at a time (the archive's table of contents) takes a small one.
    /// - Throws: ``ZstdError`` with code `invalidParameter` when zstd refuses
    ///   the level, the worker count or the window.
    public init(level: Int32 = 3, workers: Int = 0, checksum: Bool = true, windowLog: Int32? = nil) throws {
        guard (Self.minimumLevel...Self.maximumLevel).contains(level) else {
            throw ZstdError(
                code: .invalidParameter, operation: "setting the compression level",
                reason: "level \(level) is outside zstd's range \(Self.minimumLevel)...\(Self.maximumLevel)")
        }
        guard workers >= 0, workers <= Int(Int32.max) else {
            throw ZstdError(
                code: .invalidParameter, operation: "setting the number of compression workers",
                reason: "\(workers) is not a worker count")
        }
        guard let context = ZSTD_createCCtx() else {
            throw ZstdError(code: .outOfMemory, operation: "creating a compression context", reason: "out of memory")
        }
        self.context = context
        self.level = level
        self.workers = workers
        self.output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)

        // Parameters are "sticky": they stay for every frame this context makes.
        _ = try ZstdError.check(
            ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "setting compression level \(level)")
        // > ZSTD_c_checksumFlag: A 32-bits checksum of content is written at end of frame (default:0)
        _ = try ZstdError.check(
            ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0), "enabling content checksums")
        if let windowLog {
            _ = try ZstdError.check(
                ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog), "setting the window to 2^\(windowLog) bytes")
        }
        if workers > 0 {
            // > These parameters are only active if multi-threading is enabled
            // > (compiled with build macro ZSTD_MULTITHREAD). Otherwise, trying to
            // > set any other value than default (0) will be a no-op and return an error.
            do {
                _ = try ZstdError.check(
                    ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(workers)),
                    "starting \(workers) compression workers")
            } catch var error as ZstdError {
                error.reason += " (this libzstd may be built without multithreading; use 0 workers)"
                throw error
            }
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    /// The fastest (negative) level zstd accepts.
    public static var minimumLevel: Int32 { ZSTD_minCLevel() }
    /// The strongest level zstd accepts.
    public static var maximumLevel: Int32 { ZSTD_maxCLevel() }

    // MARK: - Streaming

    /// Whether a streamed frame has been started and not yet ended.
    public var isFrameOpen: Bool { openFrame != nil }

    /// Starts a streamed frame whose content size is known in advance, so that
    /// the frame header records it.
    ///
    /// Optional: ``compress(_:into:)-(UnsafeRawBufferPointer,_)`` starts a
    /// frame of unrecorded size by itself.
    ///
    /// - Throws: ``ZstdError`` (`invalidState`) when a frame is already open;
    ///   at ``endFrame(into:)``, zstd fails if the content was not exactly
    ///   `contentSize` bytes.
    public func beginFrame(contentSize: UInt64) throws {
        guard openFrame == nil else {
            throw ZstdError(
                code: .invalidState, operation: "starting a frame",
                reason: "the previous frame is still open; call endFrame(into:) first")
        }
        // > ZSTD_CCtx_setPledgedSrcSize(): Total input data size to be compressed
        // > as a single frame. Value will be written in frame header [...]
        // > This value will also be controlled at end of frame, and trigger an
        // > error if not respected.
        _ = try ZstdError.check(
            ZSTD_CCtx_setPledgedSrcSize(context, contentSize), "announcing a frame of \(contentSize) bytes")
        openFrame = ZstdFrameSizes(uncompressed: 0, compressed: 0)
    }

    /// Compresses `input` as the next part of the current frame, starting a
    /// frame if none is open.
    ///
    /// - Parameters:
    ///   - input: Content bytes.
    ///   - sink: Receives compressed bytes, possibly none and possibly several
    ///     times; the buffer is only valid during the call.
    /// - Throws: ``ZstdError``, or what `sink` throws. After an error the
    ///   current frame is abandoned and the next call starts a new one.
    public func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !input.isEmpty else { return }
        var sizes = openFrame ?? ZstdFrameSizes(uncompressed: 0, compressed: 0)
        openFrame = sizes
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        do {
            repeat {
                let produced = try step(&inBuffer, ZSTD_e_continue, "compressing")
                sizes.compressed += UInt64(produced.count)
                if !produced.isEmpty { try sink(produced) }
            } while inBuffer.pos < inBuffer.size
        } catch {
            abandonFrame()
            throw error
        }
        sizes.uncompressed += UInt64(input.count)
        openFrame = sizes
    }

    /// Compresses `bytes` (`[UInt8]`, `Data`, ...) as the next part of the
    /// current frame. See ``compress(_:into:)-(UnsafeRawBufferPointer,_)``.
    public func compress(_ bytes: some ContiguousBytes, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try compress($0, into: sink) }
    }

    /// Finishes the current frame: flushes what zstd holds, then writes the
    /// last block and the checksum. With no frame open, writes a complete
    /// empty frame.
    ///
    /// - Parameter sink: Receives the rest of the frame's bytes.
    /// - Returns: The frame's content and compressed sizes.
    /// - Throws: ``ZstdError``, or what `sink` throws; the frame is then
    ///   abandoned.
    @discardableResult
    public func endFrame(into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> ZstdFrameSizes {
        var sizes = openFrame ?? ZstdFrameSizes(uncompressed: 0, compressed: 0)
        var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        do {
            // > For ZSTD_e_end, @return == 0 when internal buffers are fully
            // > flushed and frame is completed.
            var remaining = 0
            repeat {
                let produced = try step(&inBuffer, ZSTD_e_end, "finishing a frame", remaining: &remaining)
                sizes.compressed += UInt64(produced.count)
                if !produced.isEmpty { try sink(produced) }
            } while remaining != 0
        } catch {
            abandonFrame()
            throw error
        }
        openFrame = nil
        return sizes
    }

    // MARK: - One-shot

    /// Compresses `input` into one complete frame whose header records the
    /// content size.
    ///
    /// - Throws: ``ZstdError``; `invalidState` when a streamed frame is open.
    public func compressFrame(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard openFrame == nil else {
            throw ZstdError(
                code: .invalidState, operation: "compressing a whole frame",
                reason: "a streamed frame is still open; call endFrame(into:) first")
        }
        // > ZSTD_CCtx_reset(): The session : will stop compressing current
        // > frame, and make CCtx ready to start a new one.
        _ = try ZstdError.check(ZSTD_CCtx_reset(context, ZSTD_reset_session_only), "resetting the compression context")
        _ = try ZstdError.check(
            ZSTD_CCtx_setPledgedSrcSize(context, UInt64(input.count)), "announcing a frame of \(input.count) bytes")
        // > ZSTD_compressBound(): maximum compressed size in worst case single-pass scenario.
        let capacity = ZSTD_compressBound(input.count)
        do {
            return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: capacity, pos: 0)
                var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
                // > Exception : if the first call requests a ZSTD_e_end directive
                // > and provides enough dstCapacity, the function delegates to
                // > ZSTD_compress2() which is always blocking.
                var remaining: Int
                repeat {
                    remaining = try ZstdError.check(
                        ZSTD_compressStream2(context, &outBuffer, &inBuffer, ZSTD_e_end),
                        "compressing a frame of \(input.count) bytes")
                } while remaining != 0 && outBuffer.pos < outBuffer.size
                guard remaining == 0 else {
                    throw ZstdError(
                        code: .other, operation: "compressing a frame of \(input.count) bytes",
                        reason: "the output exceeded ZSTD_compressBound")
                }
                count = outBuffer.pos
            }
        } catch {
            abandonFrame()
            throw error
        }
    }

    /// Compresses `bytes` (`[UInt8]`, `Data`, ...) into one complete frame
    /// whose header records the content size.
    public func compressFrame(_ bytes: some ContiguousBytes) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try compressFrame($0) }
    }

    // MARK: - Private

    private func step(
        _ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective, _ operation: @autoclosure () -> String
    ) throws -> UnsafeRawBufferPointer {
        var ignored = 0
        return try step(&input, directive, operation(), remaining: &ignored)
    }

    /// One `ZSTD_compressStream2` call into the owned output buffer.
    private func step(
        _ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective, _ operation: @autoclosure () -> String,
        remaining: inout Int
    ) throws -> UnsafeRawBufferPointer {
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        // > ZSTD_compressStream2(): @return provides a minimum amount of data
        // > remaining to be flushed from internal buffers or an error code.
        remaining = try ZstdError.check(ZSTD_compressStream2(context, &outBuffer, &input, directive), operation())
        return UnsafeRawBufferPointer(start: output.baseAddress, count: outBuffer.pos)
    }

    private func abandonFrame() {
        openFrame = nil
        // > Useful after an error, or to interrupt any ongoing compression.
        _ = ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
    }
}
