internal import CLibPQ

extension Connection {
    /// Streams `COPY ... TO STDOUT` into `consume`, one row (in text format,
    /// one line) per call; nothing accumulates in memory.
    ///
    /// - Parameters:
    ///   - sql: a `COPY ... TO STDOUT` statement.
    ///   - consume: receives each row's bytes; the buffer is valid only
    ///     during the call. When it throws, the COPY is cancelled, the
    ///     connection drained, and the error rethrown.
    /// - Returns: the number of rows the server reports.
    @discardableResult
    public func copyOut(_ sql: String, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let conn = try live()
        guard let start = PQexec(conn, sql) else { throw ClientError("\(endpointDescription): \(lastErrorMessage)") }
        let startStatus = PQresultStatus(start)
        if startStatus != PGRES_COPY_OUT {
            let result = try checked(start, sql: sql, redacted: false)
            throw ClientError("expected COPY TO STDOUT, the server answered \(result.commandTag)")
        }
        PQclear(start)

        var consumerError: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            // > PQgetCopyData: Returns the length of the row [...] -1 when the
            // > COPY is done, -2 on error. With async = 0 it blocks.
            let length = PQgetCopyData(conn, &buffer, 0)
            if length > 0, let buffer {
                if consumerError == nil {
                    do {
                        try consume(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                    } catch {
                        consumerError = error
                        requestCancel()
                    }
                }
                PQfreemem(buffer)
                continue
            }
            if let buffer { PQfreemem(buffer) }
            if length == -2 {
                let message = lastErrorMessage
                drainResults()
                throw consumerError ?? ClientError("COPY failed on \(endpointDescription): \(message)")
            }
            break
        }
        let rows: Int
        do {
            rows = try finishCommand(sql: sql)
        } catch {
            throw consumerError ?? error
        }
        if let consumerError { throw consumerError }
        return rows
    }

    /// Sends `COPY ... FROM STDIN`, letting `produce` write the data, and
    /// returns the number of rows loaded.
    ///
    /// - Throws: the server's `PostgresError` when the load fails (bad data,
    ///   a constraint), or the producer's error after aborting the COPY.
    @discardableResult
    public func copyIn(_ sql: String, _ produce: (CopyInWriter) throws -> Void) throws -> Int {
        let conn = try live()
        guard let start = PQexec(conn, sql) else { throw ClientError("\(endpointDescription): \(lastErrorMessage)") }
        if PQresultStatus(start) != PGRES_COPY_IN {
            let result = try checked(start, sql: sql, redacted: false)
            throw ClientError("expected COPY FROM STDIN, the server answered \(result.commandTag)")
        }
        PQclear(start)
        let writer = CopyInWriter(connection: conn, owner: self)
        do {
            try produce(writer)
        } catch {
            // > PQputCopyEnd: If errormsg is not NULL, the COPY is forced to
            // > fail, with the string used as the error message.
            _ = PQputCopyEnd(conn, "the client aborted the COPY: \(error)")
            _ = try? finishCommand(sql: sql)
            throw error
        }
        if PQputCopyEnd(conn, nil) != 1 {
            let message = lastErrorMessage
            drainResults()
            throw ClientError("cannot end COPY on \(endpointDescription): \(message)")
        }
        return try finishCommand(sql: sql)
    }

    /// Reads the final result of a COPY and drains the rest; returns rows.
    private func finishCommand(sql: String) throws -> Int {
        let conn = try live()
        var firstError: Error?
        var rows = 0
        while let raw = PQgetResult(conn) {
            let status = PQresultStatus(raw)
            if status == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(raw))) ?? 0
            } else if status == PGRES_COPY_IN {
                // The server still waits for data after an error on our side.
                _ = PQputCopyEnd(conn, "the client aborted the COPY")
            } else if firstError == nil {
                firstError = PostgresError(result: raw, statement: sql)
            }
            PQclear(raw)
        }
        if let firstError { throw firstError }
        return rows
    }

    private func drainResults() {
        guard let conn = try? live() else { return }
        while let raw = PQgetResult(conn) { PQclear(raw) }
    }

    /// Asks the server to cancel the running statement (the COPY).
    func requestCancel() {
        guard let conn = try? live(), let cancel = PQgetCancel(conn) else { return }
        defer { PQfreeCancel(cancel) }
        var errorBuffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &errorBuffer, Int32(errorBuffer.count))
    }

    /// Ends a COPY that `execute` started by mistake, leaving the connection usable.
    func abandonCopy(_ status: ExecStatusType) throws {
        let conn = try live()
        if status == PGRES_COPY_IN {
            _ = PQputCopyEnd(conn, "unexpected COPY FROM STDIN")
        } else if status == PGRES_COPY_OUT {
            requestCancel()
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(conn, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
        }
        drainResults()
    }
}

/// Writes COPY data for `Connection.copyIn`. Valid only inside the producer.
public struct CopyInWriter {
    fileprivate let connection: OpaquePointer
    fileprivate let owner: Connection

    /// Sends bytes to the server; libpq buffers and flushes as needed.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let piece = min(remaining, 1 << 30)
            // > PQputCopyData: The result is 1 if the data was queued, zero if
            // > it was not queued because of full buffers (this will only happen
            // > in nonblocking mode), or -1 if an error occurred.
            let status = PQputCopyData(connection, base.assumingMemoryBound(to: CChar.self), Int32(piece))
            if status != 1 {
                throw ClientError("cannot send COPY data to \(owner.endpointDescription): \(owner.lastErrorMessage)")
            }
            base += piece
            remaining -= piece
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}
