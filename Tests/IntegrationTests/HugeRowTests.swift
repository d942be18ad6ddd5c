import Cellar
import Foundation
import Testing

/// A single row can make a table-data entry larger than the 512 MiB that
/// metadata frames are held to: COPY sends a row whole, and a row cannot be
/// split. The entry-frame limit is the largest row PostgreSQL can send plus
/// room (``ArchiveFormat/maximumEntryFrameSize``); this writes and reads back
/// a real entry over 512 MiB through every reader: the file reader (verify,
/// verify --deep, restore FILE) and the stream reader (restore -).
@Suite("An entry larger than 512 MiB", .serialized)
struct HugeRowTests {
    /// About 600 MiB of COPY text in one row: the md5 hex digits of 103,500
    /// numbers (3.3 MB, varied) repeated 190 times. The repeat's period is
    /// larger than zstd's window at level 3 (2 MiB), so the entry's frame is
    /// hundreds of MiB too, not a few kilobytes.
    static let repeats = 190
    static let distinctDigests = 103_500
    static let hugeBytes = repeats * distinctDigests * 32

    /// What a user compares: each row's id, size and md5, computed by the
    /// server, so the 600 MiB never come to the test.
    static func rows(of database: String) throws -> [String] {
        try TestServer.withConnection(database: database) { connection in
            try connection.query("SELECT id, octet_length(body) AS bytes, md5(body) AS md5 FROM public.huge ORDER BY id").rows.map {
                "\(try $0.string("id")) \(try $0.string("bytes")) \(try $0.string("md5"))"
            }
        }
    }

    /// A run of the binary, with GNU time's peak resident set size.
    struct Measured {
        var output: Pgcellar.Output
        var seconds: Double
        var peakMiB: Int
    }

    /// Runs `pgcellar arguments...` under /usr/bin/time, standard input from
    /// `stdinFile` through `cat |` (a pipe, as a user would feed it).
    static func run(_ arguments: [String], stdinFile: String? = nil) throws -> Measured {
        let rssFile = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-rss-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: rssFile) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else {
            throw ExportTestSupport.CommandFailed(command: "/usr/bin/time", status: 127,
                                                  stderr: "GNU time is needed to measure peak memory: run scripts/test.sh, which installs it (apt-get install time)")
        }
        // Paths and conninfo strings go through positional parameters, never
        // into the script's text.
        let script = #"input=$1 rss=$2; shift 2; if [ -n "$input" ]; then cat -- "$input" | /usr/bin/time -o "$rss" -f %M "$@"; else /usr/bin/time -o "$rss" -f %M "$@"; fi"#
        let start = Date()
        let output = try Subprocess.run("/bin/bash", ["-o", "pipefail", "-c", script, "bash", stdinFile ?? "", rssFile, try Pgcellar.binary()] + arguments)
        let seconds = Date().timeIntervalSince(start)
        // time(1) writes "Command exited with non-zero status N" before the figure.
        let kib = (try? String(contentsOfFile: rssFile, encoding: .utf8))?
            .split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return Measured(output: output, seconds: seconds, peakMiB: kib / 1024)
    }

    @Test("a 600 MiB row: export, verify, verify --deep, restore --create from the file and from standard input")
    func hugeRowRoundTrip() throws {
        let clock = Date()
        let source = TestServer.uniqueName("huge_src")
        let fromFile = TestServer.uniqueName("huge_file"), fromStdin = TestServer.uniqueName("huge_stdin")
        let archive = ExportTestSupport.temporaryPath("huge.sql.zst")
        defer {
            for database in [source, fromFile, fromStdin] { dropDatabase(database) }
            try? FileManager.default.removeItem(atPath: archive)
        }
        try TestServer.withConnection { try $0.execute("CREATE DATABASE \(try $0.escapeIdentifier(source))") }
        try TestServer.withConnection(database: source) { connection in
            // EXTERNAL: stored out of line uncompressed, so the server does not
            // spend seconds failing to compress it with pglz.
            try connection.execute("CREATE TABLE public.huge (id integer PRIMARY KEY, body text NOT NULL)")
            try connection.execute("ALTER TABLE public.huge ALTER COLUMN body SET STORAGE EXTERNAL")
            try connection.execute("""
                INSERT INTO public.huge
                SELECT 1, repeat(digests, \(Self.repeats))
                  FROM (SELECT string_agg(md5(i::text), '' ORDER BY i) AS digests FROM generate_series(1, \(Self.distinctDigests)) i) s
                """)
            try connection.execute("INSERT INTO public.huge VALUES (2, 'a small row after the huge one')")
        }
        let expected = try Self.rows(of: source)
        try #require(expected.count == 2 && expected[0].hasPrefix("1 \(Self.hugeBytes) "), "the source table is not as built: \(expected)")
        let built = Date()

        let export = try Self.run(["export", "-d", "\(try TestServer.dsn()) dbname=\(source)", "-o", archive, "--quiet"])
        try #require(export.output.status == 0, "export failed: \(export.output.stderr)")
        // The archive really holds an entry over the metadata frames' 512 MiB.
        let data = try ArchiveReader(path: archive).entries.filter { $0.data?.tableName == "huge" }
        let largest = try #require(data.max { $0.uncompressedSize < $1.uncompressedSize })
        #expect(largest.uncompressedSize > 512 * 1024 * 1024, "the largest entry holds only \(largest.uncompressedSize) bytes")
        #expect(largest.data?.rows == 1)
        #expect(data.reduce(0) { $0 + ($1.data?.rows ?? 0) } == 2, "the archive's chunks do not hold both rows")

        let verify = try Self.run(["verify", archive])
        #expect(verify.output.status == 0, "verify failed: \(verify.output.stderr)")
        let deep = try Self.run(["verify", "--deep", archive])
        #expect(deep.output.status == 0, "verify --deep failed: \(deep.output.stderr)")

        let restoreFile = try Self.run(["restore", archive, "--create",
                                        "--dbname", TestServer.conninfo(user: RestoreSources.user, database: fromFile)])
        #expect(restoreFile.output.status == 0, "restore from the file failed: \(restoreFile.output.stderr)")
        if restoreFile.output.status == 0 {
            #expect(try Self.rows(of: fromFile) == expected, "the rows restored from the file differ from the source")
        }
        dropDatabase(fromFile)

        let restoreStdin = try Self.run(["restore", "-", "--create",
                                         "--dbname", TestServer.conninfo(user: RestoreSources.user, database: fromStdin)],
                                        stdinFile: archive)
        #expect(restoreStdin.output.status == 0, "restore from standard input failed: \(restoreStdin.output.stderr)")
        if restoreStdin.output.status == 0 {
            #expect(try Self.rows(of: fromStdin) == expected, "the rows restored from standard input differ from the source")
        }

        // Memory follows the row, not more: each bound is a multiple of the
        // row's size with about a fifth to spare over what was measured
        // (debug build: export 2,440 MiB, verify and verify --deep 602,
        // restore FILE 353, restore - 1,378).
        // - export: libpq's input buffer and PQgetCopyData's copy of the row,
        //   the chunk buffer, and the compressed frame.
        // - verify (the stream reader): the compressed frame, read whole;
        //   --deep streams each row's hash, it does not hold the row again.
        // - restore FILE: the compressed frame; the rows stream to COPY.
        // - restore -: the frame and the decompressed chunk, which the
        //   stream's reader hands to a loading connection.
        let rowMiB = Self.hugeBytes / 1024 / 1024
        #expect([export, verify, deep, restoreFile, restoreStdin].allSatisfy { $0.peakMiB > 0 }, "GNU time reported no peak memory")
        #expect(export.peakMiB < rowMiB * 5, "export peaked at \(export.peakMiB) MiB for a \(rowMiB) MiB row")
        #expect(verify.peakMiB < rowMiB * 3 / 2, "verify peaked at \(verify.peakMiB) MiB")
        #expect(deep.peakMiB < rowMiB * 3 / 2, "verify --deep peaked at \(deep.peakMiB) MiB: it holds the row instead of streaming its hash")
        #expect(restoreFile.peakMiB < rowMiB, "restore FILE peaked at \(restoreFile.peakMiB) MiB")
        #expect(restoreStdin.peakMiB < rowMiB * 11 / 4, "restore - peaked at \(restoreStdin.peakMiB) MiB")
        // Splitting rows byte by byte in Swift once made --deep take 130 s here.
        #expect(deep.seconds < verify.seconds * 4 + 10, "verify --deep took \(deep.seconds) s against verify's \(verify.seconds) s")

        let archiveMiB = ((try? FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int) ?? 0) / 1024 / 1024
        func figures(_ step: String, _ run: Measured) -> String { "\(step) \(String(format: "%.1f", run.seconds)) s \(run.peakMiB) MiB" }
        print("huge row: \(Self.hugeBytes / 1024 / 1024) MiB row, entry \(largest.uncompressedSize / 1024 / 1024) MiB -> frame \(largest.compressedSize / 1024 / 1024) MiB, archive \(archiveMiB) MiB; "
              + "build \(String(format: "%.1f", built.timeIntervalSince(clock))) s; "
              + [figures("export", export), figures("verify", verify), figures("verify --deep", deep),
                 figures("restore FILE", restoreFile), figures("restore -", restoreStdin)].joined(separator: ", ")
              + "; total \(String(format: "%.1f", Date().timeIntervalSince(clock))) s (peak = GNU time's max RSS)")
    }
}
