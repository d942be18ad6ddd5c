internal import CXXHash
import Foundation

/// XXH3, the fast non-cryptographic hash of xxHash (libxxhash), in its
/// 128-bit seeded form.
///
/// Not a cryptographic hash: with a secret seed it tells honest data apart
/// from data damaged or changed by mistake, not from data forged by someone
/// who knows the seed. The archive's SHA-256s guard against the latter.
public enum XXH3 {
    /// A 128-bit hash: `high` holds the upper 64 bits, as xxHash's
    /// `XXH128_hash_t.high64` and its canonical (big-endian) form.
    public struct Hash128: Hashable, Sendable {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }
    }

    /// XXH3-128 of `bytes` with `seed`.
    public static func hash128(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> Hash128 {
        // > The memory between input and input + length must be valid,
        // > readable, contiguous memory. However, if length is 0, input may
        // > be NULL.
        // (xxhash.h, said of XXH32 and, by its @see, of XXH3_128bits_withSeed.)
        let hash = XXH3_128bits_withSeed(bytes.baseAddress, bytes.count, seed)
        return Hash128(high: hash.high64, low: hash.low64)
    }

    /// XXH3-128 of `bytes` (`[UInt8]`, `Data`, ...) with `seed`.
    public static func hash128(_ bytes: some ContiguousBytes, seed: UInt64) -> Hash128 {
        bytes.withUnsafeBytes { hash128($0, seed: seed) }
    }

    /// XXH3-128 computed over input that arrives in pieces: the same hash as
    /// ``hash128(_:seed:)`` of all the pieces back to back, without holding
    /// them (a 600 MiB COPY line read from an archive 128 KiB at a time).
    ///
    /// Owns libxxhash's `XXH3_state_t`; not `Sendable`, one thread uses it.
    public final class Streaming128 {
        private let state: OpaquePointer

        public init(seed: UInt64) {
            // > XXH3_createState() ... returns NULL on failure.
            // A few hundred bytes from malloc: when even that fails, trap as
            // Swift's own allocations do.
            guard let state = XXH3_createState() else { fatalError("libxxhash could not allocate an XXH3 state (out of memory)") }
            self.state = state
            // > XXH3_128bits_reset_withSeed(): ... Generate a custom secret from `seed`, and store it into `statePtr`.
            XXH3_128bits_reset_withSeed(state, seed)
        }

        deinit { XXH3_freeState(state) }

        /// Adds the next piece.
        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            XXH3_128bits_update(state, bytes.baseAddress, bytes.count)
        }

        /// The hash of every piece so far; more pieces may follow.
        public func digest() -> Hash128 {
            let hash = XXH3_128bits_digest(state)
            return Hash128(high: hash.high64, low: hash.low64)
        }
    }
}
