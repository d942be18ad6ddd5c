import Foundation
internal import CLibPQ

/// A query's result, owning its `PGresult` (cleared in `deinit`).
///
/// Values arrive in text format; typed accessors convert them and throw a
/// `ClientError` naming the column when a value does not fit.
public final class QueryResult {
    private let handle: OpaquePointer

    init(taking handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { PQclear(handle) }

    public var rowCount: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    public var columnNames: [String] {
        (0..<columnCount).map { String(cString: PQfname(handle, Int32($0))) }
    }

    /// The command tag, e.g. "INSERT 0 1" or "COPY 42".
    public var commandTag: String { String(cString: PQcmdStatus(handle)) }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY/SELECT, from the command tag.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    public func columnIndex(_ name: String) -> Int? {
        let index = PQfnumber(handle, name)
        return index < 0 ? nil : Int(index)
    }

    /// The text value at (row, column), nil for SQL NULL.
    public func value(_ row: Int, _ column: Int) -> String? {
        precondition(row < rowCount && column < columnCount, "result index out of range")
        if PQgetisnull(handle, Int32(row), Int32(column)) != 0 { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        guard let raw = PQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        return raw.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    public var rows: [Row] { (0..<rowCount).map { Row(result: self, index: $0) } }

    /// The first row, if any.
    public var first: Row? { rowCount > 0 ? Row(result: self, index: 0) : nil }

    /// The single value of a one-row, one-column result.
    public func scalar() throws -> String? {
        guard rowCount == 1, columnCount >= 1 else {
            throw ClientError("expected one row, got \(rowCount)")
        }
        return value(0, 0)
    }
}

/// One row of a `QueryResult`, read by column name.
public struct Row {
    let result: QueryResult
    public let index: Int

    func column(_ name: String) throws -> Int {
        guard let column = result.columnIndex(name) else {
            throw ClientError("the result has no column \(name) (it has \(result.columnNames.joined(separator: ", ")))")
        }
        return column
    }

    /// The text value, nil for NULL.
    public subscript(_ name: String) -> String? {
        guard let column = result.columnIndex(name) else { return nil }
        return result.value(index, column)
    }

    public func optionalString(_ name: String) throws -> String? {
        result.value(index, try column(name))
    }

    public func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else {
            throw ClientError("column \(name) is NULL where a value was expected")
        }
        return value
    }

    public func optionalInt(_ name: String) throws -> Int? {
        guard let text = try optionalString(name) else { return nil }
        guard let value = Int(text) else { throw ClientError("column \(name): \(text.debugDescription) is not an integer") }
        return value
    }

    public func int(_ name: String) throws -> Int {
        guard let value = try optionalInt(name) else {
            throw ClientError("column \(name) is NULL where an integer was expected")
        }
        return value
    }

    public func bool(_ name: String) throws -> Bool {
        switch try optionalString(name) {
        case "t": return true
        case "f": return false
        case let other: throw ClientError("column \(name): \(String(describing: other)) is not a boolean")
        }
    }

    /// Decodes a `json`/`jsonb` column (e.g. `json_agg(...)`) into `T`.
    public func json<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let text = try string(name)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw ClientError("column \(name): cannot decode \(T.self) from JSON: \(error)")
        }
    }
}
