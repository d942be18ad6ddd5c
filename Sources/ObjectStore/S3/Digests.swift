internal import COpenSSL
import CellarSupport
import Foundation

/// The two digests SigV4 and S3 need besides SHA-256, through OpenSSL.
enum Digests {
    /// HMAC-SHA-256 of `message` under `key` (RFC 2104).
    static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var length = 0
        var output = [UInt8](repeating: 0, count: 32)
        // > EVP_Q_mac() computes the message authentication code of data with
        // > length datalen using the MAC algorithm name and the key key with
        // > length keylen. [...] The MAC algorithm is further specified by
        // > subalg [the digest, for HMAC]. [...] returns a pointer to out, or
        // > NULL on failure.
        // (HMAC() would do too, but needs openssl/hmac.h in the shared shim.)
        let result = key.withUnsafeBufferPointer { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                EVP_Q_mac(
                    nil, "HMAC", nil, "SHA256", nil, keyBytes.baseAddress, keyBytes.count,
                    messageBytes.baseAddress, messageBytes.count, &output, 32, &length)
            }
        }
        // It fails only when OpenSSL has no SHA-256 at all, which makes every
        // other digest in pgcellar fail first.
        precondition(result != nil && length == 32, "OpenSSL could not compute HMAC-SHA-256")
        return output
    }

    static func hmacSHA256(key: [UInt8], _ message: String) -> [UInt8] {
        hmacSHA256(key: key, Array(message.utf8))
    }

    /// MD5 of `bytes`, for S3's `Content-MD5` integrity header (not for security).
    static func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var length: UInt32 = 0
        var output = [UInt8](repeating: 0, count: 16)
        // > EVP_Digest() is a simple wrapper function to hash count bytes of
        // > data at data using the digest type [...] returns 1 for success.
        let result = EVP_Digest(bytes.baseAddress, bytes.count, &output, &length, EVP_md5(), nil)
        precondition(result == 1 && length == 16, "OpenSSL could not compute MD5 (a FIPS-only configuration?)")
        return output
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let hasher: SHA256
        do { hasher = try SHA256() } catch { preconditionFailure("\(error)") }
        hasher.update(bytes)
        return hasher.hexDigest()
    }
}
