import Cellar
import Foundation
import Testing

/// `2026-12-05T06:15:00Z` as a Date.
private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

private func backups(_ times: [String]) -> [(id: String, takenAt: Date)] {
    times.map { (id: "b-\($0)", takenAt: utc($0)) }
}

/// The ids kept, newest first, without the `b-` prefix.
private func keptTimes(_ plan: RetentionPlan) -> [String] {
    plan.kept.map { String($0.id.dropFirst(2)) }
}

@Suite("Retention: grandfather-father-son, as restic forget")
struct RetentionPolicyTests {
    @Test("no backups: an empty plan")
    func empty() {
        #expect(RetentionPolicy(last: 3).plan([]).decisions.isEmpty)
    }

    @Test("the newest backup is kept even when no rule keeps anything")
    func newestAlwaysKept() {
        let plan = RetentionPolicy().plan(backups(["2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", "2026-12-02T00:00:00Z"]))
        #expect(keptTimes(plan) == ["2026-12-03T00:00:00Z"])
        #expect(plan.kept.first?.reasons == ["newest"])
        #expect(plan.removed.count == 2)
    }

    @Test("last N keeps the N newest, whatever the input order")
    func last() {
        let times = (1...6).map { String(format: "2026-12-%02dT12:00:00Z", $0) }
        let plan = RetentionPolicy(last: 3).plan(backups(times.shuffled()))
        #expect(keptTimes(plan) == ["2026-12-06T12:00:00Z", "2026-12-05T12:00:00Z", "2026-12-04T12:00:00Z"])
        #expect(plan.kept.map(\.reasons) == [["newest", "last 1"], ["last 2"], ["last 3"]])
        #expect(plan.decisions.map(\.id) == times.reversed().map { "b-\($0)" }, "decisions are newest first")
    }

    @Test("daily keeps the newest backup of each of the newest N days that have one")
    func daily() {
        let plan = RetentionPolicy(daily: 2).plan(backups([
            "2026-12-05T01:00:00Z", "2026-12-05T18:00:00Z", "2026-12-04T03:00:00Z", "2026-12-04T23:59:59Z", "2026-12-03T12:00:00Z",
        ]))
        #expect(keptTimes(plan) == ["2026-12-05T18:00:00Z", "2026-12-04T23:59:59Z"])
        #expect(plan.kept.map(\.reasons) == [["newest", "daily 2026-12-05"], ["daily 2026-12-04"]])
    }

    @Test("days without backups do not use up the count")
    func gapsDoNotCount() {
        let plan = RetentionPolicy(daily: 3).plan(backups([
            "2026-11-01T00:00:00Z", "2026-11-05T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z",
        ]))
        #expect(keptTimes(plan) == ["2026-11-20T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-05T00:00:00Z"])
    }

    @Test("days are UTC days: 23:30 and 00:30 UTC are two days")
    func utcDays() {
        let plan = RetentionPolicy(daily: 2).plan(backups(["2026-12-04T23:30:00Z", "2026-12-05T00:30:00Z"]))
        #expect(plan.removed.isEmpty)
        #expect(plan.kept.map(\.reasons) == [["newest", "daily 2026-12-05"], ["daily 2026-12-04"]])
    }

    @Test("hourly buckets by UTC hour")
    func hourly() {
        let plan = RetentionPolicy(hourly: 2).plan(backups([
            "2026-12-05T06:10:00Z", "2026-12-05T06:50:00Z", "2026-12-05T05:59:59Z", "2026-12-05T04:00:00Z",
        ]))
        #expect(keptTimes(plan) == ["2026-12-05T06:50:00Z", "2026-12-05T05:59:59Z"])
        #expect(plan.kept.last?.reasons == ["hourly 2026-12-05T05"])
    }

    @Test("weekly uses ISO 8601 weeks (Monday first, week-numbering year)")
    func weekly() {
        // 2026-12-27 is a Sunday (week 52); 2026-12-28 a Monday (week 53);
        // 2027-01-01 a Friday, still in 2026's week 53.
        let plan = RetentionPolicy(weekly: 3).plan(backups([
            "2026-12-27T10:00:00Z", "2026-12-28T10:00:00Z", "2027-01-01T10:00:00Z", "2026-12-20T10:00:00Z", "2026-12-13T10:00:00Z",
        ]))
        #expect(plan.kept.map(\.reasons) == [["newest", "weekly 2026-W53"], ["weekly 2026-W52"], ["weekly 2026-W51"]])
        #expect(keptTimes(plan) == ["2027-01-01T10:00:00Z", "2026-12-27T10:00:00Z", "2026-12-20T10:00:00Z"])
    }

    @Test("monthly and yearly")
    func monthlyAndYearly() {
        let times = ["2024-06-01T00:00:00Z", "2025-03-10T00:00:00Z", "2025-12-31T23:00:00Z", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-20T00:00:00Z"]
        let monthly = RetentionPolicy(monthly: 3).plan(backups(times))
        #expect(keptTimes(monthly) == ["2026-02-20T00:00:00Z", "2026-01-15T00:00:00Z", "2025-12-31T23:00:00Z"])
        let yearly = RetentionPolicy(yearly: 5).plan(backups(times))
        #expect(keptTimes(yearly) == ["2026-02-20T00:00:00Z", "2025-12-31T23:00:00Z", "2024-06-01T00:00:00Z"])
        #expect(yearly.kept.map(\.reasons) == [["newest", "yearly 2026"], ["yearly 2025"], ["yearly 2024"]])
    }

    @Test("rules combine: a backup is kept when any rule keeps it, with every reason")
    func combined() {
        // Daily backups at 02:00 for 60 days ending 2026-12-05.
        let end = utc("2026-12-05T02:00:00Z")
        let all = (0..<60).map { day -> (id: String, takenAt: Date) in
            let date = end.addingTimeInterval(-Double(day) * 86_400)
            return (id: "d\(day)", takenAt: date)
        }
        let plan = RetentionPolicy(last: 2, daily: 7, weekly: 4, monthly: 3).plan(all)
        let kept = Set(plan.kept.map(\.id))
        // daily: days 0-6; weekly: the newest of W49 (d0, Sat 2026-12-05),
        // W48 (d6, Sun 11-29), W47 (d13), W46 (d20); monthly: Dec (d0), Nov
        // (d5, 11-30), Oct (d35, 10-31).
        #expect(kept == Set(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d13", "d20", "d35"]))
        #expect(plan.kept.first?.reasons == ["newest", "last 1", "daily 2026-12-05", "weekly 2026-W49", "monthly 2026-12"])
        #expect(plan.decisions.first { $0.id == "d5" }?.reasons == ["daily 2026-11-30", "monthly 2026-11"])
        #expect(plan.decisions.first { $0.id == "d6" }?.reasons == ["daily 2026-11-29", "weekly 2026-W48"])
        #expect(plan.removed.count == 50)
    }

    @Test("equal snapshot times: ordered by id, so the plan does not depend on input order")
    func ties() {
        let time = utc("2026-12-05T00:00:00Z")
        let input: [(id: String, takenAt: Date)] = [("a", time), ("c", time), ("b", time)]
        let first = RetentionPolicy(last: 2).plan(input)
        let second = RetentionPolicy(last: 2).plan(input.reversed())
        #expect(first == second)
        #expect(first.kept.map(\.id) == ["c", "b"])
    }

    @Test("summary names the rules that keep something")
    func summary() {
        #expect(RetentionPolicy(last: 3, daily: 7, weekly: 4, monthly: 12).summary == "last 3, daily 7, weekly 4, monthly 12")
        #expect(RetentionPolicy().keepsOnlyTheNewest)
        #expect(!RetentionPolicy(yearly: 1).keepsOnlyTheNewest)
    }
}
