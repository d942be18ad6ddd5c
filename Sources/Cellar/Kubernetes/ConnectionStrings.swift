import Foundation

/// The escaping rules of the connection strings a Secret carries.
public enum ConnectionStringEscaping {
    /// `value` with every byte outside RFC 3986's unreserved set
    /// (`A–Z a–z 0–9 - . _ ~`) written as `%XX` of its UTF-8 encoding.
    ///
    /// Stricter than any one consumer needs, so that the same text is right
    /// in a libpq URI's user info, path and query, in a JDBC URL's query
    /// (where `+` would otherwise read as a space), and in a shell.
    public static func percentEncoded(_ value: String) -> String {
        var result = ""
        result.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return result
    }

    /// The inverse of ``percentEncoded(_:)``, for any valid percent-encoding;
    /// `nil` when a `%` is not followed by two hex digits or the bytes are not UTF-8.
    public static func percentDecoded<S: StringProtocol>(_ value: S) -> String? {
        var bytes: [UInt8] = []
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// One field of a pgpass line: `\` and `:` escaped with a backslash.
    ///
    /// > If an entry needs to contain : or \, escape this character with \.
    /// (libpq, "The Password File")
    public static func pgpassEscaped(_ value: String) -> String {
        var result = ""
        for character in value {
            if character == ":" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// The host as it goes between `//` and `:port` in a URI: IPv6 addresses
    /// in brackets, anything else percent-encoded (a Unix socket directory
    /// becomes `%2Fvar%2Frun%2Fpostgresql`, which libpq reads back).
    public static func uriHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : percentEncoded(host)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

// MARK: - YAML output

/// `value` as a YAML double-quoted scalar, which reads back as exactly this
/// string whatever it holds: never a number, a boolean, a null or a timestamp.
///
/// Besides `"` and `\`, escapes everything libyaml would not take literally:
/// control characters, and the Unicode line breaks (NEL, LS, PS) and the byte
/// order mark, which YAML 1.1 treats specially.
func yamlDoubleQuoted(_ value: String) -> String {
    var result = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case "\0": result += "\\0"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
            result += "\\x" + hex(scalar.value, digits: 2)
        case "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}":
            result += "\\u" + hex(scalar.value, digits: 4)
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

private func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
