import CellarSupport
import Foundation
import Logging
import PostgresClient

/// Writes the bytes of the exported large objects as `BLOBS` data entries,
/// read on the export's main connection, inside its snapshot.
///
/// Each entry is plain SQL, `SELECT pg_catalog.lo_put(oid, offset, bytes)`
/// statements of at most `pieceSize` bytes each: the restore runs entries in
/// parallel, and `zstd -dc | psql` runs them as they come. Memory stays flat:
/// an entry holds at most about `chunkSize` bytes of SQL, many small objects
/// share one entry, and a large one spans as many entries as it needs (their
/// pieces start at multiples of the 2 kB page, so that two entries written in
/// parallel never share a page of pg_largeobject).
///
/// After an object's last piece a comment records its size and the SHA-256
/// of its bytes, for whoever checks a restore (`lo_get` on the target).
struct LargeObjectData {
    let connection: Connection
    let writer: ArchiveWriter
    let chunkSize: Int
    let logger: Logger

    /// Bytes read and written by one `lo_get`/`lo_put`: a multiple of
    /// PostgreSQL's large-object page (LOBLKSIZE, 2048 bytes).
    var pieceSize: Int { max(2048, min(128 * 1024, chunkSize / 4) / 2048 * 2048) }

    struct Result {
        var objects = 0
        var entries = 0
        var bytes: Int64 = 0
    }

    /// - Parameter oids: the objects, in the order their entries are written.
    func write(_ oids: [UInt32], ids: inout EntryIDs) throws -> Result {
        var result = Result()
        guard !oids.isEmpty else { return result }
        try connection.execute("SET bytea_output = hex")
        var sql = ""
        var members: [UInt32] = []
        let limit = max(chunkSize, 4 * pieceSize)

        func flush() throws {
            guard !members.isEmpty else { return }
            let first = members.first!, last = members.last!
            let name = first == last ? "LARGE OBJECT \(first)" : "LARGE OBJECTS \(first)..\(last)"
            let dependencies = members.compactMap { ids.id(of: ObjectKey(catalog: "pg_largeobject", oid: $0)) }
            let entry = ArchiveEntry(id: ids.next(), kind: .largeObjectData, section: .data, name: name,
                                     dependencies: Array(Set(dependencies)).sorted())
            try writer.append(entry, sql: sql + "\n")
            result.entries += 1
            sql = ""
            members = []
        }

        for oid in oids {
            let hasher = try SHA256()
            var offset: Int64 = 0
            while true {
                let piece = try read(oid, offset: offset)
                guard let bytes = Hex.decode(String(piece.dropFirst(2))) else {
                    throw ClientError("large object \(oid): lo_get at offset \(offset) returned malformed hex")
                }
                if !bytes.isEmpty {
                    if members.last != oid { members.append(oid) }
                    hasher.update(bytes)
                    sql += "SELECT pg_catalog.lo_put('\(oid)', \(offset), \(try connection.escapeLiteral(piece))::bytea);\n"
                    offset += Int64(bytes.count)
                }
                if bytes.count < pieceSize { break }
                if sql.utf8.count + 2 * pieceSize + 200 > limit { try flush() }
            }
            sql += "-- large object \(oid): \(offset) bytes, SHA-256 \(Hex.encode(hasher.finalize()))\n"
            if members.last != oid { members.append(oid) }
            result.objects += 1
            result.bytes += offset
            if sql.utf8.count + 2 * pieceSize + 200 > limit { try flush() }
        }
        try flush()
        logger.debug("large objects: \(result.objects) objects, \(result.bytes) bytes in \(result.entries) entries; resident memory \(ResidentMemory.description)")
        return result
    }

    /// One piece as the server's hex text, `\x...`.
    private func read(_ oid: UInt32, offset: Int64) throws -> String {
        let result = try connection.query("SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, $3::pg_catalog.int4)",
                                          ["\(oid)", "\(offset)", "\(pieceSize)"])
        guard let text = try result.scalar(), text.hasPrefix("\\x") else {
            throw ClientError("large object \(oid): lo_get at offset \(offset) returned no bytea in hex")
        }
        return text
    }
}
