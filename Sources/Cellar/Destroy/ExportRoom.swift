#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CellarSupport
import Foundation

/// The checks a destroy makes on `--export-to` before it revokes or
/// terminates anything: that a file can be created there, and that the
/// filesystem has room for an estimate of the export.
///
/// The estimate is `pg_database_size` times ``defaultRatio`` (0.5) unless
/// `--export-room-ratio` says otherwise. `pg_database_size` counts indexes,
/// free space and the catalogs, which the export does not hold as data, and
/// the export is zstd-compressed: on the benchmark (docs in the README) the
/// archive was about 15% of the database's size. Half the size leaves room
/// for data that compresses badly (random `bytea`, already-compressed
/// values), whose archive approaches the size of its heap.
public enum ExportRoom {
    public static let defaultRatio = 0.5

    /// - Parameters:
    ///   - path: `--export-to`.
    ///   - databaseBytes: The database's `pg_database_size`.
    ///   - ratio: The share of `databaseBytes` the export is expected to
    ///     take; 0 skips the room check (the writability check remains).
    /// - Throws: ``DestroyError`` saying what is wrong and what to do.
    public static func check(path: String, databaseBytes: Int64, ratio: Double) throws {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DestroyError("the directory of --export-to \(path) does not exist: create \(directory), or choose another --export-to")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DestroyError("--export-to \(path) is a directory: name the export file, for example \(path)/export.sql.zst")
        }
        // The export is written exactly so: a temporary file beside it.
        do {
            let probe = try AtomicFileWriter(path: path, mode: 0o600, bufferCapacity: 0)
            probe.abort()
        } catch {
            throw DestroyError("cannot write the export at \(path): \(error)")
        }
        guard ratio > 0 else { return }
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else {
            throw DestroyError("cannot read the free space of \(directory) (statvfs: \(String(cString: strerror(errno)))); --export-room-ratio 0 skips this check")
        }
        // > f_bavail: Number of free blocks for unprivileged users; f_frsize: Fragment size.
        let free = Double(stats.f_bavail) * Double(stats.f_frsize)
        let needed = Double(databaseBytes) * ratio
        guard free >= needed else {
            throw DestroyError("the filesystem of \(directory) has \(bytes(free)) free, and the export needs about \(bytes(needed)) "
                               + "(pg_database_size \(bytes(Double(databaseBytes))) × \(ratio)); nothing was revoked. Free space there, "
                               + "choose another --export-to, or lower --export-room-ratio if the data compresses well (0 skips this check)")
        }
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = value
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) B" : String(format: "%.1f %@", value, units[unit])
    }
}
