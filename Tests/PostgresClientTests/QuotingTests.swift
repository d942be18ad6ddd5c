import Testing
import PostgresClient

@Suite("Quoting through libpq")
struct QuotingTests {
    @Test("awkward identifiers come out quoted and round-trippable", arguments: [
        ("beersystem_admin", "\"beersystem_admin\""),
        ("BeerSystem", "\"BeerSystem\""),
        ("beer system", "\"beer system\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("bière_名前", "\"bière_名前\""),
        ("", "\"\""),
    ])
    func identifiers(name: String, expected: String) throws {
        #expect(try SQLQuoting.identifier(name) == expected)
    }

    @Test("a 63-byte identifier keeps every byte")
    func longIdentifier() throws {
        let name = String(repeating: "é", count: 31) + "x" // 62 + 1 bytes
        #expect(name.utf8.count == 63)
        #expect(try SQLQuoting.identifier(name) == "\"\(name)\"")
    }

    @Test("literals double quotes and mark backslashes")
    func literals() throws {
        #expect(try SQLQuoting.literal("O'Brien") == "'O''Brien'")
        #expect(try SQLQuoting.literal("plain") == "'plain'")
        #expect(try SQLQuoting.literal("bière") == "'bière'")
        // Without a server libpq assumes non-standard strings, so a backslash
        // turns the literal into E'...' with the backslash doubled: the same
        // value on every server.
        #expect(try SQLQuoting.literal(#"a\b"#) == #" E'a\\b'"#)
    }

    @Test("a NUL byte is refused, not truncated")
    func nul() {
        #expect(throws: ClientError.self) { try SQLQuoting.identifier("a\u{0}b") }
    }

    @Test("qualified names quote both parts")
    func qualified() throws {
        #expect(try SQLQuoting.qualified("Sales Data", "order") == "\"Sales Data\".\"order\"")
    }
}

@Suite("Connection strings")
struct ConnectionInfoTests {
    @Test("a URI's parts are read and its password is never shown")
    func uriRedactsPassword() throws {
        let info = try ConnectionInfo("postgresql://app%40x:s3cr%3At@db.example:6543/beer?sslmode=require")
        #expect(info.host == "db.example")
        #expect(info.port == "6543")
        #expect(info.user == "app@x")
        #expect(info.database == "beer")
        #expect(info.options["sslmode"] == "require")
        #expect(info.hasPassword)
        #expect(!info.description.contains("s3cr"))
        #expect(info.description.contains("password=<redacted>"))
    }

    @Test("a conninfo string is parsed the same way")
    func conninfo() throws {
        let info = try ConnectionInfo("host=127.0.0.1 port=5432 dbname='my db' user=postgres")
        #expect(info.database == "my db")
        #expect(!info.hasPassword)
    }

    @Test("a malformed string is an error with libpq's reason")
    func malformed() {
        #expect {
            try ConnectionInfo("host=127.0.0.1 port")
        } throws: { error in
            String(describing: error).contains("invalid connection string")
        }
    }
}

@Suite("Errors")
struct ErrorDescriptionTests {
    @Test("a connection error names host, port, user and database")
    func connectionError() {
        let error = ConnectionError(host: "127.0.0.1", port: "5432", user: "beersystem_admin", database: "beersystem_stage",
                                    reason: "FATAL:  password authentication failed for user \"beersystem_admin\"",
                                    advice: "check the Secret written by the last rotation")
        #expect(error.isAuthenticationFailure)
        #expect(error.description.hasPrefix("cannot connect to 127.0.0.1:5432 as beersystem_admin"))
        #expect(error.description.contains("check the Secret"))
    }

    @Test("SQLSTATE codes compare by value")
    func codes() {
        #expect(PostgresError.Code("42601") == .syntaxError)
        #expect(PostgresError.Code.uniqueViolation.rawValue == "23505")
    }
}

@Suite("text[] parameters")
struct TextArrayParameterTests {
    @Test("names with quotes, backslashes, commas and braces stay one element each")
    func awkwardElements() {
        #expect(textArrayParameter([]) == "{}")
        #expect(textArrayParameter(["a", "NULL", "b c"]) == #"{"a","NULL","b c"}"#)
        #expect(textArrayParameter([#"say "hi""#, #"back\slash"#, "x,{y}"]) == #"{"say \"hi\"","back\\slash","x,{y}"}"#)
    }
}
