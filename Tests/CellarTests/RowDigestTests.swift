import Cellar
import CellarSupport
import Foundation
import Testing

@Suite("Row digests")
struct RowDigestTests {
    static let seed: UInt64 = 0x0123_4567_89ab_cdef
    static let alice = "1\tAlice\t\\N\n"
    static let bob = "2\tBob\t2020-01-01\n"

    static func digest(_ rows: [String], seed: UInt64 = seed) -> RowDigester {
        var digester = RowDigester(seed: seed)
        for row in rows {
            var row = row
            row.withUTF8 { digester.add(row: UnsafeRawBufferPointer($0)) }
        }
        return digester
    }

    @Test("XXH3-128 with a seed gives libxxhash's values (computed with the C library)")
    func knownValues() {
        // XXH128 of nothing with seed 0 is xxHash's published test vector.
        #expect(XXH3.hash128([UInt8](), seed: 0) == XXH3.Hash128(high: 0x99aa_06d3_0147_98d8, low: 0x6001_c324_468d_497f))
        #expect(Self.digest([Self.alice]).digest.hex == "30e5a9498a46c567ab78757d8f3d4aae")
        #expect(Self.digest([Self.bob]).digest.hex == "7e46dfd116ecbec24883b6917e6bc186")
        #expect(Self.digest([Self.alice], seed: 0).digest.hex == "b8fefd300f302652b20c5f2b41b850b7")
    }

    @Test("a digest is the sum of the rows' hashes modulo 2^128, whatever the order")
    func orderIndependentSum() {
        let forward = Self.digest([Self.alice, Self.bob]), backward = Self.digest([Self.bob, Self.alice])
        #expect(forward.digest == backward.digest)
        #expect(forward.digest.hex == "af2c891aa1338429f3fc2c0f0da90c34")
        #expect(forward.rows == 2)
        // A changed row, a missing row and a duplicated row all change it.
        #expect(Self.digest([Self.alice, "2\tBob\t2020-01-02\n"]).digest != forward.digest)
        #expect(Self.digest([Self.alice]).digest != forward.digest)
        #expect(Self.digest([Self.alice, Self.bob, Self.bob]).digest != forward.digest)
        // Another seed, another digest.
        #expect(Self.digest([Self.alice, Self.bob], seed: 1).digest != forward.digest)
    }

    @Test("addition carries from the low word and wraps at 2^128")
    func arithmetic() {
        let max = RowDigest(high: .max, low: .max)
        #expect((max + RowDigest(high: 0, low: 2)).hex == "00000000000000000000000000000001")
        #expect((RowDigest(high: 1, low: .max) + RowDigest(high: 0, low: 1)).hex == "00000000000000020000000000000000")
        #expect(RowDigest.zero + max == max)
        var sum = RowDigest.zero
        sum.add(RowDigest(high: 5, low: 7))
        sum.add(RowDigest(high: 1, low: 1))
        #expect(sum == RowDigest(high: 6, low: 8))
    }

    @Test("hex round-trips, 32 digits for a digest and 16 for a seed; anything else is refused")
    func hex() {
        let digest = RowDigest(high: 0x0011_2233_4455_6677, low: 0x8899_aabb_ccdd_eeff)
        #expect(digest.hex == "00112233445566778899aabbccddeeff")
        #expect(RowDigest(hex: digest.hex) == digest)
        #expect(RowDigest(hex: "00112233445566778899AABBCCDDEEFF") == digest)
        #expect(RowDigest(hex: "0011") == nil)
        #expect(RowDigest(hex: "00112233445566778899aabbccddeefg") == nil)
        #expect(RowDigest.hex(seed: Self.seed) == "0123456789abcdef")
        #expect(RowDigest.seed(hex: "0123456789abcdef") == Self.seed)
        #expect(RowDigest.seed(hex: "0123") == nil)
        #expect(ArchiveHeader.RowDigestInfo(seed: Self.seed).usableSeed == Self.seed)
        #expect(ArchiveHeader.RowDigestInfo(algorithm: "md5-sum", seed: Self.seed).usableSeed == nil)
    }

    @Test("lines cut anywhere digest as the rows they hold")
    func linesInPieces() {
        // A row longer than XXH3's short-input paths (240 bytes) and than a
        // piece: its hash is streamed across pieces, never held whole.
        let long = "5\t" + (0..<2_000).map { String($0, radix: 7) }.joined() + "\n"
        let rows = [Self.alice, Self.bob, "3\tx\n", "4\t\\n in a value\n", long]
        let whole = Self.digest(rows)
        let text = Array(rows.joined().utf8)
        for cut in [1, 2, 3, 7, 11, 12, 40, 241, 4_096] {
            var digester = RowDigester(seed: Self.seed)
            var start = 0
            while start < text.count {
                let end = min(start + cut, text.count)
                text[start..<end].withUnsafeBytes { digester.add(lines: $0) }
                start = end
            }
            #expect(digester.digest == whole.digest, "pieces of \(cut) bytes")
            #expect(digester.rows == 5)
            #expect(!digester.hasPartialLine)
        }
        var unfinished = RowDigester(seed: Self.seed)
        Array("1\tx\n2\ty".utf8).withUnsafeBytes { unfinished.add(lines: $0) }
        #expect(unfinished.rows == 1 && unfinished.hasPartialLine)
    }

    @Test("headers and chunks without digests (older archives) still decode")
    func olderArchives() throws {
        let json = #"{"tableSchema":"public","tableName":"t","copyStatement":"COPY public.t (a) FROM stdin;","chunk":0,"rows":3}"#
        let info = try JSONDecoder().decode(ArchiveEntry.DataInfo.self, from: Data(json.utf8))
        #expect(info.rowDigest == nil)
        let encoded = try JSONEncoder().encode(ArchiveTests.header)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("rowDigest"))
        let decoded = try JSONDecoder().decode(ArchiveHeader.self, from: encoded)
        #expect(decoded.rowDigest == nil && decoded.copySettings == nil)
    }
}
