import Foundation
import PostgresClient

/// Decodes a catalog row type from one row of a plain query result, a
/// property a column of the same name, instead of from the row as a JSON
/// object (`CatalogQueries.jsonRows`).
///
/// The catalog queries of many-table schemas use it: at 5,000 tables,
/// decoding relations and their columns from JSON was most of the client's
/// catalog time, and building the JSON (`json_build_object` a column, a
/// subquery a table) most of the server's.
///
/// Text values are read as PostgreSQL writes them: `t`/`f` for booleans,
/// decimal integers, NULL as nil. A property that is neither (a list, a
/// nested row) is decoded from its column's text as JSON, so the query must
/// give it as `json` (`json_agg(...)`, `pg_catalog.to_json(array)`).
struct CatalogRowDecoder {
    /// The page's columns by name, looked up once a page.
    final class Columns {
        let result: QueryResult
        let index: [String: Int]
        let json = JSONDecoder()

        init(_ result: QueryResult) {
            self.result = result
            index = Dictionary(result.columnNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let row: Int

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: RowDecoder(columns: columns, row: row))
    }
}

/// The row as a `Decoder`: a keyed container whose keys are column names.
private struct RowDecoder: Decoder {
    let columns: CatalogRowDecoder.Columns
    let row: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(columns: columns, row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a catalog row is not a list"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a catalog row is not a single value"))
    }
}

private struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let columns: CatalogRowDecoder.Columns
    let row: Int
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { columns.index.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { columns.index[key.stringValue] != nil }

    private func column(_ key: Key) throws -> Int {
        guard let column = columns.index[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "the query has no column \(key.stringValue)"))
        }
        return column
    }

    /// The column's text; nil for NULL.
    private func text(_ key: Key) throws -> String? {
        columns.result.value(row, try column(key))
    }

    private func required(_ key: Key) throws -> String {
        guard let text = try text(key) else {
            throw DecodingError.valueNotFound(String.self, .init(codingPath: [key], debugDescription: "column \(key.stringValue) is NULL"))
        }
        return text
    }

    /// The column's text as a single value: ``FieldDecoder`` parses it.
    private func field(_ key: Key) throws -> FieldDecoder { FieldDecoder(text: try required(key), key: key) }

    func decodeNil(forKey key: Key) throws -> Bool { try text(key) == nil }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try field(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try field(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try field(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try field(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try field(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try field(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try field(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try field(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try field(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try field(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try field(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try field(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try field(key).decode(type) }

    /// A value of another type: a single value read from the text (a
    /// string-backed enum), or else the text as JSON (a list, a nested row).
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let field = try field(key)
        do {
            return try T(from: field)
        } catch is NotASingleValue {
            do {
                return try columns.json.decode(T.self, from: Data(field.text.utf8))
            } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: [key], debugDescription: "column \(key.stringValue) is not JSON for \(T.self): \(error)"))
            }
        }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: [key], debugDescription: "nested containers are decoded from JSON"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "nested containers are decoded from JSON"))
    }

    func superDecoder() throws -> any Decoder { RowDecoder(columns: columns, row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(columns: columns, row: row) }
}

/// Thrown by ``FieldDecoder`` when the type wants a list or keyed values:
/// the column is then read as JSON.
private struct NotASingleValue: Error {}

/// One column's text as a single value.
private struct FieldDecoder: Decoder, SingleValueDecodingContainer {
    let text: String
    let key: any CodingKey
    var codingPath: [any CodingKey] { [key] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NotASingleValue() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NotASingleValue() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// The text parsed as PostgreSQL writes a value: `t`/`f`, decimal numbers.
    private func parsed<T>(_ parse: (String) -> T?) throws -> T {
        guard let value = parse(text) else {
            throw DecodingError.typeMismatch(T.self, .init(codingPath: [key], debugDescription: "column \(key.stringValue): \(text.debugDescription) is not a \(T.self)"))
        }
        return value
    }

    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool { try parsed { $0 == "t" ? true : $0 == "f" ? false : nil } }
    func decode(_ type: String.Type) throws -> String { text }
    func decode(_ type: Double.Type) throws -> Double { try parsed { Double($0) } }
    func decode(_ type: Float.Type) throws -> Float { try parsed { Float($0) } }
    private func integer<T: FixedWidthInteger>() throws -> T { try parsed { T($0) } }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}
