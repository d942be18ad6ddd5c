import Foundation
import Testing
@testable import Cellar

/// The parts of a drill that need no server: names, COPY statements, SQL
/// normalization, the metrics text.
@Suite("Drill logic")
struct DrillLogicTests {
    @Test("scratch names: the source part shortened on a character boundary, the suffix whole")
    func names() {
        let long = String(repeating: "ß", count: 50)  // 100 bytes
        let name = ScratchName.make(source: long, random: 0x0000_00ff)
        #expect(name.utf8.count <= ScratchName.maximumBytes)
        #expect(name.hasSuffix("_drill_000000ff"))
        #expect(name.hasPrefix("ß"))
        #expect(String(decoding: Array(name.utf8), as: UTF8.self) == name)
        #expect(ScratchName.problem(String(repeating: "a", count: 64), source: "x") != nil)
        #expect(ScratchName.problem("x_copy", source: "x") == nil)
    }

    @Test("the export's COPY ... FROM stdin; is turned around, anything else refused")
    func copyStatements() {
        #expect(DataProof.copyOutStatement("COPY public.actor (actor_id, first_name) FROM stdin;")
                == "COPY public.actor (actor_id, first_name) TO STDOUT")
        #expect(DataProof.copyOutStatement("COPY \"we;ird\".t (\"a b\") FROM stdin;") == "COPY \"we;ird\".t (\"a b\") TO STDOUT")
        #expect(DataProof.copyOutStatement("DROP TABLE t; COPY t FROM stdin;") == nil)
        #expect(DataProof.copyOutStatement("COPY t FROM stdin;\nDROP TABLE t; COPY t FROM stdin;") == nil)
        #expect(DataProof.copyOutStatement("COPY t TO STDOUT") == nil)
    }

    @Test("schema SQL: server-assigned pg_* column options and trailing blanks do not count, other options do")
    func normalization() {
        let archived = "CREATE TABLE public.t (\n    id integer\n);  \n\nALTER TABLE ONLY public.t ALTER COLUMN id SET (pg_attver=1);\n"
        let restored = "CREATE TABLE public.t (\n    id integer\n);\nALTER TABLE ONLY public.t ALTER COLUMN id SET (pg_attver=2);\n"
        #expect(SchemaProof.normalized(archived) == SchemaProof.normalized(restored))
        #expect(SchemaProof.normalized(archived) == "CREATE TABLE public.t (\n    id integer\n);")
        let withStatistics = "ALTER TABLE ONLY public.t ALTER COLUMN id SET (n_distinct=-1, pg_attver=5);"
        #expect(SchemaProof.normalized(withStatistics) == "ALTER TABLE ONLY public.t ALTER COLUMN id SET (n_distinct=-1);")
        #expect(SchemaProof.normalized("ALTER TABLE ONLY public.t ALTER COLUMN id SET (n_distinct=-1);")
                != SchemaProof.normalized("ALTER TABLE ONLY public.t ALTER COLUMN id SET (n_distinct=-0.5);"))
    }

    @Test("the first differing line is named")
    func difference() {
        let text = SchemaProof.firstDifference(archive: "a\nb\nc", restored: "a\nB\nc")
        #expect(text == "its SQL differs at line 2: the archive has 'b', the restored database 'B'")
        #expect(SchemaProof.firstDifference(archive: "a\nb", restored: "a").contains("'b', the restored database nothing more"))
    }

    @Test("metrics: labelled gauges; a failure keeps the last success and counts as a mismatch")
    func metrics() {
        var report = DrillReport(archive: "a.sql.zst", sourceDatabase: "shop \"eu\"", snapshotTakenAt: "", server: "", scratchDatabase: "s")
        report.rows = 42
        report.seconds = 1.5
        let passed = DrillMetrics.text(report, finishedAt: Date(timeIntervalSince1970: 1_000), previous: nil)
        #expect(passed.contains("pgcellar_drill_last_success_timestamp_seconds{database=\"shop \\\"eu\\\"\"} 1000.000"))
        #expect(passed.contains("pgcellar_drill_rows{database=\"shop \\\"eu\\\"\"} 42"))
        #expect(passed.contains("pgcellar_drill_duration_seconds{database=\"shop \\\"eu\\\"\"} 1.500"))
        #expect(passed.contains("pgcellar_drill_mismatches{database=\"shop \\\"eu\\\"\"} 0"))
        report.mismatches = [DrillMismatch(kind: .tableRows, object: "TABLE DATA public.t", detail: "x")]
        report.failure = "restore failed"
        let failed = DrillMetrics.text(report, finishedAt: Date(timeIntervalSince1970: 2_000), previous: passed)
        #expect(failed.contains("pgcellar_drill_last_success_timestamp_seconds{database=\"shop \\\"eu\\\"\"} 1000.000"))
        #expect(failed.contains("pgcellar_drill_mismatches{database=\"shop \\\"eu\\\"\"} 2"))
        let never = DrillMetrics.text(report, finishedAt: Date(), previous: nil)
        #expect(!never.contains("last_success_timestamp_seconds{"))
    }
}
