import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deterministic generator (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` bytes that are incompressible noise.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var index = 0
        while index + 8 <= count {
            buffer.storeBytes(of: generator.next(), toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            buffer[index] = UInt8(truncatingIfNeeded: generator.next())
            index += 1
        }
    }
    return bytes
}

/// `count` bytes alternating noise, COPY-like text lines and runs of one byte,
/// so that zstd emits raw, RLE and compressed blocks.
func mixedBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    var row = 0
    while bytes.count < count {
        switch generator.next() % 3 {
        case 0:
            bytes += randomBytes(Int(generator.next() % 200_000), seed: generator.next())
        case 1:
            for _ in 0..<Int(generator.next() % 5_000) {
                row += 1
                bytes += Array("\(row)\tbeer \(row % 97)\t\(row * 7 % 1000).50\t2024-01-\(row % 28 + 1)\n".utf8)
            }
        default:
            bytes += [UInt8](repeating: UInt8(truncatingIfNeeded: generator.next()), count: Int(generator.next() % 300_000))
        }
    }
    return Array(bytes.prefix(count))
}

/// Splits `bytes` into pieces of varying sizes (including empty ones).
func unevenPieces(_ bytes: [UInt8], seed: UInt64, maximum: Int = 70_000) -> [ArraySlice<UInt8>] {
    var generator = SplitMix64(seed: seed)
    var pieces: [ArraySlice<UInt8>] = []
    var index = 0
    while index < bytes.count {
        let size = min(Int(generator.next() % UInt64(maximum + 1)), bytes.count - index)
        pieces.append(bytes[index..<index + size])
        index += size
    }
    return pieces
}

/// Runs `body` with a fresh empty directory, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    var template = Array((NSTemporaryDirectory() + "/cellar-support-XXXXXX").utf8CString)
    let path = try template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let result = mkdtemp(buffer.baseAddress!) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return String(cString: result)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The names in `directory`, sorted.
func directoryListing(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

/// The permission bits of the file at `path`.
func permissions(of path: String) throws -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return info.st_mode & 0o7777
}

/// What running a program gave.
struct ProcessOutput {
    var status: Int32
    var standardOutput: [UInt8]
    var standardError: String
}

/// Runs `executable` with `arguments`, its standard output going to a file
/// (no pipe to fill up), and waits for it.
func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessOutput {
    try withTemporaryDirectory { directory in
        let outputPath = directory + "/stdout"
        let errorPath = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer {
            try? output.close()
            try? error.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        try process.run()
        process.waitUntilExit()
        return ProcessOutput(
            status: process.terminationStatus,
            standardOutput: Array(try Data(contentsOf: URL(fileURLWithPath: outputPath))),
            standardError: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errorPath)), as: UTF8.self))
    }
}

let zstdTool = "/usr/bin/zstd"
