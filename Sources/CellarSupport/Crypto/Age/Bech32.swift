/// Bech32 (BIP 173), the encoding of age's recipients (`age1…`) and
/// identities (`AGE-SECRET-KEY-1…`). age uses the original Bech32 checksum
/// (not Bech32m) and lifts BIP 173's 90-character limit.
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]

    /// Why a string is not Bech32.
    enum Failure: Error, Equatable {
        case mixedCase, noSeparator, badCharacter(Character), badChecksum, badPadding
    }

    /// `hrp` + "1" + `data` in Bech32, lowercase.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        let values = convertBits(data, from: 8, to: 5, pad: true)!
        let checksum = self.checksum(hrp: hrpBytes, values: values)
        return String(decoding: hrpBytes + [UInt8(ascii: "1")] + (values + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part (lowercase) and the data of a Bech32 string.
    static func decode(_ text: String) -> Result<(hrp: String, data: [UInt8]), Failure> {
        let bytes = Array(text.utf8)
        let hasLower = bytes.contains { (97...122).contains($0) }
        let hasUpper = bytes.contains { (65...90).contains($0) }
        if hasLower && hasUpper { return .failure(.mixedCase) }
        let lowered = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let separator = lowered.lastIndex(of: UInt8(ascii: "1")), separator >= 1, lowered.count - separator > 6 else {
            return .failure(.noSeparator)
        }
        let hrp = Array(lowered[..<separator])
        if let bad = hrp.first(where: { !(33...126).contains($0) }) { return .failure(.badCharacter(Character(Unicode.Scalar(bad)))) }
        var values: [UInt8] = []
        for byte in lowered[(separator + 1)...] {
            guard let value = alphabet.firstIndex(of: byte) else { return .failure(.badCharacter(Character(Unicode.Scalar(byte)))) }
            values.append(UInt8(value))
        }
        guard polymod(expand(hrp) + values) == 1 else { return .failure(.badChecksum) }
        guard let data = convertBits(Array(values.dropLast(6)), from: 5, to: 8, pad: false) else { return .failure(.badPadding) }
        return .success((String(decoding: hrp, as: UTF8.self), data))
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for index in 0..<5 where (top >> index) & 1 == 1 { check ^= generator[index] }
        }
        return check
    }

    private static func checksum(hrp: [UInt8], values: [UInt8]) -> [UInt8] {
        let mod = polymod(expand(hrp) + values + [0, 0, 0, 0, 0, 0]) ^ 1
        return (0..<6).map { UInt8((mod >> (5 * (5 - $0))) & 31) }
    }

    private static func convertBits(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0, bits = 0
        let mask = (1 << to) - 1
        var result: [UInt8] = []
        for value in data {
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                result.append(UInt8((accumulator >> bits) & mask))
            }
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || (accumulator << (to - bits)) & mask != 0 {
            return nil
        }
        return result
    }
}
