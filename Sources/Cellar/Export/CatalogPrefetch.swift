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
        let (sequences, sequenceValues) = try readSequences(connection)
        return CatalogRowSet(
            types: try decodeRows(connection, CatalogQueries.types),
            functions: try decodeRows(connection, CatalogQueries.functions),
            aggregates: try decodeRows(connection, CatalogQueries.aggregates),
            sequences: sequences,
            sequenceValues: sequenceValues,
            constraints: try decodeRows(connection, CatalogQueries.constraints),
            indexes: try decodeRows(connection, CatalogQueries.indexes),
            triggers: try decodeRows(connection, CatalogQueries.triggers),
            policies: try decodeRows(connection, CatalogQueries.policies),
            statistics: try decodeRows(connection, CatalogQueries.statistics),
            defaultPrivileges: try decodeRows(connection, CatalogQueries.defaultPrivileges))
    }

    /// The sequences and their values.
    static func readSequences(_ connection: Connection) throws -> ([SequenceRow], [UInt32: (String, Bool)]) {
        let sequences: [SequenceRow] = try decodeRows(connection, CatalogQueries.sequences)
        return (sequences, try readSequenceValues(sequences, on: connection))
    }

    /// Every sequence's `last_value` and `is_called`, which only the sequence
    /// itself holds.
    ///
    /// One query asks `pg_sequence_last_value` for all of them (what the
    /// `pg_sequences` view shows): it is null for a sequence whose value was
    /// never handed out (`is_called` false), whose `last_value` is then read
    /// from the sequence itself, by a UNION of one-row selects, 200 sequences
    /// a query. At 5,000 sequences the one query took 0.11 s where the UNIONs
    /// for all took 0.53 s.
    static func readSequenceValues(_ sequences: [SequenceRow], on connection: Connection) throws -> [UInt32: (String, Bool)] {
        var values: [UInt32: (String, Bool)] = [:]
        values.reserveCapacity(sequences.count)
        guard !sequences.isEmpty else { return values }
        let oids = textArrayParameter(sequences.map { String($0.oid) })
        let called = try connection.query("""
            SELECT s.oid::pg_catalog.int8 AS oid, pg_catalog.pg_sequence_last_value(s.oid)::pg_catalog.text AS value
            FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS s(oid)
            """, [oids])
        for row in called.rows {
            guard let value = try row.optionalString("value") else { continue }
            values[UInt32(try row.int("oid"))] = (value, true)
        }
        let uncalled = sequences.filter { values[$0.oid] == nil }
        for start in stride(from: 0, to: uncalled.count, by: 200) {
            let batch = uncalled[start..<min(start + 200, uncalled.count)]
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
    private let result = Locked<State>(.reading)

    private enum State {
        case reading
        case read(Result<CatalogRowSet, any Error>)
        /// `wait()` took the rows out.
        case taken

        var isReading: Bool {
            if case .reading = self { true } else { false }
        }
    }
    /// Used by the reading thread alone until `result` is set; its owner's
    /// again once `wait()` returns (the export's data phase copies on it).
    private let connection: UncheckedConnection

    /// Starts reading at once.
    /// - Parameter connection: A connection inside a transaction that has
    ///   imported the export's snapshot; the caller closes it once this
    ///   prefetch is gone (its `deinit` waits for the reading thread).
    init(connection: Connection) {
        self.connection = UncheckedConnection(connection)
        let thread = Thread { [self] in
            let read = Result { try CatalogRowSet.read(self.connection.connection) }
            result.withLock { $0 = .read(read) }
        }
        thread.name = "pgcellar-catalog"
        thread.start()
    }

    /// The rows, once read; rethrows the reading thread's error.
    /// Call once.
    func wait() throws -> CatalogRowSet {
        // Taken out, not copied: the builder frees each kind of row once it
        // has used them, which a second reference here would prevent.
        let read = result.waitForValue { state -> Result<CatalogRowSet, any Error>? in
            guard case .read(let read) = state else { return nil }
            state = .taken
            return read
        }
        return try read.get()
    }

    deinit {
        // An export that failed before it asked for the rows still waits for
        // the thread, which uses the connection until it finishes.
        if result.read({ $0.isReading }) {
            result.withLock(when: { !$0.isReading }) { _ in }
        }
    }
}
