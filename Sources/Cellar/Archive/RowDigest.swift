import CellarSupport
import Foundation

/// An order-independent digest of a set of rows: the sum, modulo 2^128, of
/// the seeded XXH3-128 of each row's line in COPY text format — the bytes
/// `COPY ... TO STDOUT` sends for the row, its closing newline included.
///
/// A sum does not depend on the order rows are read in, so a table's rows
/// exported in one order and read back from a restored copy in another give
/// the same digest, and a table's digest is the sum of its chunks'. The seed
/// is random per export (the archive's header keeps it): without it, nobody
/// can make two different sets of rows sum to the same digest on purpose
/// short of breaking XXH3, and with it anyone can recompute the digest.
///
/// Written as 32 lowercase hex digits, most significant first (the same
/// byte order as xxHash's canonical form of a single hash).
public struct RowDigest: Hashable, Sendable, CustomStringConvertible {
    /// The name the archive's header gives this construction.
    public static let algorithm = "xxh3-128-sum"

    public private(set) var high: UInt64
    public private(set) var low: UInt64

    /// The digest of no rows.
    public static let zero = RowDigest(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ hash: XXH3.Hash128) {
        self.init(high: hash.high, low: hash.low)
    }

    /// Parses exactly 32 hex digits (either case); nil otherwise.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let bytes = Hex.decode(hex) else { return nil }
        func word(_ range: Range<Int>) -> UInt64 { bytes[range].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(high: word(0..<8), low: word(8..<16))
    }

    /// 32 lowercase hex digits, most significant first.
    public var hex: String {
        Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                   + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) })
    }

    public var description: String { hex }

    /// Adds `other` modulo 2^128.
    public mutating func add(_ other: RowDigest) {
        let (sum, carry) = low.addingReportingOverflow(other.low)
        low = sum
        high = high &+ other.high &+ (carry ? 1 : 0)
    }

    public static func + (lhs: RowDigest, rhs: RowDigest) -> RowDigest {
        var sum = lhs
        sum.add(rhs)
        return sum
    }

    /// A seed for a new export, from OpenSSL's generator.
    ///
    /// - Throws: `OpenSSLError` when the generator cannot be seeded.
    public static func randomSeed() throws -> UInt64 {
        try SecureRandom.bytes(count: 8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A seed as the header writes it: 16 lowercase hex digits.
    public static func hex(seed: UInt64) -> String {
        Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: seed >> (56 - 8 * $0)) })
    }

    /// Parses a seed written by ``hex(seed:)``; nil unless 16 hex digits.
    public static func seed(hex: String) -> UInt64? {
        guard hex.utf8.count == 16, let bytes = Hex.decode(hex) else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Adds rows to a ``RowDigest`` and counts them.
///
/// ```swift
/// var digester = RowDigester(seed: seed)
/// try connection.copyOut("COPY t TO STDOUT") { digester.add(row: $0) }   // one line per call
/// digester.digest; digester.rows
/// ```
public struct RowDigester {
    public let seed: UInt64
    public private(set) var digest = RowDigest.zero
    public private(set) var rows = 0
    /// The hash of a line cut off at the end of the last piece
    /// (``add(lines:)``), fed as its pieces arrive: a single row can be
    /// hundreds of MiB, and holding it to hash it whole doubled `verify
    /// --deep`'s memory. Not shared: a copy of a digester in the middle of a
    /// line would share it, so none is made.
    private var spanning: XXH3.Streaming128?

    public init(seed: UInt64) {
        self.seed = seed
    }

    /// Adds one row: its complete line, newline included.
    public mutating func add(row: UnsafeRawBufferPointer) {
        digest.add(RowDigest(XXH3.hash128(row, seed: seed)))
        rows += 1
    }

    /// Adds the rows in `piece`, COPY text lines cut anywhere (decompressed
    /// archive data): a line is complete at its newline byte, which COPY
    /// text never holds inside a value (it writes `\n`), in any server encoding.
    public mutating func add(lines piece: UnsafeRawBufferPointer) {
        guard let base = piece.baseAddress else { return }
        var start = 0
        while start < piece.count {
            // memchr, not a loop over the bytes in Swift: that took two
            // minutes for one 600 MiB line in a debug build.
            guard let found = memchr(base + start, 0x0A, piece.count - start) else {
                let hasher = spanning ?? XXH3.Streaming128(seed: seed)
                hasher.update(UnsafeRawBufferPointer(rebasing: piece[start...]))
                spanning = hasher
                return
            }
            let newline = base.distance(to: UnsafeRawPointer(found))
            let line = UnsafeRawBufferPointer(rebasing: piece[start...newline])
            if let hasher = spanning {
                // The same hash as the whole line's (XXH3 streams).
                hasher.update(line)
                digest.add(RowDigest(hasher.digest()))
                rows += 1
                spanning = nil
            } else {
                add(row: line)
            }
            start = newline + 1
        }
    }

    /// Whether ``add(lines:)`` has been left with a line that has no newline yet.
    public var hasPartialLine: Bool { spanning != nil }
}
