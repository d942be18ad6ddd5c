import Foundation
import Logging
import PostgresClient

/// A drill's schema proof: the scratch database's catalog, read by the
/// exporter's own reader (``SchemaCatalog``), against the archive's
/// pre-data, post-data and data-section entries (sequence values,
/// materialized view refreshes), by kind, schema, name and SQL text.
struct SchemaProof {
    struct Key: Hashable, Comparable {
        var kind: String
        var schema: String
        var name: String

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.kind, lhs.schema, lhs.name) < (rhs.kind, rhs.schema, rhs.name) }

        var object: String { "\(kind) \(schema.isEmpty ? "" : schema + ".")\(name)" }
    }

    let header: ArchiveHeader
    let archive: ArchiveReader
    /// Owners and privileges were not restored: leave them out on both sides.
    let ignoreOwnership: Bool
    /// Tablespaces were not restored (`--no-tablespaces`): compare the
    /// statements without them.
    let ignoreTablespaces: Bool
    let scratchName: String
    let logger: Logger

    /// Kinds not compared: the session preamble, rows and large objects'
    /// bytes (the data proof's, ``DataProof`` and ``LargeObjectProof``).
    static let skipped: Set<ArchiveEntry.Kind> = [.settings, .tableData, .largeObjectData]
    static let ownership: Set<ArchiveEntry.Kind> = [.owner, .acl, .defaultACL]

    func compared(_ kind: ArchiveEntry.Kind) -> Bool {
        !Self.skipped.contains(kind) && !(ignoreOwnership && Self.ownership.contains(kind))
    }

    /// The archive's entries: key to their SQL texts, sorted.
    func archiveObjects() throws -> [Key: [String]] {
        var objects: [Key: [String]] = [:]
        for entry in archive.entries where compared(entry.kind) {
            let key = Key(kind: entry.kind.rawValue, schema: entry.schema ?? "", name: entry.name)
            let statements = TablespaceSelection.statements(of: try archive.sql(entry), in: entry.tablespace)
            let sql = try TablespaceSelection.wrap(statements, in: ignoreTablespaces ? nil : entry.tablespace)
            objects[key, default: []].append(Self.normalized(sql))
        }
        return objects.mapValues { $0.sorted() }
    }

    /// The scratch database's objects as the exporter would write them,
    /// the scratch database's name written back as the source's.
    func restoredObjects(_ connection: Connection) throws -> [Key: [String]] {
        try Exporter.prepareSession(connection)
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        let options = header.options
        let selection = ExportSelection(tables: options.tables, excludedTables: options.excludedTables, schemas: options.schemas,
                                        schemaOnly: options.schemaOnly, dataOnly: options.dataOnly, excludeUnsupported: true)
        // The reader's warnings are about the export it would write, not the drill.
        var quiet = logger
        quiet.logLevel = .error
        let catalog = try SchemaCatalog.read(connection, selection: selection, logger: quiet)
        var objects: [Key: [String]] = [:]
        for object in catalog.objects where compared(object.kind) {
            let key = Key(kind: object.kind.rawValue, schema: object.schema ?? "", name: object.name.replacingOccurrences(of: scratchName, with: header.database.name))
            let statements = object.sql.replacingOccurrences(of: scratchName, with: header.database.name)
            let sql = try TablespaceSelection.wrap(statements, in: ignoreTablespaces ? nil : object.tablespace)
            objects[key, default: []].append(Self.normalized(sql))
        }
        return objects.mapValues { $0.sorted() }
    }

    /// Runs the proof on a connection to the scratch database.
    func run(on connection: Connection, into report: inout DrillReport) throws {
        let expected = try archiveObjects()
        let restored = try restoredObjects(connection)
        report.schemaObjectsChecked = expected.values.reduce(0) { $0 + $1.count }
        report.sequencesChecked = expected[keys: ArchiveEntry.Kind.sequenceSet]
        for key in Set(expected.keys).union(restored.keys).sorted() {
            let archived = expected[key] ?? [], found = restored[key] ?? []
            guard archived != found else { continue }
            let kind: DrillMismatch.Kind = key.kind == ArchiveEntry.Kind.sequenceSet.rawValue ? .sequence : .schemaObject
            let detail: String
            if found.isEmpty {
                detail = "in the archive but missing from the restored database"
            } else if archived.isEmpty {
                detail = "in the restored database but not in the archive: \(Self.excerpt(found[0]))"
            } else if archived.count != found.count {
                detail = "the archive has \(archived.count) entries of this name, the restored database \(found.count)"
            } else {
                let pair = zip(archived, found).first { $0 != $1 }!
                detail = Self.firstDifference(archive: pair.0, restored: pair.1)
            }
            report.mismatches.append(DrillMismatch(kind: kind, object: key.object, detail: detail))
        }
    }

    /// Text compared: trailing white space and blank lines do not count,
    /// nor column options the server assigns itself (``serverAssignedOption(_:)``).
    static func normalized(_ sql: String) -> String {
        sql.split(separator: "\n", omittingEmptySubsequences: true)
            .map { String($0.replacing(/\s+$/, with: "")) }
            .compactMap(withoutServerAssignedOptions)
            .filter { !$0.isEmpty }
            .joined(separator: "\n")
    }

    /// Column options named `pg_*` are not settable in PostgreSQL (it refuses
    /// unknown options); a server that has them assigns them itself, per
    /// column, when the column is made (`pg_attver`), and ignores the value
    /// a restore sets. They identify the column, like an OID, so the drill
    /// does not compare them: a line `ALTER TABLE|MATERIALIZED VIEW|FOREIGN TABLE ... ALTER COLUMN ... SET (...)`
    /// loses them, and goes when nothing else is left.
    static func withoutServerAssignedOptions(_ line: String) -> String? {
        guard ["ALTER TABLE ", "ALTER MATERIALIZED VIEW ", "ALTER FOREIGN TABLE "].contains(where: line.hasPrefix), line.contains(" ALTER COLUMN "), line.hasSuffix(");"),
              let open = line.range(of: " SET (", options: .backwards) else { return line }
        let items = line[open.upperBound..<line.index(line.endIndex, offsetBy: -2)].components(separatedBy: ", ")
        let kept = items.filter { !serverAssignedOption($0) }
        if kept.count == items.count { return line }
        if kept.isEmpty { return nil }
        return line[..<open.upperBound] + kept.joined(separator: ", ") + ");"
    }

    static func serverAssignedOption(_ item: String) -> Bool {
        item.hasPrefix("pg_") && item.contains("=")
    }

    /// The first line where the two texts part: "line 3: the archive has '...', the restored database '...'".
    static func firstDifference(archive: String, restored: String) -> String {
        let a = archive.split(separator: "\n", omittingEmptySubsequences: false)
        let r = restored.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(a.count, r.count)).first { a[$0] != r[$0] } ?? min(a.count, r.count)
        let archived = line < a.count ? excerpt(String(a[line])) : "nothing more"
        let found = line < r.count ? excerpt(String(r[line])) : "nothing more"
        return "its SQL differs at line \(line + 1): the archive has \(archived), the restored database \(found)"
    }

    static func excerpt(_ sql: String) -> String {
        let line = sql.replacingOccurrences(of: "\n", with: " ")
        return "'" + (line.count > 200 ? String(line.prefix(200)) + "…" : line) + "'"
    }
}

private extension Dictionary where Key == SchemaProof.Key, Value == [String] {
    subscript(keys kind: ArchiveEntry.Kind) -> Int {
        reduce(0) { $0 + ($1.key.kind == kind.rawValue ? $1.value.count : 0) }
    }
}
