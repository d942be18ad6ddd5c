@testable import Cellar
import CellarSupport
import Foundation

/// An archive described frame by frame in clear, for the fuzzer to mutate.
///
/// Random mutations of a real archive mostly break a checksum (the header's
/// SHA-256, zstd's XXH64, the footer's SHA-256) and stop at the first check,
/// never reaching the JSON decoders or the arithmetic on sizes, offsets and
/// chunk numbers behind them. A sealed input holds the JSON and SQL as text;
/// ``build(_:)`` compresses and checksums them into a file whose checks all
/// hold, so what the fuzzer changes is what the readers must survive.
///
/// After the magic `SEAL\n`, segments separated by a 0 byte (JSON and SQL
/// text hold none), each starting with a letter:
///
/// | letter | frame built from the rest of the segment |
/// |---|---|
/// | `H` | header, version 2: the JSON's SHA-256, then the JSON |
/// | `h` | header with this payload as is (version 1: JSON alone) |
/// | `E` | entry group metadata: the JSON array, compressed |
/// | `e` | entry metadata with this payload as is (version 1: one JSON object) |
/// | `T` | table of contents: the JSON object, compressed |
/// | `Z` | a zstd frame (level 3, checksummed) of this SQL |
/// | `R` | these bytes as they are |
///
/// The footer follows, pointing at the last `T` frame, with the SHA-256 of
/// everything before it.
enum SealedArchive {
    static let magic = Array("SEAL\n".utf8)

    struct Invalid: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// The archive file a sealed description (after the magic) stands for.
    static func build(_ description: [UInt8]) throws -> [UInt8] {
        var file: [UInt8] = []
        var tableOfContents: (offset: UInt64, length: UInt64) = (0, 0)
        let compressor = try ZstdCompressor(level: 3, workers: 0, checksum: true)
        for segment in description.split(separator: 0, omittingEmptySubsequences: true) {
            let body = Array(segment.dropFirst())
            switch segment.first {
            case UInt8(ascii: "H"): file += ArchiveFormat.skippableFrame(.header, try SHA256.hash(body) + body)
            case UInt8(ascii: "h"): file += ArchiveFormat.skippableFrame(.header, body)
            case UInt8(ascii: "E"): file += ArchiveFormat.skippableFrame(.entry, try compressor.compressFrame(body))
            case UInt8(ascii: "e"): file += ArchiveFormat.skippableFrame(.entry, body)
            case UInt8(ascii: "T"):
                let frame = ArchiveFormat.skippableFrame(.tableOfContents, try compressor.compressFrame(body))
                tableOfContents = (UInt64(file.count), UInt64(frame.count))
                file += frame
            case UInt8(ascii: "Z"): file += try compressor.compressFrame(body)
            case UInt8(ascii: "R"): file += body
            default: throw Invalid(reason: "unknown segment")
            }
        }
        let footer = ArchiveFooter(formatVersion: UInt32(ArchiveFormat.version), tableOfContentsOffset: tableOfContents.offset,
                                   tableOfContentsLength: tableOfContents.length, contentSHA256: try SHA256.hash(file))
        return file + (try footer.encoded())
    }

    /// The sealed description of a real archive (version 2), magic included.
    static func unseal(_ archive: [UInt8]) throws -> [UInt8] {
        var sealed = magic
        func add(_ letter: Character, _ bytes: some Collection<UInt8>) throws {
            guard !bytes.contains(0) else { throw Invalid(reason: "a \(letter) segment holds a 0 byte") }
            if sealed.count > magic.count { sealed.append(0) }
            sealed.append(UInt8(ascii: letter.unicodeScalars.first!))
            sealed += bytes
        }
        let reader = ZstdFrameReader(source: MemoryByteSource(archive), maximumFrameSize: archive.count)
        let decompressor = try ZstdDecompressor()
        while let frame = try reader.next() {
            guard let payload = frame.skippablePayload else {
                try add("Z", try decompressor.decompressFrame(frame.bytes))
                continue
            }
            let body = payload.dropFirst(8)
            switch ArchiveFormat.Tag(bytes: payload.prefix(8)) {
            case .header?: try add("H", body.dropFirst(32))
            case .entry?: try add("E", try decompressor.decompressFrame(Array(body)))
            case .tableOfContents?: try add("T", try decompressor.decompressFrame(Array(body)))
            case .footer?: break
            case nil: throw Invalid(reason: "a skippable frame at \(frame.offset) is not pgcellar's")
            }
        }
        return sealed
    }
}
