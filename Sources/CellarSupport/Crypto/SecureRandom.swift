internal import COpenSSL
import Foundation

/// Random bytes and passwords from OpenSSL's CSPRNG (`RAND_bytes`).
public enum SecureRandom {
    /// The unreserved characters of RFC 3986 (§2.3): letters, digits and
    /// `-._~`. A password made of them needs no escaping in a URI, a libpq
    /// conninfo string, `.pgpass`, YAML or a shell.
    public static let uriSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

    /// The least entropy ``password(length:alphabet:)`` accepts, in bits.
    public static let minimumPasswordEntropy = 256.0

    /// `count` bytes from OpenSSL's cryptographically secure generator.
    ///
    /// - Throws: ``OpenSSLError`` when the generator cannot be seeded.
    public static func bytes(count: Int) throws -> [UInt8] {
        precondition(count >= 0, "a byte count is not negative")
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            OpenSSLError.clearQueue()
            while initialized < count {
                let piece = min(count - initialized, Int(Int32.max))
                // > RAND_bytes() puts num cryptographically strong pseudo-random
                // > bytes into buf. [...] returns 1 on success, -1 if not
                // > supported by the current RAND method, or 0 on other failure.
                guard RAND_bytes(buffer.baseAddress! + initialized, Int32(piece)) == 1 else {
                    throw OpenSSLError.drainingQueue(operation: "generating \(count) random bytes")
                }
                initialized += piece
            }
        }
    }

    /// A random password of `length` characters drawn uniformly from `alphabet`.
    ///
    /// Each character comes from one random byte; bytes that would favour
    /// some characters (those at or above the largest multiple of the
    /// alphabet's size) are rejected and redrawn, so there is no modulo bias.
    ///
    /// - Parameters:
    ///   - length: Number of characters. The default, 43, over the default
    ///     alphabet of 66 characters carries 259.9 bits.
    ///   - alphabet: At least 2 distinct printable ASCII characters, no space
    ///     (`!` through `~`).
    /// - Throws: ``PasswordPolicyError`` when the alphabet is unusable or
    ///   `length × log2(alphabet size)` is below 256 bits; ``OpenSSLError``
    ///   when no random bytes can be had.
    public static func password(length: Int = 43, alphabet: String = uriSafeAlphabet) throws -> String {
        let symbols = Array(alphabet.utf8)
        if let bad = alphabet.unicodeScalars.first(where: { !(0x21...0x7E).contains($0.value) }) {
            throw PasswordPolicyError.unsupportedCharacter(bad)
        }
        let distinct = Set(symbols)
        guard distinct.count == symbols.count else {
            let duplicate = symbols.enumerated().first { index, symbol in symbols[..<index].contains(symbol) }!.element
            throw PasswordPolicyError.repeatedCharacter(Character(Unicode.Scalar(duplicate)))
        }
        guard symbols.count >= 2 else {
            throw PasswordPolicyError.alphabetTooSmall(count: symbols.count)
        }
        let bitsPerCharacter = log2(Double(symbols.count))
        let bits = Double(max(length, 0)) * bitsPerCharacter
        guard bits >= minimumPasswordEntropy else {
            throw PasswordPolicyError.tooLittleEntropy(
                length: length, alphabetSize: symbols.count, bits: bits,
                minimumLength: Int((minimumPasswordEntropy / bitsPerCharacter).rounded(.up)))
        }

        // Accept bytes below the largest multiple of the alphabet size ≤ 256.
        let limit = 256 - 256 % symbols.count
        var password: [UInt8] = []
        password.reserveCapacity(length)
        while password.count < length {
            // Draw a little more than needed: with 66 symbols, 23% of bytes are rejected.
            let random = try bytes(count: (length - password.count) * 3 / 2 + 8)
            for byte in random where Int(byte) < limit {
                password.append(symbols[Int(byte) % symbols.count])
                if password.count == length { break }
            }
        }
        return String(decoding: password, as: UTF8.self)
    }
}

/// Why ``SecureRandom/password(length:alphabet:)`` refused to make a password.
public enum PasswordPolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Fewer than two characters to choose from.
    case alphabetTooSmall(count: Int)
    /// A character appears twice, which would make it more likely than the others.
    case repeatedCharacter(Character)
    /// A character outside printable ASCII (`!` through `~`).
    case unsupportedCharacter(Unicode.Scalar)
    /// `length × log2(alphabetSize)` is below ``SecureRandom/minimumPasswordEntropy``.
    case tooLittleEntropy(length: Int, alphabetSize: Int, bits: Double, minimumLength: Int)

    public var description: String {
        switch self {
        case .alphabetTooSmall(let count):
            return "a password alphabet needs at least 2 distinct characters, this one has \(count)"
        case .repeatedCharacter(let character):
            return "the password alphabet contains \"\(character)\" more than once; list each character once"
        case .unsupportedCharacter(let scalar):
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true)
            return "the password alphabet contains \(code), which is not printable ASCII (\"!\" through \"~\")"
        case .tooLittleEntropy(let length, let alphabetSize, let bits, let minimumLength):
            let shown = (bits * 10).rounded(.down) / 10
            return "a password of \(length) characters from an alphabet of \(alphabetSize) carries \(shown) bits "
                + "of entropy, less than the required \(Int(SecureRandom.minimumPasswordEntropy)); "
                + "use at least \(minimumLength) characters or a larger alphabet"
        }
    }
}
