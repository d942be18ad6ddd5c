import CellarSupport
import Foundation
import Testing

/// An export-shaped stream: skippable header, data frames, skippable frames
/// between them, an empty frame, a skippable trailer — and what each frame is.
private struct SampleStream {
    var bytes: [UInt8] = []
    var frames: [ZstdFrameInfo] = []
    var content: [UInt8] = []

    init() throws {
        let compressor = try ZstdCompressor()
        appendSkippable(variant: 0, payload: Array("{\"format\":\"pgcellar-export\",\"version\":1}".utf8))

        // A streamed frame of mixed data, several blocks long.
        let first = mixedBytes(1_500_000, seed: 20)
        let start = UInt64(bytes.count)
        for piece in unevenPieces(first, seed: 21) {
            try compressor.compress(piece) { bytes += $0 }
        }
        let sizes = try compressor.endFrame { bytes += $0 }
        frames.append(
            ZstdFrameInfo(kind: .data, offset: start, size: sizes.compressed, contentSize: nil, hasChecksum: true))
        content += first

        appendSkippable(variant: 3, payload: [])

        // A one-shot frame of noise: raw blocks.
        try appendData(compressor, randomBytes(300_000, seed: 22))
        appendSkippable(variant: 15, payload: randomBytes(70_000, seed: 23))
        // Text, then an empty frame.
        try appendData(compressor, Array("1\tPils\n2\tBock\n\\.\n".utf8))
        try appendData(compressor, [])
        // Runs of one byte: RLE blocks.
        try appendData(compressor, [UInt8](repeating: 0x41, count: 400_000))
        appendSkippable(variant: 1, payload: Array(repeating: 7, count: 40))
    }

    private mutating func appendSkippable(variant: UInt8, payload: [UInt8]) {
        let frame = SkippableFrame.encode(magicVariant: variant, payload: payload)
        frames.append(
            ZstdFrameInfo(
                kind: .skippable(variant: variant), offset: UInt64(bytes.count), size: UInt64(frame.count),
                contentSize: UInt64(payload.count), hasChecksum: false))
        bytes += frame
    }

    private mutating func appendData(_ compressor: ZstdCompressor, _ data: [UInt8]) throws {
        let frame = try compressor.compressFrame(data)
        frames.append(
            ZstdFrameInfo(
                kind: .data, offset: UInt64(bytes.count), size: UInt64(frame.count), contentSize: UInt64(data.count),
                hasChecksum: true))
        bytes += frame
        content += data
    }

    /// Writes the stream to `directory`/sample.zst and returns the path.
    func write(in directory: String) throws -> String {
        let path = directory + "/sample.sql.zst"
        try AtomicFile.write(bytes, to: path)
        return path
    }
}

@Suite("zstd frames")
struct ZstdFrameReaderTests {
    @Test("stock zstd decompresses the concatenated frames to exactly their contents and skips the rest")
    func stockZstdDecompresses() throws {
        let sample = try SampleStream()
        try withTemporaryDirectory { directory in
            let path = try sample.write(in: directory)
            let decompressed = try runProcess(zstdTool, ["-dc", path])
            #expect(decompressed.status == 0, "\(decompressed.standardError)")
            #expect(decompressed.standardOutput.count == sample.content.count)
            #expect(decompressed.standardOutput == sample.content)

            let tested = try runProcess(zstdTool, ["-t", path])
            #expect(tested.status == 0, "\(tested.standardError)")
        }
    }

    @Test("stock zstd rejects the file after a flipped byte in a data frame")
    func stockZstdSeesCorruption() throws {
        var sample = try SampleStream()
        let frame = sample.frames[3]  // the noise frame
        sample.bytes[Int(frame.offset + frame.size / 2)] ^= 1
        try withTemporaryDirectory { directory in
            let tested = try runProcess(zstdTool, ["-t", try sample.write(in: directory)])
            #expect(tested.status != 0)
        }
    }

    @Test("our decompressor streams the same file to the same content")
    func decompressorReadsStream() throws {
        let sample = try SampleStream()
        let decompressor = try ZstdDecompressor()
        var restored: [UInt8] = []
        for piece in unevenPieces(sample.bytes, seed: 24, maximum: 9_000) {
            try decompressor.decompress(piece) { restored += $0 }
        }
        try decompressor.finish()
        #expect(restored == sample.content)
    }

    @Test("the reader finds every frame from a file descriptor with a tiny buffer", arguments: [1, 33, 4096])
    func readerFindsFrames(bufferSize: Int) throws {
        let sample = try SampleStream()
        try withTemporaryDirectory { directory in
            let input = try FileDescriptorInput(path: try sample.write(in: directory))
            let reader = ZstdFrameReader(source: input, bufferSize: bufferSize)
            var found: [ZstdFrameInfo] = []
            var reassembled: [UInt8] = []
            var content: [UInt8] = []
            let decompressor = try ZstdDecompressor()
            while let frame = try reader.next() {
                found.append(frame.info)
                #expect(frame.size == Int(frame.info.size))
                #expect(Array(sample.bytes[Int(frame.offset)..<Int(frame.offset) + frame.size]) == frame.bytes)
                reassembled += frame.bytes
                switch frame.kind {
                case .data:
                    content += try decompressor.decompressFrame(frame.bytes)
                case .skippable(let variant):
                    let decoded = try SkippableFrame.decode(frame.bytes)
                    #expect(decoded.variant == variant)
                    #expect(Array(frame.skippablePayload ?? []) == decoded.payload)
                }
            }
            #expect(found == sample.frames)
            #expect(reassembled == sample.bytes)
            #expect(content == sample.content)
            #expect(reader.offset == UInt64(sample.bytes.count))
            #expect(try reader.next() == nil)
        }
    }

    @Test("the reader works on a pipe, which cannot seek and returns short reads")
    func readerOnPipe() throws {
        let sample = try SampleStream()
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let writeEnd = descriptors[1]
        let bytes = sample.bytes
        // The writer trickles the stream in uneven pieces on a thread of its own.
        let writer = Thread {
            let output = FileDescriptorOutput(fileDescriptor: writeEnd, name: "pipe", closeWhenDone: true)
            for piece in unevenPieces(bytes, seed: 27, maximum: 3_000) {
                try? output.write(piece)
            }
            try? output.close()
        }
        writer.start()
        let input = FileDescriptorInput(fileDescriptor: descriptors[0], name: "pipe", closeWhenDone: true)
        #expect(throws: FileError.self) { try input.read(at: 0, count: 1) }
        let reader = ZstdFrameReader(source: input, bufferSize: 4096)
        var found: [ZstdFrameInfo] = []
        let hasher = try SHA256()
        while let info = try reader.next(into: { hasher.update($0) }) {
            found.append(info)
        }
        #expect(found == sample.frames)
        #expect(hasher.finalize() == (try SHA256.hash(sample.bytes)))
    }

    @Test("the streaming reader hands over each frame in pieces")
    func streamingReader() throws {
        let sample = try SampleStream()
        let reader = ZstdFrameReader(source: MemoryByteSource(sample.bytes), bufferSize: 100)
        var found: [ZstdFrameInfo] = []
        var largestPiece = 0
        var reassembled: [UInt8] = []
        while let info = try reader.next(into: { piece in
            largestPiece = max(largestPiece, piece.count)
            reassembled += piece
        }) {
            found.append(info)
        }
        #expect(found == sample.frames)
        #expect(reassembled == sample.bytes)
        #expect(largestPiece <= 100)
    }

    @Test("frames made by the zstd tool are delimited too")
    func framesFromZstdTool() throws {
        try withTemporaryDirectory { directory in
            let plain = directory + "/plain"
            let content = mixedBytes(2_000_000, seed: 25)
            try AtomicFile.write(content, to: plain)
            var expected: [UInt8] = []
            var stream: [UInt8] = []
            for (index, options) in [["-3"], ["-1", "--no-check"], ["-19", "--long=24"], ["--fast=5"]].enumerated() {
                let compressed = try runProcess(zstdTool, options + ["-c", plain])
                #expect(compressed.status == 0, "\(compressed.standardError)")
                stream += compressed.standardOutput
                stream += SkippableFrame.encode(magicVariant: UInt8(index), payload: [UInt8(index)])
                expected += content
            }
            let reader = ZstdFrameReader(source: MemoryByteSource(stream), bufferSize: 1000)
            var kinds: [ZstdFrameKind] = []
            var total: UInt64 = 0
            var restored: [UInt8] = []
            while let frame = try reader.next() {
                kinds.append(frame.kind)
                #expect(frame.offset == total)
                total += UInt64(frame.size)
                if frame.kind == .data {
                    restored += try ZstdDecompressor().decompressFrame(frame.bytes)
                }
            }
            #expect(kinds == [.data, .skippable(variant: 0), .data, .skippable(variant: 1),
                              .data, .skippable(variant: 2), .data, .skippable(variant: 3)])
            #expect(total == UInt64(stream.count))
            #expect(restored == expected)
        }
    }

    @Test("input that ends inside any frame is an error naming the offset")
    func truncatedStream() throws {
        let sample = try SampleStream()
        var cuts: [Int] = []
        for frame in sample.frames where frame.size > 12 {
            let start = Int(frame.offset)
            cuts += [start + 2, start + 6, start + 11, start + Int(frame.size) / 2, start + Int(frame.size) - 1]
        }
        for cut in cuts {
            let reader = ZstdFrameReader(source: MemoryByteSource(Array(sample.bytes[..<cut])), bufferSize: 64)
            let error = try #require(throws: ZstdError.self) {
                while try reader.next() != nil {}
            }
            #expect(error.code == .truncatedInput, "cut at \(cut): \(error)")
            #expect(error.description.contains("offset"))
            #expect(error.description.contains("truncated"))
        }
    }

    @Test("bytes that start no frame are reported with their offset")
    func garbage() throws {
        let frame = try ZstdCompressor().compressFrame(Array("x".utf8))
        let reader = ZstdFrameReader(source: MemoryByteSource(frame + Array("not zstd".utf8)))
        _ = try reader.next()
        let error = try #require(throws: ZstdError.self) { try reader.next() }
        #expect(error.code == .notAFrame)
        #expect(error.offset == UInt64(frame.count))
        #expect(error.description.contains("offset \(frame.count)"))
    }

    @Test("a frame larger than allowed is refused before it is read whole")
    func frameTooLarge() throws {
        let bytes = SkippableFrame.encode(magicVariant: 0, payload: [UInt8](repeating: 1, count: 5_000))
        let reader = ZstdFrameReader(source: MemoryByteSource(bytes), maximumFrameSize: 4_096)
        let error = try #require(throws: ZstdError.self) { try reader.next() }
        #expect(error.code == .frameTooLarge)

        let data = try ZstdCompressor().compressFrame(randomBytes(10_000, seed: 26))
        let dataReader = ZstdFrameReader(source: MemoryByteSource(data), maximumFrameSize: 4_096)
        #expect(throws: ZstdError.self) { try dataReader.next() }
    }

    @Test("an empty input has no frames")
    func emptyInput() throws {
        #expect(try ZstdFrameReader(source: MemoryByteSource([])).next() == nil)
    }
}
