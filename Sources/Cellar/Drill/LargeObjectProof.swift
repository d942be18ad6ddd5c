import CellarSupport
import Foundation
import Logging
import PostgresClient

/// A drill's large-object proof: each large object the archive holds is
/// read back from the scratch database, a piece at a time, and its size and
/// the SHA-256 of its bytes compared with what the export recorded after
/// the object's last piece (`-- large object OID: N bytes, SHA-256 HEX`).
struct LargeObjectProof {
    let archive: ArchiveReader
    let logger: Logger

    /// Bytes read by one `lo_get`: a multiple of the 2 kB large-object page,
    /// so memory stays flat however large an object is.
    static let pieceSize = 128 * 1024

    /// The archive's large objects, in oid order, from its `BLOBS` entries.
    func expected() throws -> [LargeObjectRecord] {
        var objects: [LargeObjectRecord] = []
        for entry in archive.entries where entry.kind == .largeObjectData {
            // An entry holds about a chunk of SQL at most (LargeObjectData).
            for line in try archive.sql(entry).split(separator: "\n") where line.hasPrefix(LargeObjectRecord.prefix) {
                guard let object = LargeObjectRecord(line: line) else {
                    throw DrillError("the archive's entry \(entry.name) records a large object in a form this pgcellar does not read: \(line.prefix(120))")
                }
                objects.append(object)
            }
        }
        return objects.sorted { $0.oid < $1.oid }
    }

    /// Reads every expected object back on `connection` (the scratch
    /// database) inside a read-only transaction of its own.
    func run(on connection: Connection, into report: inout DrillReport) throws {
        let objects = try expected()
        guard !objects.isEmpty else { return }
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.execute("SET LOCAL bytea_output = hex")
        let present = Set(try connection.query("SELECT oid::pg_catalog.int8 AS oid FROM pg_catalog.pg_largeobject_metadata").rows
            .compactMap { $0["oid"].flatMap(UInt32.init) })
        for object in objects {
            let name = "LARGE OBJECT \(object.oid)"
            guard present.contains(object.oid) else {
                report.mismatches.append(DrillMismatch(kind: .largeObject, object: name, detail: "in the archive but missing from the restored database"))
                continue
            }
            let (size, sha256) = try read(object.oid, on: connection)
            report.largeObjects += 1
            report.largeObjectBytes += size
            var problems: [String] = []
            if size != object.size { problems.append("the archive holds \(object.size) bytes, the restore gave back \(size)") }
            if sha256 != object.sha256 { problems.append("SHA-256 \(sha256) differs from the archive's \(object.sha256): its bytes came back changed") }
            if !problems.isEmpty {
                report.mismatches.append(DrillMismatch(kind: .largeObject, object: name, detail: problems.joined(separator: "; ")))
            }
        }
        logger.debug("large objects: \(report.largeObjects) read back, \(report.largeObjectBytes) bytes")
    }

    /// The object's size and the SHA-256 of its bytes, in hex.
    private func read(_ oid: UInt32, on connection: Connection) throws -> (Int64, String) {
        let hasher = try SHA256()
        var offset: Int64 = 0
        while true {
            let bytes = try LargeObjectData.readPiece(oid, offset: offset, size: Self.pieceSize, on: connection).bytes
            hasher.update(bytes)
            offset += Int64(bytes.count)
            if bytes.count < Self.pieceSize { return (offset, Hex.encode(hasher.finalize())) }
        }
    }
}
