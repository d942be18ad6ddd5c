// MARK: - The header

/// The text header of an age v1 file (age-encryption.org/v1):
///
/// ```
/// age-encryption.org/v1
/// -> X25519 <ephemeral share, base64>
/// <wrapped file key, base64>
/// --- <HMAC-SHA-256 of everything before the space, base64>
/// ```
///
/// followed by a 16-byte nonce and the STREAM-encrypted payload.
struct AgeHeader {
    static let versionLine = "age-encryption.org/v1"
    /// What every age v1 file starts with; enough to tell one apart from a
    /// zstd archive (whose first bytes are binary).
    static let magic = Array((versionLine + "\n").utf8)
    /// A header larger than this is refused rather than buffered.
    static let maximumSize = 1 << 20
    private static let x25519Label = "age-encryption.org/v1/X25519"

    struct Stanza {
        var arguments: [String]
        var body: [UInt8]
    }

    var stanzas: [Stanza]
    /// The bytes the MAC covers: from the version line through `---`.
    var authenticatedBytes: [UInt8]
    var mac: [UInt8]
    /// Length of the whole header, the MAC line's newline included.
    var length: Int

    // MARK: Writing

    /// A new header wrapping `fileKey` to each recipient, MAC included, as bytes.
    static func encoded(fileKey: [UInt8], recipients: [AgeRecipient]) throws -> [UInt8] {
        precondition(!recipients.isEmpty, "an age file needs at least one recipient")
        var text = versionLine + "\n"
        for recipient in recipients {
            // > ephemeral secret = read(CSPRNG, 32); ephemeral share = X25519(ephemeral secret, basepoint)
            let ephemeral = try SecureRandom.bytes(count: X25519.keySize)
            let share = try X25519.publicKey(privateKey: ephemeral)
            guard let shared = try X25519.sharedSecret(privateKey: ephemeral, peerPublicKey: recipient.publicKey) else {
                throw AgeError(.badKey, "the recipient \(recipient) is not a usable X25519 key (it gives an all-zero shared secret)")
            }
            let wrapKey = try HKDF.sha256(key: shared, salt: share + recipient.publicKey, info: x25519Label)
            var body: [UInt8] = []
            try fileKey.withUnsafeBytes {
                try ChaCha20Poly1305(key: wrapKey, encrypting: true).seal($0, nonce: zeroNonce, appendingTo: &body)
            }
            text += "-> X25519 \(Base64.encode(share))\n\(Base64.wrapped(body))\n"
        }
        text += "---"
        let authenticated = Array(text.utf8)
        let mac = try HMACSHA256.authenticationCode(key: try macKey(fileKey), message: authenticated)
        return authenticated + Array(" \(Base64.encode(mac))\n".utf8)
    }

    static func macKey(_ fileKey: [UInt8]) throws -> [UInt8] {
        try HKDF.sha256(key: fileKey, salt: [], info: "header")
    }

    static let zeroNonce = [UInt8](repeating: 0, count: ChaCha20Poly1305.nonceSize)

    // MARK: Reading

    /// Parses the header at the start of `bytes`, or returns nil when
    /// `bytes` ends before the MAC line does (read more and try again).
    ///
    /// - Throws: ``AgeError`` (`badHeader`) naming what is malformed.
    static func parse(_ bytes: [UInt8], name: String) throws -> AgeHeader? {
        var lines = LineReader(bytes: bytes)
        func malformed(_ what: String) -> AgeError {
            AgeError(.badHeader, "\(name) is not a valid age file: \(what)")
        }
        guard let first = lines.next() else {
            if bytes.count >= magic.count || !magic.starts(with: bytes) {
                throw malformed("it does not start with \"\(versionLine)\"")
            }
            return nil
        }
        guard first.elementsEqual(versionLine.utf8) else {
            throw malformed("it does not start with \"\(versionLine)\" (is it encrypted with age at all, or with another version?)")
        }
        var stanzas: [Stanza] = []
        while true {
            guard let line = lines.next() else {
                if bytes.count > maximumSize { throw malformed("its header is larger than \(maximumSize) bytes") }
                return nil
            }
            if line.starts(with: Array("--- ".utf8)) {
                let authenticatedEnd = lines.position - line.count - 1 + 3
                guard let mac = Base64.decode(line.dropFirst(4)), mac.count == 32 else { throw malformed("its header MAC is not 32 bytes of base64") }
                guard !stanzas.isEmpty else { throw malformed("its header lists no recipients") }
                return AgeHeader(stanzas: stanzas, authenticatedBytes: Array(bytes[..<authenticatedEnd]), mac: mac, length: lines.position)
            }
            guard line.starts(with: Array("-> ".utf8)) else { throw malformed("a header line is neither a stanza (->) nor the MAC (---)") }
            let arguments = line.dropFirst(3).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard !arguments.isEmpty, arguments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (33...126).contains($0) } }) else {
                throw malformed("a stanza line has an empty or non-printable argument")
            }
            var body: [UInt8] = []
            while true {
                guard let bodyLine = lines.next() else {
                    if bytes.count > maximumSize { throw malformed("its header is larger than \(maximumSize) bytes") }
                    return nil
                }
                guard bodyLine.count <= 64, let decoded = Base64.decode(bodyLine[...]) else {
                    throw malformed("a stanza body is not canonical base64 in lines of 64 columns")
                }
                body += decoded
                if bodyLine.count < 64 { break }
            }
            stanzas.append(Stanza(arguments: arguments.map { String(decoding: $0, as: UTF8.self) }, body: body))
        }
    }

    /// The file key, unwrapped with the first identity that opens an X25519
    /// stanza, after checking the header's MAC with it.
    ///
    /// - Throws: ``AgeError``: `noMatchingIdentity` when none opens it,
    ///   `badHeader` when a stanza is malformed or the MAC does not match.
    func unwrapFileKey(identities: [AgeIdentity], name: String, recipientFingerprints: [String]) throws -> [UInt8] {
        let types = Set(stanzas.map { $0.arguments[0] })
        if types.contains("scrypt") {
            throw AgeError(.badHeader, "\(name) is encrypted with a passphrase (age -p); pgcellar reads only files encrypted to X25519 recipients (age -r age1…); decrypt it with age -d")
        }
        for identity in identities {
            for stanza in stanzas where stanza.arguments[0] == "X25519" {
                guard stanza.arguments.count == 2, let share = Base64.decode(Array(stanza.arguments[1].utf8)[...]),
                      share.count == X25519.keySize, stanza.body.count == 32 else {
                    throw AgeError(.badHeader, "\(name) is not a valid age file: an X25519 stanza is malformed")
                }
                guard let shared = try X25519.sharedSecret(privateKey: identity.privateKey, peerPublicKey: share) else {
                    throw AgeError(.badHeader, "\(name) is not a valid age file: an X25519 stanza holds a low-order point")
                }
                let wrapKey = try HKDF.sha256(key: shared, salt: share + identity.recipient.publicKey, info: Self.x25519Label)
                let opened = try stanza.body.withUnsafeBytes {
                    try ChaCha20Poly1305(key: wrapKey, encrypting: false).open($0, nonce: Self.zeroNonce)
                }
                guard let fileKey = opened else { continue }
                let expected = try HMACSHA256.authenticationCode(key: try Self.macKey(fileKey), message: authenticatedBytes)
                guard HMACSHA256.equal(expected, mac) else {
                    throw AgeError(.badHeader, "\(name): the age header's MAC does not match: the file was altered or damaged; restore from an intact copy")
                }
                return fileKey
            }
        }
        let offered = identities.map { $0.recipient.fingerprint }
        let tried = identities.isEmpty
            ? "\(name) is encrypted with age and no identity was given"
            : identities.count == 1
            ? "the identity given (recipient fingerprint \(offered[0])) cannot decrypt \(name)"
            : "none of the \(identities.count) identities given (recipient fingerprints \(offered.joined(separator: ", "))) can decrypt \(name)"
        throw AgeError(.noMatchingIdentity, tried, recipientFingerprints: recipientFingerprints)
    }
}

/// Splits bytes into `\n`-terminated lines; a last line without its newline
/// is not returned (it may be incomplete).
private struct LineReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> ArraySlice<UInt8>? {
        guard let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = bytes[position..<end]
        position = end + 1
        return line
    }
}

// MARK: - Base64

/// Standard base64 without padding, as age writes it; decoding accepts only
/// the canonical form (age rejects padding and stray bits).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index]), b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0, b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            let characters = remaining >= 3 ? 4 : remaining + 1
            for position in 0..<characters { out.append(alphabet[Int((group >> (18 - 6 * position)) & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `encode(bytes)` in lines of 64 columns, as a stanza body; the last
    /// line is shorter than 64 (empty when the text fills its lines).
    static func wrapped(_ bytes: [UInt8]) -> String {
        var text = Substring(encode(bytes))
        var lines: [Substring] = []
        while text.count >= 64 {
            lines.append(text.prefix(64))
            text = text.dropFirst(64)
        }
        lines.append(text)
        return lines.joined(separator: "\n")
    }

    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0
        for character in text {
            let value = values[Int(character)]
            guard value >= 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        // Canonical: the bits left over must be zero.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
