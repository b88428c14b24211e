import Foundation
import Testing

@testable import ParleyCore

/// Layers stack as in PagerDuty, overrides sit on top, and every query is bounded.
@Suite struct OnCallLayerTests {
    let paris: TimeZone

    init() throws {
        paris = try OnCallFixture.zone("Europe/Paris")
    }

    /// A daily base (ana, ben from Friday 1 January 2027) under a weekly business-hours layer.
    func businessHours() throws -> OnCallSchedule {
        let weekdays = try OnCallWeekday.days(parsing: "mon-fri")
        return OnCallSchedule(
            name: "payments", timeZone: paris,
            layers: [
                try OnCallFixture.layer("base", .daily, "2027-01-01 09:00", ["ana", "ben"]),
                try OnCallFixture.layer(
                    "business", .weekly, "2027-01-04 09:00", ["ivy", "jon"],
                    restriction: try OnCallRestriction(days: weekdays, hours: "09:00-18:00")),
            ])
    }

    func spans(_ schedule: OnCallSchedule, from: String, to: String, overrides: [OnCallOverride] = []) throws
        -> [String]
    {
        schedule.shifts(from: try OnCallFixture.instant(from), to: try OnCallFixture.instant(to), overrides: overrides)
            .map { span in
                let start = OnCallFixture.local(span.start, schedule.timeZone).dropFirst(5).prefix(11)
                let end = OnCallFixture.local(span.end, schedule.timeZone).dropFirst(5).prefix(11)
                return "\(start)–\(end) \(span.person ?? "nobody") (\(span.source))"
            }
    }

    @Test func businessHoursLeaveNightsAndWeekendsToTheLayerBelow() throws {
        let schedule = try businessHours()
        #expect(
            try spans(schedule, from: "2027-01-04T00:00:00+01:00", to: "2027-01-05T00:00:00+01:00") == [
                "01-04 00:00–01-04 09:00 ana (base)", "01-04 09:00–01-04 18:00 ivy (business)",
                "01-04 18:00–01-05 00:00 ben (base)",
            ])
        #expect(
            try spans(schedule, from: "2027-01-09T00:00:00+01:00", to: "2027-01-10T00:00:00+01:00") == [
                "01-09 00:00–01-09 09:00 ben (base)", "01-09 09:00–01-10 00:00 ana (base)",
            ])
        // The second week is jon's: the weekly layer keeps rotating through its restricted-off time.
        #expect(schedule.onCall(at: try OnCallFixture.instant("2027-01-11T10:00:00+01:00")) == "jon")
        #expect(schedule.onCall(at: try OnCallFixture.instant("2027-01-11T20:00:00+01:00")) == "ana")
    }

    @Test func aWindowCrossingMidnightBelongsToTheDayItOpensOn() throws {
        let friday = try OnCallRestriction(days: OnCallWeekday.days(parsing: "fri"), hours: "22:00-06:00")
        let schedule = OnCallSchedule(
            name: "nights", timeZone: paris,
            layers: [try OnCallFixture.layer("night", .weekly, "2027-01-01 00:00", ["nox"], restriction: friday)])
        #expect(
            try spans(schedule, from: "2027-01-07T00:00:00+01:00", to: "2027-01-10T00:00:00+01:00") == [
                "01-07 00:00–01-08 22:00 nobody (nobody)", "01-08 22:00–01-09 06:00 nox (night)",
                "01-09 06:00–01-10 00:00 nobody (nobody)",
            ])
    }

    @Test func aLayerHasNobodyBeforeItStartsAndWithNoPeople() throws {
        let schedule = OnCallSchedule(
            name: "new", timeZone: paris,
            layers: [
                try OnCallFixture.layer("empty", .daily, "2020-01-01 00:00", []),
                try OnCallFixture.layer("late", .daily, "2027-02-01 09:00", ["ana"]),
            ])
        #expect(schedule.onCall(at: try OnCallFixture.instant("2027-02-01T07:59:59Z")) == nil)
        #expect(schedule.onCall(at: try OnCallFixture.instant("2027-02-01T08:00:00Z")) == "ana")
        let first = schedule.shifts(
            from: try OnCallFixture.instant("2027-01-31T00:00:00Z"),
            to: try OnCallFixture.instant("2027-02-02T00:00:00Z"))
        #expect(first.map(\.source) == [.nobody, .layer("late")])
    }

    @Test func overridesWinOverEveryLayerAndTheLaterOverrideWinsWhereTheyOverlap() throws {
        let schedule = try businessHours()
        let overrides = [
            OnCallOverride(
                person: "zoe", start: try OnCallFixture.instant("2027-01-04T12:00:00+01:00"),
                end: try OnCallFixture.instant("2027-01-04T20:00:00+01:00"), madeBy: "ivy"),
            OnCallOverride(
                person: "yan", start: try OnCallFixture.instant("2027-01-04T14:00:00+01:00"),
                end: try OnCallFixture.instant("2027-01-04T15:00:00+01:00"), madeBy: "ivy"),
            // Ends before it starts: no effect.
            OnCallOverride(
                person: "bad", start: try OnCallFixture.instant("2027-01-04T16:00:00+01:00"),
                end: try OnCallFixture.instant("2027-01-04T10:00:00+01:00"), madeBy: "ivy"),
        ]
        #expect(
            try spans(
                schedule, from: "2027-01-04T09:00:00+01:00", to: "2027-01-05T00:00:00+01:00", overrides: overrides)
                == [
                    "01-04 09:00–01-04 12:00 ivy (business)", "01-04 12:00–01-04 14:00 zoe (override)",
                    "01-04 14:00–01-04 15:00 yan (override)", "01-04 15:00–01-04 20:00 zoe (override)",
                    "01-04 20:00–01-05 00:00 ben (base)",
                ])
        let found = schedule.shifts(
            from: try OnCallFixture.instant("2027-01-04T13:00:00+01:00"),
            to: try OnCallFixture.instant("2027-01-04T13:30:00+01:00"), overrides: overrides)
        #expect(found.map(\.source) == [.override(madeBy: "ivy")])
    }

    @Test func aSwapIsTwoOverridesThatExchangeTwoShifts() throws {
        let schedule = try businessHours()
        let week = schedule.shifts(
            from: try OnCallFixture.instant("2027-01-09T09:00:00+01:00"),
            to: try OnCallFixture.instant("2027-01-11T09:00:00+01:00"))
        #expect(week.map(\.person) == ["ana", "ben"])
        let swap = try OnCallOverride.swap(week[0], week[1], madeBy: "ben")
        #expect(swap.map(\.person) == ["ben", "ana"])
        let swapped = schedule.shifts(from: week[0].start, to: week[1].end, overrides: swap)
        #expect(swapped.map(\.person) == ["ben", "ana"])
        #expect(swapped.map(\.source) == [.override(madeBy: "ben"), .override(madeBy: "ben")])
        #expect(swapped.map(\.start) == week.map(\.start))

        #expect(throws: OnCallError.self) { try OnCallOverride.swap(week[0], week[0], madeBy: "ben") }
        let empty = OnCallShift(
            person: nil, start: week[1].end, end: week[1].end.addingTimeInterval(60), source: .nobody)
        let error = #expect(throws: OnCallError.self) { try OnCallOverride.swap(week[0], empty, madeBy: "ben") }
        #expect(error?.message.contains("someone on call in both") == true)
    }

    @Test func neighbouringSpansOfOnePersonAndSourceMergeAndOnlyPersonChangesAreHandoffs() throws {
        let schedule = OnCallSchedule(
            name: "solo", timeZone: paris,
            layers: [try OnCallFixture.layer("solo", .daily, "2027-01-01 09:00", ["ana"])])
        let from = try OnCallFixture.instant("2027-01-02T00:00:00Z")
        let to = try OnCallFixture.instant("2027-01-09T00:00:00Z")
        #expect(schedule.shifts(from: from, to: to).count == 1)
        let overrides = [
            OnCallOverride(
                person: "ana", start: from.addingTimeInterval(3600), end: from.addingTimeInterval(7200), madeBy: "x"),
            OnCallOverride(
                person: "ana", start: from.addingTimeInterval(7200), end: from.addingTimeInterval(9000), madeBy: "x"),
            OnCallOverride(
                person: "ana", start: from.addingTimeInterval(9000), end: from.addingTimeInterval(9900), madeBy: "y"),
        ]
        let spans = schedule.shifts(from: from, to: to, overrides: overrides)
        #expect(
            spans.map(\.source) == [.layer("solo"), .override(madeBy: "x"), .override(madeBy: "y"), .layer("solo")])
        #expect(spans[1].end == from.addingTimeInterval(9000))
        #expect(schedule.handoffs(from: from, to: to, overrides: overrides).isEmpty)
    }

    @Test func consecutiveRangesReportEachHandoffOnce() throws {
        let schedule = try businessHours()
        let a = try OnCallFixture.instant("2027-01-04T00:00:00+01:00")
        let b = try OnCallFixture.instant("2027-01-04T09:00:00+01:00")  // exactly a handoff
        let c = try OnCallFixture.instant("2027-01-06T00:00:00+01:00")
        let whole = schedule.handoffs(from: a, to: c)
        #expect(whole.count == 4)
        #expect(schedule.handoffs(from: a, to: b) + schedule.handoffs(from: b, to: c) == whole)
        #expect(schedule.handoffs(from: b, to: c).first?.at == b)
        #expect(whole.first.map { "\($0.from ?? "-")→\($0.to ?? "-") \($0.source)" } == "ana→ivy business")
    }

    @Test func onCallAgreesWithTheSpansAtRandomInstants() throws {
        var generator = SeededGenerator(seed: 42)
        let schedule = try businessHours()
        let start = try OnCallFixture.instant("2027-01-01T00:00:00Z")
        let spans = schedule.shifts(from: start, to: start.addingTimeInterval(60 * 86400))
        #expect(
            zip(spans, spans.dropFirst()).allSatisfy {
                $0.end == $1.start && ($0.person, $0.source) != ($1.person, $1.source)
            })
        for _ in 0..<300 {
            let instant = start.addingTimeInterval(TimeInterval(Int.random(in: 0..<(60 * 86400), using: &generator)))
            let span = try #require(spans.first { $0.start <= instant && instant < $0.end })
            #expect(schedule.onCall(at: instant) == span.person)
        }
    }

    @Test func aHundredYearRangeIsCappedAtAYearAndADay() throws {
        let schedule = try businessHours()
        let from = try OnCallFixture.instant("2027-01-01T00:00:00Z")
        let spans = schedule.shifts(from: from, to: from.addingTimeInterval(100 * 366 * 86400))
        let last = try #require(spans.last)
        #expect(last.end == from.addingTimeInterval(OnCallSchedule.maximumRange))
        #expect(spans.count > 600)  // about two or three a day, for the whole year
        #expect(schedule.handoffs(from: from, to: .distantFuture).last.map { $0.at <= last.end } == true)
    }

    @Test func extremeDatesAndRotationsNeverTrap() throws {
        let layers = [
            try OnCallFixture.layer("huge", .every(seconds: .max), "2027-01-01 00:00", ["a"]),
            try OnCallFixture.layer("negative", .every(seconds: -5), "2027-01-01 00:00", ["b", "c"]),
            try OnCallFixture.layer("zero", .every(seconds: 0), "9999-12-31 23:00", ["d"]),
            try OnCallFixture.layer("first", .daily, "0001-01-01 00:00", ["e", "f"]),
        ]
        let schedule = OnCallSchedule(name: "edge", timeZone: paris, layers: layers)
        let extremes: [Date] = [
            .distantPast, .distantFuture, Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -1e300),
            Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: .infinity),
            Date(timeIntervalSince1970: -.infinity), Date(timeIntervalSince1970: 253_402_300_000),
        ]
        for a in extremes {
            for b in extremes {
                let spans = schedule.shifts(from: a, to: b)
                #expect(spans.allSatisfy { $0.start < $0.end })
                _ = schedule.handoffs(from: a, to: b)
            }
            _ = schedule.onCall(at: a)
        }
        #expect(schedule.shifts(from: .distantFuture, to: .distantPast).isEmpty)
        // One-minute shifts: a year would be half a million; the query stops at the shift budget.
        let fast = OnCallSchedule(
            name: "fast", timeZone: paris,
            layers: [try OnCallFixture.layer("fast", .every(seconds: 1), "2027-01-01 00:00", ["a", "b"])])
        let from = try OnCallFixture.instant("2027-02-01T00:00:00Z")
        let spans = fast.shifts(from: from, to: from.addingTimeInterval(OnCallSchedule.maximumRange))
        #expect(spans.count == OnCallSchedule.maximumShiftsPerLayer)
        #expect(spans.last?.end == from.addingTimeInterval(TimeInterval(60 * OnCallSchedule.maximumShiftsPerLayer)))
    }
}
