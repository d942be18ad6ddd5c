// MARK: - Fast JSON for entry metadata

/// An archive of thousands of tables describes tens of thousands of entries
/// twice (in entry groups and in the table of contents). Foundation's
/// JSONEncoder spent a third of a 5,000-table export's CPU on that, so entries
/// are written by hand here, byte for byte what `JSONEncoder.archive` (sorted
/// keys, unescaped slashes) writes; the tests compare the two, and check that
/// every stored property is written. Reading still goes through `Decodable`.
extension ArchiveEntry {
    /// Appends the entry's JSON object to `out`.
    func appendJSON(to out: inout [UInt8]) {
        var writer = JSONObjectWriter(&out)
        // Keys in sorted order, as JSONEncoder's .sortedKeys.
        if let blockOffset { writer.number("blockOffset", blockOffset, &out) }
        writer.number("compressedSize", compressedSize, &out)
        if let data {
            writer.key("data", &out)
            data.appendJSON(to: &out)
        }
        writer.key("dependencies", &out)
        out.append(UInt8(ascii: "["))
        for (index, dependency) in dependencies.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONNumber(dependency, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        writer.number("id", id, &out)
        writer.string("kind", kind.rawValue, &out)
        writer.string("name", name, &out)
        if let offset { writer.number("offset", offset, &out) }
        if let owner { writer.string("owner", owner, &out) }
        if let schema { writer.string("schema", schema, &out) }
        writer.string("section", section.rawValue, &out)
        writer.key("sha256", &out)
        appendSHA256JSON(to: &out)
        if let tablespace { writer.string("tablespace", tablespace, &out) }
        writer.number("uncompressedSize", uncompressedSize, &out)
        writer.close(&out)
    }

    /// The stored properties ``appendJSON(to:)`` writes; a test compares
    /// them with the type's, so a new property cannot be silently dropped.
    static let jsonStoredProperties = [
        "id", "kind", "section", "schema", "name", "owner", "dependencies", "dataStorage", "uncompressedSize",
        "compressedSize", "digest", "offset", "blockOffset", "tablespace",
    ]

    /// A JSON array of entries, as `JSONEncoder.archive.encode(entries)`.
    static func jsonArray(_ entries: [ArchiveEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 256)
        appendJSONArray(entries, to: &out)
        return out
    }

    /// As ``jsonArray(_:)``, appended to `out`.
    static func appendJSONArray(_ entries: [ArchiveEntry], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            entry.appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}

extension ArchiveEntry.DataInfo {
    func appendJSON(to out: inout [UInt8]) {
        var writer = JSONObjectWriter(&out)
        writer.number("chunk", chunk, &out)
        if let chunkCount { writer.number("chunkCount", chunkCount, &out) }
        writer.string("copyStatement", copyStatement, &out)
        if let rowDigest { writer.string("rowDigest", rowDigest, &out) }
        writer.number("rows", rows, &out)
        writer.string("tableName", tableName, &out)
        writer.string("tableSchema", tableSchema, &out)
        writer.close(&out)
    }

    static let jsonStoredProperties = ["tableSchema", "tableName", "copyStatement", "chunk", "chunkCount", "rows", "rowDigest"]
}

/// Writes one JSON object's members, in the order given, to `out`.
private struct JSONObjectWriter {
    private var first = true

    init(_ out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
    }

    mutating func key(_ key: StaticString, _ out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func number(_ key: StaticString, _ value: some BinaryInteger, _ out: inout [UInt8]) {
        self.key(key, &out)
        appendJSONNumber(value, to: &out)
    }

    mutating func string(_ key: StaticString, _ value: String, _ out: inout [UInt8]) {
        self.key(key, &out)
        appendJSONString(value, to: &out)
    }

    func close(_ out: inout [UInt8]) {
        out.append(UInt8(ascii: "}"))
    }
}

func appendJSONNumber(_ value: some BinaryInteger, to out: inout [UInt8]) {
    // Digits written in place: the table of contents writes several numbers
    // per entry, twice (group and table of contents), for every entry.
    guard let magnitude = UInt64(exactly: value.magnitude) else {
        out.append(contentsOf: String(value).utf8)
        return
    }
    if value < 0 { out.append(UInt8(ascii: "-")) }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
    var count = 0
    var rest = magnitude
    withUnsafeMutableBytes(of: &digits) { buffer in
        repeat {
            buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            count += 1
        } while rest > 0
        out.append(contentsOf: buffer[(24 - count)...])
    }
}

/// A JSON string as Foundation's JSONEncoder writes it: `"` and `\` escaped,
/// control characters as `\b \f \n \r \t` or `\u00XX`, everything else
/// (slashes, non-ASCII UTF-8) as is.
func appendJSONString(_ value: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var value = value
    value.withUTF8 { bytes in
        // Names and hashes rarely need escaping: copied whole when not.
        guard bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
    }
    out.append(UInt8(ascii: "\""))
}
