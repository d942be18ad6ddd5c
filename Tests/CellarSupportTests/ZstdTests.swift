import CellarSupport
import Foundation
import Testing

@Suite("zstd compression")
struct ZstdTests {
    // MARK: - Round trips

    @Test("an empty input round-trips, one-shot and streamed")
    func emptyRoundTrip() throws {
        let compressor = try ZstdCompressor()
        let decompressor = try ZstdDecompressor()

        let frame = try compressor.compressFrame([UInt8]())
        #expect(try decompressor.decompressFrame(frame) == [])

        var streamed: [UInt8] = []
        let sizes = try compressor.endFrame { streamed += $0 }
        #expect(sizes == ZstdFrameSizes(uncompressed: 0, compressed: UInt64(streamed.count)))
        #expect(try decompressor.decompressFrame(streamed) == [])
    }

    @Test("a small input round-trips and the frame records its content size")
    func smallRoundTrip() throws {
        let text = Array("COPY public.beer (id, name) FROM stdin;\n1\tPils\n2\tBock\n\\.\n".utf8)
        let compressor = try ZstdCompressor(level: 19)
        let frame = try compressor.compressFrame(text)
        #expect(try ZstdDecompressor().decompressFrame(frame) == text)

        let info = try #require(try ZstdFrameReader(source: MemoryByteSource(frame)).next()?.info)
        #expect(info.kind == .data)
        #expect(info.contentSize == UInt64(text.count))
        #expect(info.hasChecksum)
        #expect(info.size == UInt64(frame.count))
    }

    @Test("10 MB of mixed data round-trips when streamed in uneven pieces both ways")
    func largeStreamedRoundTrip() throws {
        let original = mixedBytes(10_000_000, seed: 1)
        let compressor = try ZstdCompressor()
        var compressed: [UInt8] = []
        for piece in unevenPieces(original, seed: 2) {
            try compressor.compress(piece) { compressed += $0 }
        }
        let sizes = try compressor.endFrame { compressed += $0 }
        #expect(sizes.uncompressed == UInt64(original.count))
        #expect(sizes.compressed == UInt64(compressed.count))
        #expect(compressed.count < original.count)

        let decompressor = try ZstdDecompressor()
        var restored: [UInt8] = []
        restored.reserveCapacity(original.count)
        for piece in unevenPieces(compressed, seed: 3, maximum: 5_000) {
            try decompressor.decompress(piece) { restored += $0 }
        }
        try decompressor.finish()
        #expect(restored.count == original.count)
        #expect(restored == original)

        // The one-shot path agrees.
        #expect(try decompressor.decompressFrame(try compressor.compressFrame(original)) == original)
    }

    @Test("several workers produce an ordinary frame")
    func multithreadedCompression() throws {
        let original = mixedBytes(3_000_000, seed: 4)
        let compressor = try ZstdCompressor(level: 3, workers: 2)
        var compressed: [UInt8] = []
        for piece in unevenPieces(original, seed: 5, maximum: 400_000) {
            try compressor.compress(piece) { compressed += $0 }
        }
        try compressor.endFrame { compressed += $0 }
        #expect(try ZstdDecompressor().decompressFrame(compressed) == original)
        #expect(try ZstdDecompressor().decompressFrame(try compressor.compressFrame(original)) == original)
    }

    @Test("a streamed frame with an announced size records it, and a wrong size is refused")
    func announcedContentSize() throws {
        let content = mixedBytes(300_000, seed: 6)
        let compressor = try ZstdCompressor()
        var frame: [UInt8] = []
        try compressor.beginFrame(contentSize: UInt64(content.count))
        try compressor.compress(content) { frame += $0 }
        try compressor.endFrame { frame += $0 }
        let info = try #require(try ZstdFrameReader(source: MemoryByteSource(frame)).next()?.info)
        #expect(info.contentSize == UInt64(content.count))
        #expect(try ZstdDecompressor().decompressFrame(frame) == content)

        try compressor.beginFrame(contentSize: 10)
        #expect(throws: ZstdError.self) {
            try compressor.compress(content) { _ in }
            try compressor.endFrame { _ in }
        }
        // The compressor recovers for the next frame.
        #expect(try ZstdDecompressor().decompressFrame(try compressor.compressFrame(content)) == content)
    }

    @Test("parameters zstd does not accept are clear errors")
    func invalidParameters() throws {
        let error = try #require(throws: ZstdError.self) { try ZstdCompressor(level: 1000) }
        #expect(error.code == .invalidParameter)
        #expect(error.description.contains("1000"))

        let compressor = try ZstdCompressor()
        try compressor.compress([1, 2, 3] as [UInt8]) { _ in }
        let state = try #require(throws: ZstdError.self) { try compressor.compressFrame([4, 5] as [UInt8]) }
        #expect(state.code == .invalidState)
    }

    // MARK: - Damage

    @Test("a corrupted byte inside a data frame fails the checksum")
    func corruptionFailsChecksum() throws {
        // Noise is stored in raw blocks, so a flipped byte still decodes and
        // only the content checksum can notice.
        let content = randomBytes(200_000, seed: 7)
        var frame = try ZstdCompressor().compressFrame(content)
        frame[frame.count / 2] ^= 0x20

        let oneShot = try #require(throws: ZstdError.self) { try ZstdDecompressor().decompressFrame(frame) }
        #expect(oneShot.code == .checksumMismatch)
        #expect(oneShot.description.contains("checksum"))

        let decompressor = try ZstdDecompressor()
        let streamed = try #require(throws: ZstdError.self) {
            for piece in unevenPieces(frame, seed: 8, maximum: 3_000) {
                try decompressor.decompress(piece) { _ in }
            }
        }
        #expect(streamed.code == .checksumMismatch)
    }

    @Test("a damaged checksum field is detected")
    func damagedChecksumField() throws {
        var frame = try ZstdCompressor().compressFrame(mixedBytes(50_000, seed: 9))
        frame[frame.count - 1] ^= 0xFF
        let error = try #require(throws: ZstdError.self) { try ZstdDecompressor().decompressFrame(frame) }
        #expect(error.code == .checksumMismatch)
    }

    @Test("input that ends inside a frame is reported as truncated")
    func truncationDetected() throws {
        let content = mixedBytes(500_000, seed: 10)
        let frame = try ZstdCompressor().compressFrame(content)
        for cut in [1, 5, 12, frame.count / 3, frame.count - 4, frame.count - 1] {
            let truncated = Array(frame[..<cut])
            let oneShot = try #require(throws: ZstdError.self) { try ZstdDecompressor().decompressFrame(truncated) }
            #expect(oneShot.code == .truncatedInput, "cut at \(cut)")

            let decompressor = try ZstdDecompressor()
            try decompressor.decompress(truncated) { _ in }
            let streamed = try #require(throws: ZstdError.self) { try decompressor.finish() }
            #expect(streamed.code == .truncatedInput, "cut at \(cut)")
            #expect(streamed.description.contains("truncated"))
        }
    }

    @Test("one-shot decompression refuses bytes after the frame")
    func trailingBytes() throws {
        let frame = try ZstdCompressor().compressFrame(Array("abc".utf8))
        let error = try #require(throws: ZstdError.self) { try ZstdDecompressor().decompressFrame(frame + frame) }
        #expect(error.code == .trailingData)
    }

    // MARK: - Skippable frames

    @Test("skippable frames encode as RFC 8878 says and decode back")
    func skippableFrameEncoding() throws {
        let payload = Array("{\"format\":\"pgcellar\"}".utf8)
        let encoded = SkippableFrame.encode(magicVariant: 0x0A, payload: payload)
        #expect(Array(encoded[0..<4]) == [0x5A, 0x2A, 0x4D, 0x18])
        #expect(Array(encoded[4..<8]) == [UInt8(payload.count), 0, 0, 0])
        #expect(Array(encoded[8...]) == payload)
        #expect(try SkippableFrame.decode(encoded) == SkippableFrame(variant: 0x0A, payload: payload))
        #expect(SkippableFrame(variant: 0x0A, payload: payload).encoded == encoded)

        #expect(try ZstdDecompressor().decompressFrame(encoded) == [])

        #expect(throws: ZstdError.self) { try SkippableFrame.decode(encoded.dropLast()) }
        #expect(throws: ZstdError.self) { try SkippableFrame.decode(encoded + [0]) }
        #expect(throws: ZstdError.self) { try SkippableFrame.decode(try ZstdCompressor().compressFrame(payload)) }
    }
}
