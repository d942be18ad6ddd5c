import Foundation

// MARK: - AgeRecipient

/// An age X25519 recipient: the public key a file is encrypted to, written
/// `age1…` (Bech32 of the 32-byte Curve25519 point).
public struct AgeRecipient: Hashable, Sendable, CustomStringConvertible {
    /// The 32-byte X25519 public key.
    public let publicKey: [UInt8]

    /// Parses `age1…`.
    ///
    /// - Throws: ``AgeError`` (`badKey`) saying what is wrong with `text`.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let shown = Self.abbreviated(trimmed)
        guard trimmed.lowercased().hasPrefix("age1") else {
            throw AgeError(.badKey, "\(shown) is not an age recipient: one starts with age1 (age-keygen prints it as \"public key\"; only X25519 recipients are supported, not SSH keys)")
        }
        switch Bech32.decode(trimmed) {
        case .failure(let failure):
            throw AgeError(.badKey, "\(shown) is not a valid age recipient: \(failure.explanation); copy it again from age-keygen's output")
        case .success(let decoded):
            guard decoded.hrp == "age", decoded.data.count == X25519.keySize else {
                throw AgeError(.badKey, "\(shown) is not a valid age recipient: it holds \(decoded.data.count) bytes, an X25519 key has 32")
            }
            publicKey = decoded.data
        }
    }

    init(publicKey: [UInt8]) {
        self.publicKey = publicKey
    }

    /// `age1…`, as age-keygen prints it.
    public var description: String { Bech32.encode(hrp: "age", data: publicKey) }

    /// A short stable name for manifests and error messages: the first 16
    /// hex digits of the SHA-256 of the `age1…` string. It identifies the
    /// recipient without being usable as a key.
    public var fingerprint: String {
        // SHA-256 only fails when OpenSSL has no provider for it, in which case nothing here works.
        let digest = (try? SHA256.hash(Array(description.utf8))) ?? []
        return String(Hex.encode(digest).prefix(16))
    }

    /// Reads recipients from a file: one `age1…` a line, `#` comments and
    /// blank lines skipped (age's `-R` format, X25519 only).
    ///
    /// - Throws: ``AgeError`` naming the file and line of a bad recipient,
    ///   or when the file lists none; `FileError` when it cannot be read.
    public static func parseRecipientsFile(path: String) throws -> [AgeRecipient] {
        let input = try FileDescriptorInput(path: path)
        defer { try? input.close() }
        let text = String(decoding: try readAll(input, limit: 1 << 20, name: path), as: UTF8.self)
        var recipients: [AgeRecipient] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                recipients.append(try AgeRecipient(line))
            } catch let error as AgeError {
                throw AgeError(.badKey, "\(path) line \(number + 1): \(error.message)")
            }
        }
        guard !recipients.isEmpty else { throw AgeError(.badKey, "\(path) lists no age recipients (one age1… a line)") }
        return recipients
    }

    static func abbreviated(_ text: String) -> String {
        text.count > 20 ? "\"\(text.prefix(12))…\"" : "\"\(text)\""
    }
}

// MARK: - AgeIdentity

/// An age X25519 identity: the private key that opens files encrypted to its
/// ``recipient``, written `AGE-SECRET-KEY-1…`.
///
/// - Important: Its ``description`` does not reveal the key; use
///   ``secretKeyText`` to write it out.
public struct AgeIdentity: Sendable, CustomStringConvertible {
    let privateKey: [UInt8]
    /// The matching public key.
    public let recipient: AgeRecipient

    /// Parses `AGE-SECRET-KEY-1…`.
    ///
    /// - Throws: ``AgeError`` (`badKey`) saying what is wrong, without echoing the key.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.uppercased().hasPrefix("AGE-SECRET-KEY-1") else {
            throw AgeError(.badKey, "not an age identity: one starts with AGE-SECRET-KEY-1 (as age-keygen writes it)")
        }
        switch Bech32.decode(trimmed) {
        case .failure(let failure):
            throw AgeError(.badKey, "not a valid age identity: \(failure.explanation)")
        case .success(let decoded):
            guard decoded.hrp == "age-secret-key-", decoded.data.count == X25519.keySize else {
                throw AgeError(.badKey, "not a valid age identity: it holds \(decoded.data.count) bytes, an X25519 key has 32")
            }
            try self.init(privateKey: decoded.data)
        }
    }

    init(privateKey: [UInt8]) throws {
        self.privateKey = privateKey
        recipient = AgeRecipient(publicKey: try X25519.publicKey(privateKey: privateKey))
    }

    /// A new random identity, as `age-keygen` makes.
    ///
    /// - Throws: ``OpenSSLError`` when no random bytes can be had.
    public static func generate() throws -> AgeIdentity {
        try AgeIdentity(privateKey: try SecureRandom.bytes(count: X25519.keySize))
    }

    /// `AGE-SECRET-KEY-1…` (uppercase): the secret itself; write it only to a 0600 file.
    public var secretKeyText: String { Bech32.encode(hrp: "age-secret-key-", data: privateKey).uppercased() }

    /// An identity file as age-keygen writes it: comments with the creation
    /// time and public key, then the secret key.
    public func identityFileText(created: Date = Date()) -> String {
        let time = ISO8601DateFormatter().string(from: created)
        return "# created: \(time)\n# public key: \(recipient)\n\(secretKeyText)\n"
    }

    public var description: String { "age identity for \(recipient)" }

    /// Reads identities from an identity file: `AGE-SECRET-KEY-1…` lines,
    /// `#` comments and blank lines skipped, as age-keygen writes it.
    ///
    /// - Throws: ``AgeError`` naming the file and line (never the key),
    ///   or when it holds no identity; `FileError` when it cannot be read.
    public static func parseIdentityFile(path: String) throws -> [AgeIdentity] {
        let input = try FileDescriptorInput(path: path)
        defer { try? input.close() }
        let text = String(decoding: try readAll(input, limit: 1 << 20, name: path), as: UTF8.self)
        var identities: [AgeIdentity] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                identities.append(try AgeIdentity(line))
            } catch let error as AgeError {
                throw AgeError(.badKey, "\(path) line \(number + 1) is \(error.message); an identity file holds AGE-SECRET-KEY-1… lines (age-keygen -o FILE makes one)")
            }
        }
        guard !identities.isEmpty else {
            throw AgeError(.badKey, "\(path) holds no age identity (AGE-SECRET-KEY-1… line); age-keygen -o FILE makes one")
        }
        return identities
    }
}

extension Bech32.Failure {
    var explanation: String {
        switch self {
        case .mixedCase: return "it mixes upper and lower case"
        case .noSeparator: return "it is too short or lacks the \"1\" separator"
        case .badCharacter(let character): return "it contains \"\(character)\", which Bech32 does not use"
        case .badChecksum: return "its checksum does not match (a character is mistyped or missing)"
        case .badPadding: return "its data does not decode to whole bytes"
        }
    }
}

/// Reads a small file whole, refusing one larger than `limit`.
func readAll(_ input: ByteSource, limit: Int, name: String) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
        if count == 0 { return bytes }
        bytes.append(contentsOf: buffer[..<count])
        guard bytes.count <= limit else { throw AgeError(.badKey, "\(name) is larger than \(limit) bytes: not a key file") }
    }
}
