@testable import Cellar
import CellarSupport
import Foundation

// MARK: - Entry point

/// libFuzzer's entry point: one input, read every way pgcellar reads an archive.
///
/// An input is one of three things, told apart by its first bytes:
/// - `SEAL\n` then segments: an archive described frame by frame in clear
///   (JSON and SQL as text), which ``SealedArchive`` turns into a file whose
///   checksums all hold, so that mutations reach the JSON decoders, sizes,
///   offsets and chunk numbers instead of stopping at a SHA-256;
/// - `{`: a header's JSON, decoded as a version 1 and a version 2 header;
/// - anything else: the bytes of an archive file, as they are.
///
/// Archive bytes go to the seekable reader (``ArchiveReader`` over memory:
/// every entry read, its COPY rows split, a restore plan made) and to the
/// sequential reader (``ArchiveVerifier``, deep). Errors are expected and
/// ignored; a trap, an out-of-bounds access or an oversized allocation is a
/// finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if input.starts(with: SealedArchive.magic) {
        guard let archive = try? SealedArchive.build(Array(input.dropFirst(SealedArchive.magic.count))) else { return 0 }
        readArchive(archive)
    } else if input.first == UInt8(ascii: "{") {
        decodeHeader(json: input)
    } else {
        readArchive(input)
    }
    return 0
}

/// The program's entry point. SwiftPM links an executable target with
/// `main` renamed to `<module>_main`, which displaces libFuzzer's own `main`;
/// this one hands over to libFuzzer's driver, which parses the flags
/// (`-runs=`, corpus directories, ...) and calls ``fuzzOneInput(_:_:)``.
@_cdecl("ArchiveFuzzer_main")
public func archiveFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

/// libFuzzer's driver (compiler-rt `FuzzerInterface.h`):
/// > int LLVMFuzzerRunDriver(int *argc, char ***argv,
/// >                         int (*UserCb)(const uint8_t *Data, size_t Size));
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Converts archives to sealed seeds when `PGCELLAR_FUZZ_SEAL` names
/// `input.sql.zst=output.seal` pairs (comma-separated), then exits: how
/// scripts/fuzz.sh turns real exports into the corpus.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let pairs = ProcessInfo.processInfo.environment["PGCELLAR_FUZZ_SEAL"] else { return 0 }
    var status: Int32 = 0
    for pair in pairs.split(separator: ",") {
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        do {
            guard parts.count == 2 else { throw SealedArchive.Invalid(reason: "expected input=output, not \(pair)") }
            let archive = try Array(Data(contentsOf: URL(fileURLWithPath: parts[0])))
            let sealed = try SealedArchive.unseal(archive)
            // The seed must rebuild an archive that verifies, or it teaches the fuzzer nothing.
            _ = try ArchiveVerifier.verify(MemoryByteSource(try SealedArchive.build(Array(sealed.dropFirst(SealedArchive.magic.count)))))
            try Data(sealed).write(to: URL(fileURLWithPath: parts[1]))
            print("sealed \(parts[0]) -> \(parts[1]) (\(sealed.count) bytes)")
        } catch {
            print("cannot seal \(pair): \(error)")
            status = 1
        }
    }
    exit(status)
}

// MARK: - Readers

/// What restore and verify do with an archive, minus the server.
func readArchive(_ bytes: [UInt8]) {
    if let reader = try? ArchiveReader(source: MemoryRandomAccessSource(bytes)) {
        _ = try? reader.verifyContentDigest()
        for entry in reader.entries.prefix(256) {
            _ = entry.displayName
            if entry.data != nil {
                try? reader.readCopyRows(entry) { _ in }
            } else {
                _ = try? reader.sql(entry)
            }
            _ = reader.entry(id: entry.id)
        }
        _ = ArchiveListing.text(header: reader.header, entries: reader.entries, fileSize: reader.fileSize)
        let selected = reader.entries.filter { $0.section != .preData }
        _ = RestorePlan.schedule(selected, allEntries: reader.entries, analyze: true, wholeTablesFor: 2)
    }
    _ = try? ArchiveVerifier.verify(MemoryByteSource(bytes), deep: true)
}

/// The header decoder, with the JSON as a version 1 header (no checksum)
/// and as a version 2 one (its SHA-256 first).
func decodeHeader(json: [UInt8]) {
    _ = try? ArchiveFrames.decodeHeader(json)
    if let digest = try? SHA256.hash(json) {
        _ = try? ArchiveFrames.decodeHeader(digest + json)
    }
}

// MARK: - Sources

/// An archive in memory, read as restore reads a file.
final class MemoryRandomAccessSource: RandomAccessSource, @unchecked Sendable {
    // @unchecked Sendable: immutable.
    let bytes: [UInt8]
    let name = "fuzz input"

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func size() throws -> UInt64 { UInt64(bytes.count) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count >= 0, offset <= UInt64(bytes.count), UInt64(count) <= UInt64(bytes.count) - offset else {
            throw SealedArchive.Invalid(reason: "read of \(count) bytes at \(offset) past the end (\(bytes.count))")
        }
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
}
