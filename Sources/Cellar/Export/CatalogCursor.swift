import Foundation
import PostgresClient

/// Reads catalog queries a page at a time through a cursor, so that the
/// export holds one page of rows (and what it decodes from them), never a
/// whole catalog as one result or one JSON value.
enum CatalogCursor {
    /// Rows a FETCH returns: few enough that a page of the widest rows
    /// (relations with their columns as JSON) stays a few megabytes.
    static let pageSize = 1000

    /// Runs `sql` through a cursor and calls `body` with each page of rows.
    ///
    /// Inside a transaction (the export's snapshot) the cursor lives in it;
    /// outside one, a read-only transaction is opened for the cursor.
    /// - Throws: `PostgresError`, or what `body` throws.
    static func forEachPage(_ connection: Connection, _ sql: String, _ body: (QueryResult) throws -> Void) throws {
        guard connection.isInTransaction else {
            try connection.transaction("BEGIN READ ONLY") { try forEachPage(connection, sql, body) }
            return
        }
        // > DECLARE: Unless WITH HOLD is specified, the cursor created by this
        // > command can only be used within the current transaction.
        try connection.execute("DECLARE pgcellar_catalog NO SCROLL CURSOR FOR \(sql)")
        // After an error the transaction is aborted and CLOSE fails too: the
        // export is over then, and the cursor ends with the transaction.
        defer { _ = try? connection.execute("CLOSE pgcellar_catalog") }
        while true {
            let page = try connection.query("FETCH FORWARD \(pageSize) FROM pgcellar_catalog")
            if page.rowCount > 0 { try body(page) }
            if page.rowCount < pageSize { break }
        }
    }

    /// Calls `body` with each row of a query, decoded: from its one `row`
    /// column as JSON (a `CatalogQueries.jsonRows` query), or else column by
    /// column (``CatalogRowDecoder``).
    /// - Parameter pageStarted: called with each page's row count first.
    static func forEachRow<T: Decodable>(_ connection: Connection, _ sql: String, as type: T.Type = T.self,
                                         pageStarted: (Int) -> Void = { _ in },
                                         _ body: (T) throws -> Void) throws {
        let decoder = JSONDecoder()
        try forEachPage(connection, sql) { page in
            pageStarted(page.rowCount)
            let columns = page.columnNames == ["row"] ? nil : CatalogRowDecoder.Columns(page)
            for index in 0..<page.rowCount {
                let row: T
                do {
                    if let columns {
                        row = try CatalogRowDecoder(columns: columns, row: index).decode(T.self)
                    } else {
                        guard let text = page.value(index, 0) else { continue }
                        row = try decoder.decode(T.self, from: Data(text.utf8))
                    }
                } catch {
                    throw ClientError("cannot decode a catalog row as \(T.self): \(error)")
                }
                try body(row)
            }
        }
    }
}

/// Every row of a query, decoded (``CatalogCursor/forEachRow(_:_:as:pageStarted:_:)``).
///
/// The list grows by a page at a time, not by doubling: at 5,000 tables the
/// doubled relation list was a megabyte of empty room at the catalog
/// phase's peak.
func decodeRows<T: Decodable>(_ connection: Connection, _ sql: String, as type: T.Type = T.self) throws -> [T] {
    var rows: [T] = []
    try CatalogCursor.forEachRow(connection, sql, as: T.self, pageStarted: { rows.reserveCapacity(rows.count + $0) }) { rows.append($0) }
    return rows
}

extension RelationRow {
    /// Gives back its column list's spare room: the list is built by
    /// appending a column at a time, so three columns take room for four.
    mutating func compact() {
        // `map` makes a list of exactly its count.
        if let columns, columns.capacity > columns.count { self.columns = columns.map { $0 } }
    }
}
