import CellarSupport
import Foundation

/// An object read by ranged GETs, one request per read, so a parallel
/// restore reads entries concurrently as it does from a file.
///
/// `Sendable`: it holds only immutable values and the store, whose handle
/// pool gives each read an easy handle of its own.
final class S3ObjectReader: RandomAccessSource {
    let store: S3Store
    let key: String
    let objectSize: UInt64

    init(store: S3Store, key: String, size: UInt64) {
        self.store = store
        self.key = key
        self.objectSize = size
    }

    var name: String { store.target(key) }

    func size() throws -> UInt64 { objectSize }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        precondition(count >= 0, "a negative read")
        guard count > 0 else { return [] }
        guard offset + UInt64(count) <= objectSize else {
            throw S3Error(
                operation: "read", target: name, code: .init(rawValue: "InvalidRange"),
                message: "\(count) bytes at offset \(offset) run past the end of the \(objectSize)-byte object (truncated?)")
        }
        let last = offset + UInt64(count) - 1
        let response = try store.send(
            "read bytes \(offset)-\(last) of", method: "GET", key: key, headers: [("Range", "bytes=\(offset)-\(last)")])
        guard response.status == 206 || (response.status == 200 && offset == 0),
            response.body.count >= count
        else {
            throw S3Error(
                operation: "read", target: name, code: .malformedResponse, httpStatus: response.status,
                message: "asked for \(count) bytes at offset \(offset), got \(response.body.count)")
        }
        // A store that ignores Range answers 200 with the whole object.
        return response.body.count == count ? response.body : Array(response.body.prefix(count))
    }
}
