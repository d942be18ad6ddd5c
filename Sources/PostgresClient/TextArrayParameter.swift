/// A `text[]` value in PostgreSQL's array input syntax, for binding a list
/// of names as one parameter (`WHERE rolname = ANY($1::text[])`) instead of
/// building SQL from them.
///
/// Every element is double-quoted, with `"` and `\` backslash-escaped, so
/// commas, braces, spaces and the word NULL stay plain text.
public func textArrayParameter(_ values: [String]) -> String {
    "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        .joined(separator: ",") + "}"
}
