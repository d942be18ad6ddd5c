import ArgumentParser
import Cellar
import CellarSupport
import Foundation

/// `--identity FILE`: the age identity that decrypts an encrypted export
/// (docs/encryption.md). Reading commands detect encryption by the file's
/// first line, so the option is needed only for encrypted input.
public struct IdentityOptions: ParsableArguments {
    /// The environment variable naming an identity file when `--identity` is not given.
    public static let environmentVariable = "PGCELLAR_AGE_IDENTITY_FILE"

    @Option(name: .customLong("identity"), help: ArgumentHelp(
        "An age identity file (AGE-SECRET-KEY-1… lines, as age-keygen writes) to decrypt an encrypted export; default: the file PGCELLAR_AGE_IDENTITY_FILE names. The key itself never goes on the command line.",
        valueName: "FILE"))
    public var identityFile: String?

    public init() {}

    /// The identities from `--identity` or the environment; none when neither is set.
    public func identities() throws -> [AgeIdentity] {
        let path = identityFile ?? ProcessInfo.processInfo.environment[Self.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let path else { return [] }
        return try AgeIdentity.parseIdentityFile(path: path)
    }

    /// An export to read: a file (random access, decrypted when it is an age
    /// file) or, for `-`, standard input (decrypted as it streams when it is one).
    public func openArchive(_ file: String) throws -> ArchiveInput {
        if file == "-" {
            let input = FileDescriptorInput.standardInput()
            let prefix = try ReplayingByteSource.readPrefix(of: input, count: AgeDecryptingSource.magicLength)
            if AgeDecryptingSource.isEncrypted(prefix: prefix) {
                return .stream(try AgeDecryptingStream(source: input, name: "standard input", alreadyRead: prefix, identities: try identities()))
            }
            return .stream(ReplayingByteSource(prefix: prefix, then: input))
        }
        let input = try FileDescriptorInput(path: file)
        let size = try input.size()
        guard size >= UInt64(AgeDecryptingSource.magicLength),
              AgeDecryptingSource.isEncrypted(prefix: try input.read(at: 0, count: AgeDecryptingSource.magicLength)) else {
            return .randomAccess(input)
        }
        return .randomAccess(try AgeDecryptingSource(source: input, identities: try identities()))
    }
}

/// An opened export: readable at any offset, or only in order.
public enum ArchiveInput {
    case randomAccess(any RandomAccessSource)
    case stream(ByteSource)

    /// The bytes in order, for readers that go through everything once.
    public func sequential() throws -> ByteSource {
        switch self {
        case .stream(let source): return source
        case .randomAccess(let source): return RandomAccessByteSource(source)
        }
    }
}

/// Reads a random-access source front to back in pieces of 4 MiB, whatever
/// the size of the reads asked of it: each piece of a backup in S3 is one
/// ranged GET, so small reads must not each become a request.
final class RandomAccessByteSource: ByteSource {
    private let source: any RandomAccessSource
    private var offset: UInt64 = 0
    private let size: UInt64
    private var piece: [UInt8] = []
    private var used = 0
    static let pieceSize = 4 << 20

    init(_ source: any RandomAccessSource) {
        self.source = source
        size = (try? source.size()) ?? 0
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if used == piece.count {
            let count = Int(min(UInt64(Self.pieceSize), size - offset))
            guard count > 0 else { return 0 }
            piece = try source.read(at: offset, count: count)
            offset += UInt64(count)
            used = 0
        }
        let count = min(buffer.count, piece.count - used)
        piece.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + used, byteCount: count) }
        used += count
        return count
    }
}

/// `--recipient age1…` and `--recipients-file FILE`: encrypt the export with age.
public struct RecipientOptions: ParsableArguments {
    @Option(name: .customLong("recipient"), help: ArgumentHelp(
        "Encrypt the export with age to this X25519 recipient (age1…, from age-keygen; repeatable). `age -d -i KEY FILE | zstd -dc | psql` restores it.",
        valueName: "AGE1…"))
    public var recipients: [String] = []

    @Option(name: .customLong("recipients-file"), help: ArgumentHelp(
        "Encrypt to every recipient listed in FILE (one age1… a line, # comments).", valueName: "FILE"))
    public var recipientsFile: String?

    public init() {}

    public func validate() throws {
        for text in recipients {
            do { _ = try AgeRecipient(text) } catch let error as AgeError { throw ValidationError("--recipient: \(error.message)") }
        }
    }

    /// Every recipient given; empty when the export is not to be encrypted.
    public func parsed() throws -> [AgeRecipient] {
        var all = try recipients.map { try AgeRecipient($0) }
        if let recipientsFile { all += try AgeRecipient.parseRecipientsFile(path: recipientsFile) }
        return all
    }
}
