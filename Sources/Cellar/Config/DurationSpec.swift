import Foundation

/// A duration that could not be read, such as `rotate --if-older-than 30x`.
public struct DurationSpecError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The text as given.
    public var spec: String

    public init(spec: String) { self.spec = spec }

    public var description: String {
        "\(displayQuoted(spec)) is not a duration; write a number and a unit (s, m, h, d or w), such as 90d, 12h, 45m or 1d12h"
    }

    public var errorDescription: String? { description }
}

/// Reads a duration written as in `rotation.validFor` and `rotate --if-older-than`:
/// one or more numbers, each followed by a unit, `s` (seconds), `m` (minutes),
/// `h` (hours), `d` (days of 24 hours) or `w` (weeks), as in `90d`, `12h`,
/// `45m`, `1d12h` or `1.5h`.
///
/// Months and years are not accepted: their length varies.
/// - Returns: The duration in seconds; `0s` is zero.
/// - Throws: ``DurationSpecError`` for anything else, a bare number included.
public func parseDurationSpec(_ spec: String) throws -> TimeInterval {
    let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
    let text = spec.trimmingCharacters(in: .whitespaces)
    var total: TimeInterval = 0
    var number = ""
    var sawPart = false
    for character in text {
        if character.isASCII, character.isNumber || character == "." {
            number.append(character)
        } else if let unit = units[character], let value = Double(number), number.first != "." {
            total += value * unit
            number = ""
            sawPart = true
        } else {
            throw DurationSpecError(spec: spec)
        }
    }
    guard sawPart, number.isEmpty, total.isFinite else { throw DurationSpecError(spec: spec) }
    return total
}
