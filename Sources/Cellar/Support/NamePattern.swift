import Foundation

/// A `--table` pattern in psql's manner: `name` or `schema.name`, `*` and
/// `?` as wildcards, unquoted letters folded to lower case.
struct NamePattern {
    let schema: NSRegularExpression?
    let name: NSRegularExpression

    init(_ pattern: String) {
        var parts: [String] = [""]
        var quoted = false
        for character in pattern {
            if character == "\"" { quoted.toggle(); continue }
            if character == ".", !quoted { parts.append(""); continue }
            parts[parts.count - 1].append(quoted ? String(character) : character.lowercased())
        }
        func regex(_ glob: String) -> NSRegularExpression {
            var expression = "^"
            for character in glob {
                switch character {
                case "*": expression += ".*"
                case "?": expression += "."
                default: expression += NSRegularExpression.escapedPattern(for: String(character))
                }
            }
            return try! NSRegularExpression(pattern: expression + "$")
        }
        name = regex(parts.last ?? "")
        schema = parts.count > 1 ? regex(parts[parts.count - 2]) : nil
    }

    func matches(schema: String, name: String) -> Bool {
        func test(_ regex: NSRegularExpression, _ text: String) -> Bool {
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        if let schemaRegex = self.schema, !test(schemaRegex, schema) { return false }
        return test(self.name, name)
    }
}
