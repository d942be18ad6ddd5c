import CellarSupport
import Foundation
import PostgresClient

/// The catalog rows besides relations, read in one go: on a second
/// connection in the export's snapshot while the main connection reads
/// relations, dependencies and what is unsupported (``CatalogPrefetch``), or
/// on the main connection when the export runs with one (`-j 1`).
struct CatalogRowSet {
    var types: [TypeRow]
    var functions: [FunctionRow]
    var aggregates: [AggregateRow]
    var sequences: [SequenceRow]
    /// Sequence oid → (last_value, is_called).
    var sequenceValues: [UInt32: (String, Bool)]
    var constraints: [ConstraintRow]
    var indexes: [IndexRow]
    var triggers: [TriggerRow]
    var policies: [PolicyRow]
    var statistics: [StatisticsRow]
    var defaultPrivileges: [DefaultPrivilegeRow]

    static func read(_ connection: Connection) throws -> CatalogRowSet {
        let sequences: [SequenceRow] = try decodeRows(connection, CatalogQueries.sequences)
        return CatalogRowSet(
            types: try decodeRows(connection, CatalogQueries.types),
            functions: try decodeRows(connection, CatalogQueries.functions),
            aggregates: try decodeRows(connection, CatalogQueries.aggregates),
            sequences: sequences,
            sequenceValues: try readSequenceValues(sequences, on: connection),
            constraints: try decodeRows(connection, CatalogQueries.constraints),
            indexes: try decodeRows(connection, CatalogQueries.indexes),
            triggers: try decodeRows(connection, CatalogQueries.triggers),
            policies: try decodeRows(connection, CatalogQueries.policies),
            statistics: try decodeRows(connection, CatalogQueries.statistics),
            defaultPrivileges: try decodeRows(connection, CatalogQueries.defaultPrivileges))
    }

    /// Every sequence's `last_value` and `is_called`, which only the sequence
    /// itself holds: a UNION of one-row selects, 200 sequences a query.
    static func readSequenceValues(_ sequences: [SequenceRow], on connection: Connection) throws -> [UInt32: (String, Bool)] {
        var values: [UInt32: (String, Bool)] = [:]
        values.reserveCapacity(sequences.count)
        for start in stride(from: 0, to: sequences.count, by: 200) {
            let batch = sequences[start..<min(start + 200, sequences.count)]
            let sql = batch.map { "SELECT \($0.oid)::oid AS oid, last_value::text AS value, is_called FROM \($0.qname)" }
                .joined(separator: "\nUNION ALL\n")
            for row in try connection.query(sql).rows {
                values[UInt32(try row.int("oid"))] = (try row.string("value"), try row.bool("is_called"))
            }
        }
        return values
    }
}

/// Reads a ``CatalogRowSet`` on a thread of its own, over a connection that
/// has imported the export's snapshot, so that the server works on two
/// catalog queries at once: reading the catalogs of a 5,000-table schema is
/// mostly the server's time (relations alone about a third of it).
final class CatalogPrefetch: Sendable {
    /// Set by the reading thread when it is done.
    private let result = Locked<Result<CatalogRowSet, any Error>?>(nil)
    /// Used by the reading thread alone until `result` is set, then closed by `wait()`.
    private let connection: UncheckedConnection

    /// Starts reading at once.
    /// - Parameter connection: A connection inside a transaction that has
    ///   imported the export's snapshot; the prefetch closes it.
    init(connection: Connection) {
        self.connection = UncheckedConnection(connection)
        let thread = Thread { [self] in
            let read = Result { try CatalogRowSet.read(self.connection.connection) }
            result.withLock { $0 = read }
        }
        thread.name = "pgcellar-catalog"
        thread.start()
    }

    /// The rows, once read; rethrows the reading thread's error.
    /// Call once.
    func wait() throws -> CatalogRowSet {
        let read = result.waitForValue({ $0 })
        connection.connection.close()
        return try read.get()
    }

    deinit {
        // An export that failed before it asked for the rows still waits for
        // the thread, which uses the connection until it finishes.
        if result.withLock({ $0 == nil }) {
            _ = result.waitForValue({ $0 })
            connection.connection.close()
        }
    }
}
