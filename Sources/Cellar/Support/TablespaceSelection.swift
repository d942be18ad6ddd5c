import PostgresClient

/// How an archive entry's SQL selects its tablespace, as pg_dump's
/// `_selectTablespace` does before each TOC entry with a tablespace.
///
/// pg_dump keeps the tablespace out of the DDL (`CREATE TABLE` names none)
/// and sets `default_tablespace` before the statement, so that
/// `--no-tablespaces` can restore the very same DDL into the target's
/// default. An archive's SQL stream is read by `zstd -dc | psql` as well as
/// entry by entry, on several connections, in any order: so an entry with a
/// tablespace carries its own selection, and sets it back after itself:
///
/// ```
/// SET default_tablespace = "fast";
///
/// CREATE TABLE public.orders (...);
///
/// SET default_tablespace = '';
///
/// ```
///
/// Every entry without one runs with the preamble's `SET default_tablespace
/// = ''`. `restore --no-tablespaces` takes the two statements off again
/// (``statements(of:in:)``); the drill compares what lies between.
enum TablespaceSelection {
    /// The statement that selects `tablespace`, as pg_dump writes it
    /// (the name as an identifier).
    static func select(_ tablespace: String) throws -> String {
        "SET default_tablespace = \(try SQLQuoting.identifier(tablespace));\n\n"
    }

    /// Back to the database's default, as the preamble leaves it.
    static let reset = "SET default_tablespace = '';\n\n"

    /// `sql` inside the selection of `tablespace`; `sql` itself for nil.
    static func wrap(_ sql: String, in tablespace: String?) throws -> String {
        guard let tablespace else { return sql }
        return try select(tablespace) + sql + reset
    }

    /// The entry's own statements, without the selection ``wrap(_:in:)``
    /// put around them; `sql` unchanged when it has none (an older
    /// archive, or statements already unwrapped).
    static func statements(of sql: String, in tablespace: String?) -> String {
        guard let tablespace, let prefix = try? select(tablespace),
              sql.hasPrefix(prefix), sql.hasSuffix(reset), sql.utf8.count >= prefix.utf8.count + reset.utf8.count else { return sql }
        let bytes = Array(sql.utf8)
        return String(decoding: bytes[prefix.utf8.count..<(bytes.count - reset.utf8.count)], as: UTF8.self)
    }
}
