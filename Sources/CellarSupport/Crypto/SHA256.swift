internal import COpenSSL
import Foundation

/// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface, fed incrementally.
///
/// ```swift
/// let hasher = try SHA256()
/// hasher.update(chunk)       // as often as needed
/// let digest = hasher.finalize()
/// ```
///
/// - Important: Not `Sendable`: use one hasher per thread.
public final class SHA256 {
    /// Digest length in bytes.
    public static let digestSize = 32

    private let context: OpaquePointer
    private var digest: [UInt8]?

    /// Starts an empty hash.
    ///
    /// - Throws: ``OpenSSLError`` when OpenSSL cannot provide SHA-256 (for
    ///   example an `openssl.cnf` that loads no provider offering it).
    public init() throws {
        OpenSSLError.clearQueue()
        guard let context = EVP_MD_CTX_new() else {
            throw OpenSSLError.drainingQueue(operation: "allocating a digest context")
        }
        // > EVP_DigestInit_ex() sets up digest context ctx to use a digest type.
        // > [...] returns 1 for success and 0 for failure.
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            let error = OpenSSLError.drainingQueue(operation: "initializing SHA-256")
            EVP_MD_CTX_free(context)
            throw error
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Hashes `bytes` as the next part of the message.
    ///
    /// - Precondition: ``finalize()`` has not been called.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(digest == nil, "SHA256.update after finalize()")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        // > EVP_DigestUpdate() hashes cnt bytes of data at d into the digest
        // > context ctx. [...] returns 1 for success and 0 for failure.
        // It only fails for a context that was never initialized, which init rules out.
        let result = EVP_DigestUpdate(context, base, bytes.count)
        precondition(result == 1, "\(OpenSSLError.drainingQueue(operation: "hashing with SHA-256"))")
    }

    /// Hashes `bytes` (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, ...) as the
    /// next part of the message.
    public func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Hashes the UTF-8 encoding of `text` as the next part of the message.
    public func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Completes the hash and returns the 32-byte digest; calling it again
    /// returns the same digest.
    public func finalize() -> [UInt8] {
        if let digest { return digest }
        var length: UInt32 = 0
        let result = [UInt8](unsafeUninitializedCapacity: Self.digestSize) { buffer, count in
            // > EVP_DigestFinal_ex() retrieves the digest value from ctx and
            // > places it in md. [...] After calling EVP_DigestFinal_ex() no
            // > additional calls to EVP_DigestUpdate() can be made.
            let status = EVP_DigestFinal_ex(context, buffer.baseAddress, &length)
            precondition(status == 1, "\(OpenSSLError.drainingQueue(operation: "finishing SHA-256"))")
            count = Int(length)
        }
        digest = result
        return result
    }

    /// Completes the hash and returns the digest as 64 lowercase hex digits.
    public func hexDigest() -> String {
        Hex.encode(finalize())
    }

    /// The SHA-256 digest of `bytes` (`[UInt8]`, `Data`, ...).
    ///
    /// - Throws: ``OpenSSLError`` as ``init()``.
    public static func hash(_ bytes: some ContiguousBytes) throws -> [UInt8] {
        let hasher = try SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The SHA-256 digest of `bytes` as 64 lowercase hex digits.
    public static func hexHash(_ bytes: some ContiguousBytes) throws -> String {
        Hex.encode(try hash(bytes))
    }
}
