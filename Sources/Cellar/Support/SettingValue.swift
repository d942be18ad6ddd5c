import PostgresClient

/// One configuration setting stored for a database (`pg_db_role_setting`):
/// `ALTER DATABASE d SET name = value`, or with `role`,
/// `ALTER ROLE role IN DATABASE d SET name = value`.
///
/// The stored text is catalog data that any role with CONNECT can shape
/// through its own per-database settings, so it never enters SQL as text:
/// ``statement(database:)`` renders it as pg_dump's `makeAlterConfigCommand`
/// does (src/bin/pg_dump/dumputils.c), every value a quoted literal.
struct SettingValue: Sendable, Equatable {
    /// The role the setting applies to; nil for everyone.
    var role: String?
    var name: String
    /// The value as stored, e.g. `8MB`, or `"$user", public` for a list.
    var value: String

    init(role: String? = nil, name: String, value: String) {
        self.role = role
        self.name = name
        self.value = value
    }

    init(_ setting: ArchiveHeader.Setting) {
        self.init(role: setting.role, name: setting.name, value: setting.value)
    }

    /// Splits one `pg_db_role_setting.setconfig` item, `name=value`, at its
    /// first `=`; nil without one (pg_dump skips such an item too).
    init?(role: String?, configItem: String) {
        guard let equals = configItem.firstIndex(of: "=") else { return nil }
        self.init(role: role, name: String(configItem[..<equals]), value: String(configItem[configItem.index(after: equals)...]))
    }

    // MARK: - Lists

    /// The variables marked `GUC_LIST_QUOTE` in the server, as pg_dump's
    /// `variable_is_guc_list_quote` lists them: their stored value is a list
    /// whose items the server already quoted as identifiers.
    static let listQuotedVariables: Set<String> = [
        "local_preload_libraries", "search_path", "session_preload_libraries",
        "shared_preload_libraries", "temp_tablespaces", "unix_socket_directories",
    ]

    /// Whether the value is a list of quoted items (pg_dump compares the name
    /// with `pg_strcasecmp`: ASCII letters only, without regard to case).
    var isList: Bool {
        let folded = String(decoding: name.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        return Self.listQuotedVariables.contains(folded)
    }

    /// The items of a list value, as pg_dump's `SplitGUCList` finds them:
    /// separated by commas, whitespace around them ignored, a double-quoted
    /// item taken verbatim with `""` standing for `"`, an unquoted one up to
    /// the next comma or whitespace and not folded to lower case. nil when
    /// the text is not such a list.
    static func splitList(_ text: String) -> [String]? {
        // isspace() in the C locale, as SplitGUCList uses it.
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        let bytes = Array(text.utf8)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var position = 0
        func skipSpaces() { while position < bytes.count, isSpace(bytes[position]) { position += 1 } }

        var items: [String] = []
        skipSpaces()
        if position == bytes.count { return [] }  // SplitGUCList allows an empty string
        while true {
            var item: [UInt8] = []
            if bytes[position] == quote {
                position += 1
                while true {
                    guard position < bytes.count else { return nil }  // mismatched quotes
                    if bytes[position] == quote {
                        if position + 1 < bytes.count, bytes[position + 1] == quote {
                            item.append(quote)
                            position += 2
                            continue
                        }
                        position += 1
                        break
                    }
                    item.append(bytes[position])
                    position += 1
                }
            } else {
                let start = position
                while position < bytes.count, bytes[position] != comma, !isSpace(bytes[position]) { position += 1 }
                guard position > start else { return nil }  // empty unquoted item
                item = Array(bytes[start..<position])
            }
            items.append(String(decoding: item, as: UTF8.self))
            skipSpaces()
            if position == bytes.count { return items }
            guard bytes[position] == comma else { return nil }
            position += 1
            skipSpaces()
            // A trailing comma leaves an empty unquoted item: refused above.
            if position == bytes.count { return nil }
        }
    }

    // MARK: - SQL

    /// The value as SQL: one quoted literal, or for a list variable each item
    /// a quoted literal, comma-separated (the server quotes each item as an
    /// identifier again when it stores them).
    ///
    /// - Throws: ``SettingValue/Unrenderable`` when a list value does not
    ///   split into at least one item; pg_dump would write `SET x TO ;` there.
    func valueSQL() throws -> String {
        guard isList else { return try SQLQuoting.literal(value) }
        guard let items = Self.splitList(value), !items.isEmpty else { throw Unrenderable(setting: self) }
        return try items.map(SQLQuoting.literal).joined(separator: ", ")
    }

    /// `ALTER DATABASE "d"` or `ALTER ROLE "r" IN DATABASE "d"`.
    func alterTarget(database: String) throws -> String {
        let quotedDatabase = try SQLQuoting.identifier(database)
        if let role { return "ALTER ROLE \(try SQLQuoting.identifier(role)) IN DATABASE \(quotedDatabase)" }
        return "ALTER DATABASE \(quotedDatabase)"
    }

    /// `ALTER ... SET "name" TO <value>` for `database`.
    func statement(database: String) throws -> String {
        "\(try alterTarget(database: database)) SET \(try SQLQuoting.identifier(name)) TO \(try valueSQL())"
    }

    /// `ALTER ... SET "name" FROM CURRENT` for `database`: stores the
    /// session's current value of the variable byte for byte, after
    /// `set_config(name, value, true)` made it the stored text (see
    /// `RestorePlan.DatabaseStep.setting`).
    func fromCurrentStatement(database: String) throws -> String {
        "\(try alterTarget(database: database)) SET \(try SQLQuoting.identifier(name)) FROM CURRENT"
    }

    /// For messages: `search_path for role app`.
    var displayName: String { role.map { "\(name) for role \($0)" } ?? name }

    /// A list value that pg_dump's rendering cannot state.
    struct Unrenderable: Error, CustomStringConvertible {
        var setting: SettingValue
        var description: String { "the stored value of setting \(setting.displayName) is not a list pg_dump could restate" }
    }
}
