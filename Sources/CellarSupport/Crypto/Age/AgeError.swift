/// Why an age-encrypted file could not be written or read.
///
/// Every description says what is wrong and what to do; none contains a key.
public struct AgeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure, for callers that react differently.
    public struct Kind: Hashable, Sendable {
        public let rawValue: String
        /// A recipient or identity string that is not a valid key.
        public static let badKey = Kind(rawValue: "bad-key")
        /// The file's header is not age v1 or is damaged.
        public static let badHeader = Kind(rawValue: "bad-header")
        /// None of the identities given opens the file (or none was given).
        public static let noMatchingIdentity = Kind(rawValue: "no-matching-identity")
        /// The ciphertext ends early, was altered, or has bytes after its end.
        public static let damaged = Kind(rawValue: "damaged")
    }

    public var kind: Kind
    public var message: String
    /// Fingerprints (``AgeRecipient/fingerprint``) of the recipients the
    /// file was encrypted to, when the caller knows them (a backup
    /// manifest); age headers do not name their recipients.
    public var recipientFingerprints: [String]

    public init(_ kind: Kind, _ message: String, recipientFingerprints: [String] = []) {
        self.kind = kind
        self.message = message
        self.recipientFingerprints = recipientFingerprints
    }

    /// What to tell a user whose identities do not open a file.
    public static let identityHint = "pass the identity file that matches with --identity FILE, or set PGCELLAR_AGE_IDENTITY_FILE"

    /// The same failure, now naming the recipients the caller knows the file
    /// was encrypted to.
    public func naming(recipientFingerprints fingerprints: [String]) -> AgeError {
        var copy = self
        copy.recipientFingerprints = fingerprints
        return copy
    }

    public var description: String {
        guard kind == .noMatchingIdentity else { return message }
        var text = message
        if !recipientFingerprints.isEmpty {
            text += " (it was encrypted to the recipient" + (recipientFingerprints.count == 1 ? " " : "s ")
                + recipientFingerprints.joined(separator: ", ") + ")"
        }
        return text + "; " + Self.identityHint
    }
}
