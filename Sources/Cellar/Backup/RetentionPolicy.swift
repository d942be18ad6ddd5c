import Foundation

// MARK: - RetentionPolicy

/// `repository.keep:` how many backups each rule keeps, as restic's and
/// borg's `forget` count them (grandfather-father-son).
///
/// - `last`: the newest n backups.
/// - `hourly`, `daily`, `weekly`, `monthly`, `yearly`: for the newest n
///   hours (days, ISO weeks, months, years) that have a backup, the newest
///   backup of each, by snapshot time in UTC.
///
/// A backup is kept when any rule keeps it, and the newest backup is always
/// kept. Rules count only periods that have backups, so a week without
/// backups does not use up `daily: 7`.
public struct RetentionPolicy: Sendable, Equatable {
    public var last: Int
    public var hourly: Int
    public var daily: Int
    public var weekly: Int
    public var monthly: Int
    public var yearly: Int

    public init(last: Int = 0, hourly: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0, yearly: Int = 0) {
        self.last = last
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.yearly = yearly
    }

    /// Whether no rule keeps anything (only the always-kept newest backup would stay).
    public var keepsOnlyTheNewest: Bool {
        [last, hourly, daily, weekly, monthly, yearly].allSatisfy { $0 == 0 }
    }

    /// `last 3, daily 7, weekly 4`.
    public var summary: String {
        let rules = [("last", last), ("hourly", hourly), ("daily", daily), ("weekly", weekly), ("monthly", monthly), ("yearly", yearly)]
        return rules.filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }
}

// MARK: - The plan

/// What a prune keeps and removes, newest first, with the reasons each
/// backup is kept.
public struct RetentionPlan: Sendable, Equatable {
    public struct Decision: Sendable, Equatable {
        public var id: String
        public var takenAt: Date
        /// Why it stays, e.g. `newest`, `last 2`, `daily 2026-12-05`; empty
        /// when it is removed.
        public var reasons: [String]

        public var keep: Bool { !reasons.isEmpty }
    }

    /// Every backup, newest first.
    public var decisions: [Decision]

    public var kept: [Decision] { decisions.filter(\.keep) }
    public var removed: [Decision] { decisions.filter { !$0.keep } }
}

extension RetentionPolicy {
    /// Decides which of `backups` to keep.
    ///
    /// - Parameter backups: Each backup's id and snapshot time, in any order.
    ///   Equal times are ordered by id, newest (greatest) first, so the plan
    ///   does not depend on the order given.
    public func plan(_ backups: [(id: String, takenAt: Date)]) -> RetentionPlan {
        let ordered = backups.sorted { ($0.takenAt, $0.id) > ($1.takenAt, $1.id) }
        var reasons = [[String]](repeating: [], count: ordered.count)
        if !ordered.isEmpty { reasons[0].append("newest") }
        for index in ordered.indices.prefix(last) {
            reasons[index].append("last \(index + 1)")
        }
        for period in Period.allCases {
            let count = self[keyPath: period.limit]
            guard count > 0 else { continue }
            var seen: String?
            var used = 0
            for (index, backup) in ordered.enumerated() {
                let bucket = period.bucket(of: backup.takenAt)
                guard bucket != seen else { continue }
                seen = bucket
                reasons[index].append("\(period.rawValue) \(bucket)")
                used += 1
                if used == count { break }
            }
        }
        return RetentionPlan(decisions: zip(ordered, reasons).map {
            RetentionPlan.Decision(id: $0.0.id, takenAt: $0.0.takenAt, reasons: $0.1)
        })
    }

    /// The calendar periods of the rules, with how each names a snapshot's period.
    enum Period: String, CaseIterable {
        case hourly, daily, weekly, monthly, yearly

        var limit: KeyPath<RetentionPolicy, Int> {
            switch self {
            case .hourly: \.hourly
            case .daily: \.daily
            case .weekly: \.weekly
            case .monthly: \.monthly
            case .yearly: \.yearly
            }
        }

        /// `2026-12-05T06`, `2026-12-05`, `2026-W49` (ISO 8601 week), `2026-12`, `2026`; all UTC.
        func bucket(of date: Date) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day, .hour], from: date)
            let (year, month, day, hour) = (parts.year!, parts.month!, parts.day!, parts.hour!)
            switch self {
            case .hourly: return String(format: "%04d-%02d-%02dT%02d", year, month, day, hour)
            case .daily: return String(format: "%04d-%02d-%02d", year, month, day)
            case .weekly:
                var iso = Calendar(identifier: .iso8601)
                iso.timeZone = calendar.timeZone
                let week = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
                return String(format: "%04d-W%02d", week.yearForWeekOfYear!, week.weekOfYear!)
            case .monthly: return String(format: "%04d-%02d", year, month)
            case .yearly: return String(format: "%04d", year)
            }
        }
    }
}
