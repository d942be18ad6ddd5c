/// A source whose first bytes were already read (to tell its format): yields
/// them again, then reads on from the underlying source.
public final class ReplayingByteSource: ByteSource {
    private let prefix: [UInt8]
    private var position = 0
    private let source: ByteSource

    public init(prefix: [UInt8], then source: ByteSource) {
        self.prefix = prefix
        self.source = source
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard position < prefix.count else { return try source.read(into: buffer) }
        let count = min(buffer.count, prefix.count - position)
        prefix.withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: count)
        }
        position += count
        return count
    }

    /// Reads up to `count` bytes from `source`, fewer only when it ends first.
    public static func readPrefix(of source: ByteSource, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try bytes.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[..<filled])
    }
}
