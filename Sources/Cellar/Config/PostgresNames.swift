import Foundation

/// Checks on the names pgcellar hands to PostgreSQL, made before anything connects.
///
/// Names that need quoting (upper case, spaces, quotes, non-ASCII) are valid:
/// pgcellar always quotes identifiers. What PostgreSQL cannot take is an empty
/// name, a NUL byte, or more than `NAMEDATALEN - 1` bytes, which it would
/// silently truncate, so that `CREATE ROLE` and a later lookup would disagree.
enum PostgresName {
    /// `NAMEDATALEN - 1` in a stock build.
    static let maximumBytes = 63

    /// Why `name` cannot be a PostgreSQL identifier, or `nil` when it can.
    static func identifierProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.unicodeScalars.contains("\0") { return "must not contain a NUL character" }
        let bytes = name.utf8.count
        if bytes > maximumBytes {
            let characters = name.count
            let length = characters == bytes ? "\(bytes) bytes" : "\(bytes) bytes in UTF-8 (\(characters) characters)"
            return "\(displayQuoted(name)) is \(length) long; PostgreSQL identifiers hold at most \(maximumBytes) bytes and longer ones are silently truncated"
        }
        return nil
    }

    /// Why `name` cannot be a role pgcellar creates, or `nil`.
    static func roleNameProblem(_ name: String) -> String? {
        if let problem = identifierProblem(name) { return problem }
        // CREATE ROLE refuses these (`role name "public" is reserved`); the
        // comparison is case-sensitive, as it is in the server.
        if name.hasPrefix("pg_") {
            return "\(displayQuoted(name)) is reserved: PostgreSQL keeps role names beginning with pg_ for its own roles"
        }
        if name == "public" || name == "none" {
            return "\(displayQuoted(name)) is reserved by PostgreSQL and cannot name a role"
        }
        return nil
    }
}

/// PostgreSQL's character set names and their aliases (`src/common/encnames.c`).
enum PostgresEncoding {
    /// Encodings a database can be created with.
    static let serverEncodings: [String] = [
        "SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004", "UTF8", "MULE_INTERNAL",
        "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9", "LATIN10",
        "WIN1256", "WIN1258", "WIN866", "WIN874", "KOI8R", "WIN1251", "WIN1252",
        "ISO_8859_5", "ISO_8859_6", "ISO_8859_7", "ISO_8859_8",
        "WIN1250", "WIN1253", "WIN1254", "WIN1255", "WIN1257", "KOI8U",
    ]

    /// Encodings only a client may use.
    static let clientOnlyEncodings: [String] = ["SJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB", "SHIFT_JIS_2004"]

    /// Aliases, keyed as PostgreSQL compares them: lower case, letters and digits only.
    private static let aliases: [String: String] = {
        var table: [String: String] = [
            "abc": "WIN1258", "alt": "WIN866", "koi8": "KOI8R", "mskanji": "SJIS", "shiftjis": "SJIS",
            "tcvn": "WIN1258", "tcvn5712": "WIN1258", "vscii": "WIN1258", "unicode": "UTF8", "win": "WIN1251",
            "iso88591": "LATIN1", "iso88592": "LATIN2", "iso88593": "LATIN3", "iso88594": "LATIN4",
            "iso88599": "LATIN5", "iso885910": "LATIN6", "iso885913": "LATIN7", "iso885914": "LATIN8",
            "iso885915": "LATIN9", "iso885916": "LATIN10",
            "win932": "SJIS", "win936": "GBK", "win949": "UHC", "win950": "BIG5",
        ]
        for name in serverEncodings + clientOnlyEncodings {
            table[clean(name)] = name
            if name.hasPrefix("WIN") { table["windows" + name.dropFirst(3)] = name }
        }
        for (alias, name) in table where alias.hasPrefix("win") && !alias.hasPrefix("windows") {
            table["windows" + alias.dropFirst(3)] = name
        }
        return table
    }()

    /// The canonical name of an encoding written any way PostgreSQL accepts
    /// (`utf8`, `UTF-8`, `unicode` → `UTF8`), or `nil` for an unknown one.
    static func canonicalName(_ name: String) -> String? {
        aliases[clean(name)]
    }

    /// > pg_char_to_encoding ignores case and any characters that are not letters or digits.
    private static func clean(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }.map(Character.init))
    }

    /// The encoding a locale name's code set implies (`en_US.UTF-8` → `UTF8`),
    /// or `nil` when it names none that is known (`C`, `POSIX`, `en_US`).
    static func encoding(ofLocale locale: String) -> String? {
        guard let dot = locale.firstIndex(of: ".") else { return nil }
        var codeset = locale[locale.index(after: dot)...]
        if let at = codeset.firstIndex(of: "@") { codeset = codeset[..<at] }
        return canonicalName(String(codeset))
    }
}
