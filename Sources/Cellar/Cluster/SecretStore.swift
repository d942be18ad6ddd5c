import CellarSupport
import Foundation

/// Reads and writes Secret manifests on disk: mode 0600, written atomically
/// (new file, fsync, rename, directory fsync), never seen half-written.
public enum SecretStore {
    /// The manifest at `path`, or nil when there is none.
    public static func read(path: String) throws -> SecretManifest.Parsed? {
        try SecretManifest.load(path: path)
    }

    /// Writes `manifest` to `path`, creating its directory when needed.
    public static func write(_ manifest: SecretManifest, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        try AtomicFile.write(manifest.render(), to: path, mode: 0o600)
    }
}
