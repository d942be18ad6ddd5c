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
                let (piece, bytes) = try Self.readPiece(oid, offset: offset, size: pieceSize, on: connection)
                if !bytes.isEmpty {
                    if members.last != oid { members.append(oid) }
                    hasher.update(bytes)
                    sql += "SELECT pg_catalog.lo_put('\(oid)', \(offset), \(try connection.escapeLiteral(piece))::bytea);\n"
                    offset += Int64(bytes.count)
                }
                if bytes.count < pieceSize { break }
                if sql.utf8.count + 2 * pieceSize + 200 > limit { try flush() }
            }
            sql += LargeObjectRecord(oid: oid, size: offset, sha256: Hex.encode(hasher.finalize())).line + "\n"
            if members.last != oid { members.append(oid) }
            result.objects += 1
            result.bytes += offset
            if sql.utf8.count + 2 * pieceSize + 200 > limit { try flush() }
        }
        try flush()
        logger.debug("large objects: \(result.objects) objects, \(result.bytes) bytes in \(result.entries) entries; resident memory \(ResidentMemory.description)")
        return result
    }

    /// One piece of at most `size` bytes, as the server's hex text (`\x...`)
    /// and as bytes; fewer than `size` bytes means the object ends there.
    /// The session must have `bytea_output = hex`.
    static func readPiece(_ oid: UInt32, offset: Int64, size: Int, on connection: Connection) throws -> (hex: String, bytes: [UInt8]) {
        let result = try connection.query("SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, $3::pg_catalog.int4)",
                                          ["\(oid)", "\(offset)", "\(size)"])
        guard let text = try result.scalar(), text.hasPrefix("\\x"), let bytes = Hex.decode(String(text.dropFirst(2))) else {
            throw ClientError("large object \(oid): lo_get at offset \(offset) returned no bytea in hex")
        }
        return (text, bytes)
    }
}

/// The comment the export writes after a large object's last piece, which
/// a drill reads back: `-- large object 2121: 5 bytes, SHA-256 2cf2...`.
struct LargeObjectRecord: Equatable {
    var oid: UInt32
    var size: Int64
    /// Of the object's bytes, lowercase hex.
    var sha256: String

    static let prefix = "-- large object "

    var line: String { "\(Self.prefix)\(oid): \(size) bytes, SHA-256 \(sha256)" }

    /// A line as written by ``line``, or nil.
    init?(line: Substring) {
        let fields = line.dropFirst(Self.prefix.count).split(separator: " ")
        guard line.hasPrefix(Self.prefix), fields.count == 5, fields[0].hasSuffix(":"), fields[2] == "bytes,", fields[3] == "SHA-256",
              let oid = UInt32(fields[0].dropLast()), let size = Int64(fields[1]), fields[4].count == 64 else { return nil }
        self.init(oid: oid, size: size, sha256: String(fields[4]))
    }

    init(oid: UInt32, size: Int64, sha256: String) {
        self.oid = oid
        self.size = size
        self.sha256 = sha256
    }
}
