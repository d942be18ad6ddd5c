import Foundation
import Testing

/// Round trips for the object-kind tests: export with the built binary, then
/// restore twice (`restore --create -j 2`, and `zstd -dc | psql`) and
/// compare pg_dump's schema and every table's rows with the source's.
enum KindsRoundTrip {
    struct Result {
        /// What `pgcellar export` wrote on stderr.
        var exportStderr: String
        /// The archive's plain SQL, as `zstd -dc` prints it.
        var script: String
    }

    @discardableResult
    static func check(_ source: String, exportArguments: [String] = [], restoreArguments: [String] = [],
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let archive = ExportTestSupport.temporaryPath("\(source).sql.zst")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let exported = try Pgcellar.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive] + exportArguments)
        try #require(exported.status == 0, "export failed: \(exported.stderr)", sourceLocation: sourceLocation)
        let before = try ExportTestSupport.schemaDump(source)
        let sourceSums = try ExportTestSupport.dataChecksums(source)

        let created = TestServer.uniqueName("pgc_kinds")
        defer { dropDatabase(created) }
        let restored = try Pgcellar.run(["restore", archive, "--create", "-j", "2", "-d", "\(try TestServer.dsn()) dbname=\(created)"]
                                        + restoreArguments)
        try #require(restored.status == 0, "restore --create -j 2 failed: \(restored.stderr)", sourceLocation: sourceLocation)
        let afterRestore = try ExportTestSupport.schemaDump(created)
        if restoreArguments.isEmpty {
            #expect(before == afterRestore, "restore -j 2: pg_dump --schema-only differs:\n\(ExportTestSupport.firstDifference(before, afterRestore))",
                    sourceLocation: sourceLocation)
            #expect(try ExportTestSupport.dataChecksums(created) == sourceSums, "restore -j 2: rows differ", sourceLocation: sourceLocation)
        }

        try TestServer.withScratchDatabase("pgc_kinds_psql") { scratch in
            try ExportTestSupport.restoreWithZstdAndPsql(archive, into: scratch)
            let afterPsql = try ExportTestSupport.schemaDump(scratch)
            #expect(before == afterPsql, "zstd -dc | psql: pg_dump --schema-only differs:\n\(ExportTestSupport.firstDifference(before, afterPsql))",
                    sourceLocation: sourceLocation)
            #expect(try ExportTestSupport.dataChecksums(scratch) == sourceSums, "zstd -dc | psql: rows differ", sourceLocation: sourceLocation)
        }
        let script = try ExportTestSupport.shell("zstd -dc '\(archive)'")
        return Result(exportStderr: exported.stderr, script: script)
    }
}
