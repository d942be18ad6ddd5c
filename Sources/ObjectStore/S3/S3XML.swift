/// An XML element as S3 answers use them: a name, child elements, text.
/// S3's documents are small (1,000 keys a page), so a tree is fine.
///
/// Parsed by ``XMLReader`` below rather than FoundationXML: FoundationXML
/// made every command, export included, load libxml2 and the system's ICU
/// (libicuuc, libicudata) at start, for documents that use none of what
/// those are for. (The resident memory it saved pgcellar is under 1 MiB; in
/// a small program it was 6.5 MiB.)
final class XMLNode {
    let name: String
    var children: [XMLNode] = []
    var text = ""

    init(name: String) {
        self.name = name
    }

    /// The first child named `name`.
    func child(_ name: String) -> XMLNode? {
        children.first { $0.name == name }
    }

    /// Every child named `name`, in document order.
    func children(_ name: String) -> [XMLNode] {
        children.filter { $0.name == name }
    }

    /// The text of the first child named `name`.
    func value(_ name: String) -> String? {
        child(name)?.text
    }

    /// Parses a document; nil when it is not well-formed XML, or uses what
    /// S3 never sends (a DOCTYPE, an entity other than the five predefined
    /// ones and character references).
    static func parse(_ bytes: [UInt8]) -> XMLNode? {
        var reader = XMLReader(bytes)
        return reader.document()
    }
}

/// A reader for the XML that S3-compatible servers answer with: elements
/// (attributes read past and dropped; namespaces kept as written, so S3's
/// one default namespace leaves names bare), text with the predefined
/// entities and character references, CDATA, comments and processing
/// instructions (skipped). Elements must nest and close by name; anything
/// after the root but whitespace, comments and processing instructions is an
/// error. A DOCTYPE is refused outright: without it there is nothing to
/// expand, so no document costs more than its own length.
struct XMLReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() -> XMLNode? {
        // A byte order mark, then the prolog.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        guard skipMisc() else { return nil }
        guard let root = element() else { return nil }
        guard skipMisc(), position == bytes.count else { return nil }
        return root
    }

    // MARK: - Elements

    /// The deepest nesting read: S3's answers go four levels deep. A tree
    /// nested deeper would be released recursively, so a hostile answer
    /// nested a hundred thousand deep could exhaust the stack.
    static let maximumDepth = 64

    /// The element starting at `position` (at its `<`), with its content.
    private mutating func element() -> XMLNode? {
        guard let root = startTag() else { return nil }
        if root.selfClosing { return root.node }
        var stack = [root.node]
        while let current = stack.last {
            guard position < bytes.count else { return nil }
            if bytes[position] != UInt8(ascii: "<") {
                guard let text = characters() else { return nil }
                current.text += text
            } else if matches("</") {
                position += 2
                guard let name = name(), name == current.name else { return nil }
                skipSpace()
                guard consume(UInt8(ascii: ">")) else { return nil }
                stack.removeLast()
            } else if matches("<!--") {
                guard skipComment() else { return nil }
            } else if matches("<![CDATA[") {
                position += 9
                guard let end = find("]]>") else { return nil }
                guard let text = string(bytes[position..<end]) else { return nil }
                current.text += text
                position = end + 3
            } else if matches("<?") {
                guard skipProcessingInstruction() else { return nil }
            } else {
                guard let child = startTag() else { return nil }
                current.children.append(child.node)
                if !child.selfClosing {
                    guard stack.count < Self.maximumDepth else { return nil }
                    stack.append(child.node)
                }
            }
        }
        return root.node
    }

    /// `<name attributes...>` or `<name .../>`.
    private mutating func startTag() -> (node: XMLNode, selfClosing: Bool)? {
        guard consume(UInt8(ascii: "<")), let name = name() else { return nil }
        while true {
            let hadSpace = skipSpace()
            guard position < bytes.count else { return nil }
            if consume(UInt8(ascii: ">")) { return (XMLNode(name: name), false) }
            if matches("/>") {
                position += 2
                return (XMLNode(name: name), true)
            }
            // An attribute: name = "value" or 'value', after a space.
            guard hadSpace, self.name() != nil else { return nil }
            skipSpace()
            guard consume(UInt8(ascii: "=")) else { return nil }
            skipSpace()
            guard position < bytes.count else { return nil }
            let quote = bytes[position]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
            position += 1
            guard let end = bytes[position...].firstIndex(of: quote) else { return nil }
            guard !bytes[position..<end].contains(UInt8(ascii: "<")) else { return nil }
            position = end + 1
        }
    }

    /// An element or attribute name: up to a space, `/`, `>`, `=` or `<`;
    /// never starting with `!` or `?` (a DOCTYPE or a declaration inside
    /// the root is refused here).
    private mutating func name() -> String? {
        let start = position
        guard position < bytes.count, bytes[position] != UInt8(ascii: "!"), bytes[position] != UInt8(ascii: "?") else {
            return nil
        }
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "/"), UInt8(ascii: ">"), UInt8(ascii: "="),
                UInt8(ascii: "<"), UInt8(ascii: "&"), UInt8(ascii: "\""), UInt8(ascii: "'"):
                guard position > start else { return nil }
                return string(bytes[start..<position])
            default:
                position += 1
            }
        }
        return nil
    }

    // MARK: - Text

    /// Character data up to the next `<`, with its references replaced.
    private mutating func characters() -> String? {
        let end = bytes[position...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
        var decoded: [UInt8] = []
        decoded.reserveCapacity(end - position)
        while position < end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "&") else {
                decoded.append(byte)
                position += 1
                continue
            }
            guard let semicolon = bytes[position..<end].firstIndex(of: UInt8(ascii: ";")),
                semicolon - position <= 12,
                let reference = string(bytes[(position + 1)..<semicolon]),
                let replacement = Self.replacement(of: reference)
            else { return nil }
            decoded.append(contentsOf: Array(replacement.utf8))
            position = semicolon + 1
        }
        return string(decoded[...])
    }

    /// What `&reference;` stands for: a predefined entity or a character.
    private static func replacement(of reference: String) -> String? {
        switch reference {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        let value: UInt32?
        if reference.hasPrefix("#x") {
            value = UInt32(reference.dropFirst(2), radix: 16)
        } else if reference.hasPrefix("#") {
            value = UInt32(reference.dropFirst(), radix: 10)
        } else {
            value = nil
        }
        guard let value, value != 0, let scalar = Unicode.Scalar(value) else { return nil }
        return String(Character(scalar))
    }

    // MARK: - What is skipped

    /// Whitespace, comments and processing instructions (the XML
    /// declaration among them) between the document's parts; false on a
    /// DOCTYPE or a comment or instruction that does not end.
    private mutating func skipMisc() -> Bool {
        while true {
            skipSpace()
            if matches("<!--") {
                guard skipComment() else { return false }
            } else if matches("<?") {
                guard skipProcessingInstruction() else { return false }
            } else {
                return !matches("<!")
            }
        }
    }

    private mutating func skipComment() -> Bool {
        position += 4
        guard let end = find("-->") else { return false }
        position = end + 3
        return true
    }

    private mutating func skipProcessingInstruction() -> Bool {
        position += 2
        guard let end = find("?>") else { return false }
        position = end + 2
        return true
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = position
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        return position > start
    }

    // MARK: - Bytes

    private func matches(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { literal in
            bytes.count - position >= literal.count
                && literal.elementsEqual(bytes[position..<(position + literal.count)])
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Where `literal` next starts, from `position`.
    private func find(_ literal: StaticString) -> Int? {
        literal.withUTF8Buffer { literal -> Int? in
            guard let first = literal.first else { return nil }
            var index = position
            while let candidate = bytes[index...].firstIndex(of: first) {
                if bytes.count - candidate >= literal.count,
                    literal.elementsEqual(bytes[candidate..<(candidate + literal.count)])
                {
                    return candidate
                }
                index = candidate + 1
            }
            return nil
        }
    }

    /// The bytes as text; nil when they are not UTF-8.
    private func string(_ slice: ArraySlice<UInt8>) -> String? {
        String(validating: slice, as: UTF8.self)
    }
}

extension String {
    /// Escapes text for an XML element's content.
    var xmlEscaped: String {
        var result = ""
        for character in self {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
