internal import COpenSSL

// The four primitives age v1 is built from, each a thin call into OpenSSL's
// libcrypto: X25519 (RFC 7748), HKDF-SHA-256 (RFC 5869), HMAC-SHA-256
// (RFC 2104) and ChaCha20-Poly1305 (RFC 8439). Nothing here is hand-written
// cryptography: only the byte plumbing around OpenSSL's EVP interface.

// MARK: - X25519

enum X25519 {
    static let keySize = 32

    /// The public key (`scalar · basepoint`) of a 32-byte private scalar.
    static func publicKey(privateKey: [UInt8]) throws -> [UInt8] {
        let key = try privateKeyHandle(privateKey)
        defer { EVP_PKEY_free(key) }
        var length = keySize
        var result = [UInt8](repeating: 0, count: keySize)
        // > EVP_PKEY_get_raw_public_key() fills the buffer provided by pub with
        // > raw public key data. [...] return 1 for success and 0 for failure.
        guard EVP_PKEY_get_raw_public_key(key, &result, &length) == 1, length == keySize else {
            throw OpenSSLError.drainingQueue(operation: "computing an X25519 public key")
        }
        return result
    }

    /// The X25519 shared secret of `privateKey` and `peerPublicKey`, or nil
    /// when it is all zeros (a low-order peer point), which age requires
    /// recipients to reject.
    static func sharedSecret(privateKey: [UInt8], peerPublicKey: [UInt8]) throws -> [UInt8]? {
        OpenSSLError.clearQueue()
        let key = try privateKeyHandle(privateKey)
        defer { EVP_PKEY_free(key) }
        guard let peer = EVP_PKEY_new_raw_public_key(pgcellar_evp_pkey_x25519(), nil, peerPublicKey, peerPublicKey.count) else {
            throw OpenSSLError.drainingQueue(operation: "loading an X25519 public key")
        }
        defer { EVP_PKEY_free(peer) }
        guard let context = EVP_PKEY_CTX_new(key, nil) else {
            throw OpenSSLError.drainingQueue(operation: "allocating an X25519 context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var secret = [UInt8](repeating: 0, count: keySize)
        var length = keySize
        // > EVP_PKEY_derive() derives a shared secret using ctx. [...] return 1
        // > for success and 0 or a negative value for failure.
        // OpenSSL itself fails the derivation when the result is all zeros.
        guard EVP_PKEY_derive_init(context) == 1, EVP_PKEY_derive_set_peer(context, peer) == 1 else {
            throw OpenSSLError.drainingQueue(operation: "setting up X25519")
        }
        guard EVP_PKEY_derive(context, &secret, &length) == 1, length == keySize else {
            OpenSSLError.clearQueue()
            return nil
        }
        return secret.allSatisfy({ $0 == 0 }) ? nil : secret
    }

    private static func privateKeyHandle(_ privateKey: [UInt8]) throws -> OpaquePointer {
        OpenSSLError.clearQueue()
        // > EVP_PKEY_new_raw_private_key() allocates a new EVP_PKEY. [...] key
        // > points to the raw private key data [...] of length keylen.
        guard privateKey.count == keySize,
              let key = EVP_PKEY_new_raw_private_key(pgcellar_evp_pkey_x25519(), nil, privateKey, privateKey.count) else {
            throw OpenSSLError.drainingQueue(operation: "loading an X25519 private key")
        }
        return key
    }
}

// MARK: - HKDF and HMAC

enum HKDF {
    /// HKDF-SHA-256 (extract then expand) of `key` with `salt` and `info`.
    static func sha256(key: [UInt8], salt: [UInt8], info: String, count: Int = 32) throws -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let context = EVP_PKEY_CTX_new_id(pgcellar_evp_pkey_hkdf(), nil) else {
            throw OpenSSLError.drainingQueue(operation: "allocating an HKDF context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        let infoBytes = Array(info.utf8)
        var output = [UInt8](repeating: 0, count: count)
        var length = count
        // > EVP_PKEY_CTX_set1_hkdf_salt() sets the salt to saltlen bytes of the
        // > buffer salt. Any existing value is replaced. [...] All these
        // > functions return 1 for success and 0 or a negative value for failure.
        // An empty salt is HKDF's default (a string of zeros), which age wants.
        guard EVP_PKEY_derive_init(context) == 1,
              EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) == 1,
              salt.isEmpty || EVP_PKEY_CTX_set1_hkdf_salt(context, salt, Int32(salt.count)) == 1,
              EVP_PKEY_CTX_set1_hkdf_key(context, key, Int32(key.count)) == 1,
              EVP_PKEY_CTX_add1_hkdf_info(context, infoBytes, Int32(infoBytes.count)) == 1,
              EVP_PKEY_derive(context, &output, &length) == 1, length == count else {
            throw OpenSSLError.drainingQueue(operation: "deriving a key with HKDF-SHA-256")
        }
        return output
    }
}

enum HMACSHA256 {
    static func authenticationCode(key: [UInt8], message: [UInt8]) throws -> [UInt8] {
        OpenSSLError.clearQueue()
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        // > HMAC() computes the message authentication code of the n bytes at
        // > d using the hash function evp_md and the key key which is
        // > key_len bytes long. [...] returns a pointer to the message
        // > authentication code or NULL if an error occurred.
        guard HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &output, &length) != nil, length == 32 else {
            throw OpenSSLError.drainingQueue(operation: "computing HMAC-SHA-256")
        }
        return output
    }

    /// Compares two codes in time independent of where they differ.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}

// MARK: - ChaCha20-Poly1305

/// ChaCha20-Poly1305 with one key and a nonce per message.
///
/// - Important: Not `Sendable`: one context per thread.
final class ChaCha20Poly1305 {
    static let keySize = 32
    static let nonceSize = 12
    static let tagSize = 16

    private let context: OpaquePointer
    private let encrypting: Bool

    init(key: [UInt8], encrypting: Bool) throws {
        precondition(key.count == Self.keySize, "a ChaCha20-Poly1305 key is 32 bytes")
        OpenSSLError.clearQueue()
        guard let context = EVP_CIPHER_CTX_new() else {
            throw OpenSSLError.drainingQueue(operation: "allocating a cipher context")
        }
        // > EVP_CipherInit_ex2() [...] enc should be set to 1 for encryption,
        // > 0 for decryption. The key and iv may be set later by passing NULL.
        guard EVP_CipherInit_ex2(context, EVP_chacha20_poly1305(), key, nil, encrypting ? 1 : 0, nil) == 1 else {
            let error = OpenSSLError.drainingQueue(operation: "initializing ChaCha20-Poly1305")
            EVP_CIPHER_CTX_free(context)
            throw error
        }
        self.context = context
        self.encrypting = encrypting
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Encrypts `plaintext` and appends the ciphertext and its 16-byte tag to `output`.
    func seal(_ plaintext: UnsafeRawBufferPointer, nonce: [UInt8], appendingTo output: inout [UInt8]) throws {
        precondition(encrypting && nonce.count == Self.nonceSize)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: plaintext.count + Self.tagSize))
        try output.withUnsafeMutableBytes { buffer in
            let out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start
            var written: Int32 = 0
            var final: Int32 = 0
            // The key stays; only the nonce changes between messages.
            guard EVP_CipherInit_ex2(context, nil, nil, nonce, 1, nil) == 1,
                  plaintext.isEmpty || EVP_CipherUpdate(context, out, &written,
                                                        plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                        Int32(plaintext.count)) == 1,
                  EVP_CipherFinal_ex(context, out + Int(written), &final) == 1,
                  Int(written + final) == plaintext.count,
                  // > EVP_CTRL_AEAD_GET_TAG: Writes taglen bytes of the tag value to the buffer indicated by tag.
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(Self.tagSize), out + plaintext.count) == 1 else {
                throw OpenSSLError.drainingQueue(operation: "encrypting with ChaCha20-Poly1305")
            }
        }
    }

    /// Decrypts `sealed` (ciphertext then tag) into a new array, or returns nil
    /// when the tag does not authenticate it (wrong key, nonce or bytes).
    func open(_ sealed: UnsafeRawBufferPointer, nonce: [UInt8]) throws -> [UInt8]? {
        precondition(!encrypting && nonce.count == Self.nonceSize)
        guard sealed.count >= Self.tagSize else { return nil }
        let length = sealed.count - Self.tagSize
        let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var authentic = true
        let plaintext = try [UInt8](unsafeUninitializedCapacity: max(length, 1)) { buffer, initialized in
            initialized = 0
            var written: Int32 = 0
            var final: Int32 = 0
            var tag = Array(UnsafeBufferPointer(start: input + length, count: Self.tagSize))
            guard EVP_CipherInit_ex2(context, nil, nil, nonce, 0, nil) == 1,
                  // > EVP_CTRL_AEAD_SET_TAG: [...] When decrypting, sets the expected tag to taglen bytes from tag.
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(Self.tagSize), &tag) == 1,
                  length == 0 || EVP_CipherUpdate(context, buffer.baseAddress, &written, input, Int32(length)) == 1 else {
                throw OpenSSLError.drainingQueue(operation: "decrypting with ChaCha20-Poly1305")
            }
            // > EVP_DecryptFinal_ex() [...] returns 0 if the decrypt failed
            // > (for AEAD ciphers: the tag did not verify).
            if EVP_CipherFinal_ex(context, buffer.baseAddress! + Int(written), &final) != 1 {
                OpenSSLError.clearQueue()
                authentic = false
                // Never hand out unauthenticated plaintext.
                for index in 0..<Int(written) { buffer[index] = 0 }
                return
            }
            initialized = Int(written + final)
        }
        return authentic ? plaintext : nil
    }
}
