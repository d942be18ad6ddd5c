import PostgresClient

// Tablespaces, as pg_restore treats them: cluster-wide objects the archive
// names but does not hold (like roles), selected before each entry that has
// one, or ignored with --no-tablespaces.

extension RestorePlan {
    /// The tablespaces that must exist on the target before anything is
    /// written: those the entries name, and with `--create` the database's
    /// own; none with `--no-tablespaces` or `--data-only`.
    ///
    /// An entry never names the source database's own default tablespace
    /// (PostgreSQL records that as 0), so without `--create` it is not needed.
    public var requiredTablespaces: [String] {
        guard !options.noTablespaces, !options.dataOnly else { return [] }
        var names = Set(header.tablespaces ?? [])
        if !options.create, let own = header.database.tablespace { names.remove(own) }
        if options.create, let own = header.database.tablespace { names.insert(own) }
        return names.sorted()
    }

    /// What a restore runs of a non-data entry's SQL: all of it, its
    /// `SET default_tablespace` included; with `--no-tablespaces`, the
    /// entry's own statements only, in the session's default ('').
    func statements(of entry: ArchiveEntry, sql: String) -> String {
        options.noTablespaces ? TablespaceSelection.statements(of: sql, in: entry.tablespace) : sql
    }
}

extension Restorer {
    /// Stops before writing when tablespaces the archive names are missing
    /// on the target server, naming each.
    func checkTablespaces(_ plan: RestorePlan, on connection: Connection) throws {
        let missing = try Self.missingTablespaces(plan.requiredTablespaces, on: connection)
        guard missing.isEmpty else {
            throw RestoreError("""
                the archive names tablespaces that do not exist on the target server: \(missing.joined(separator: ", ")); nothing was written.
                Tablespaces belong to the whole server and are not in the archive (like roles): create them, or restore with --no-tablespaces
                """)
        }
    }

    /// The names in `tablespaces` that no tablespace on the server has, sorted.
    public static func missingTablespaces(_ tablespaces: [String], on connection: Connection) throws -> [String] {
        guard !tablespaces.isEmpty else { return [] }
        return try connection.query(
            "SELECT name FROM unnest($1::text[]) AS name WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_tablespace WHERE spcname = name) ORDER BY 1",
            [textArrayParameter(tablespaces)]
        ).rows.compactMap { $0["name"] }
    }
}
