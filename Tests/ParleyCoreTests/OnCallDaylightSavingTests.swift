import Foundation
import Testing

@testable import ParleyCore

/// Helpers shared by the on-call tests: dates written as text, read independently of the engine.
enum OnCallFixture {
    static func zone(_ identifier: String) throws -> TimeZone {
        try #require(TimeZone(identifier: identifier), "no time zone \(identifier)")
    }

    /// An instant written in ISO 8601 with its offset: `2027-03-28T01:30:00Z`.
    static func instant(_ text: String) throws -> Date {
        try Date(text, strategy: .iso8601)
    }

    /// The date as Foundation's own formatter shows it in `zone`: `2027-03-28 03:30 +02:00`.
    static func local(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm xxx"
        return formatter.string(from: date)
    }

    static func wall(_ text: String) throws -> WallClockTime {
        try #require(WallClockTime(parsing: text), "not a wall time: \(text)")
    }

    static func layer(
        _ name: String, _ rotation: OnCallRotation, _ start: String, _ people: [String],
        restriction: OnCallRestriction? = nil
    ) throws -> OnCallLayer {
        OnCallLayer(name: name, rotation: rotation, start: try wall(start), people: people, restriction: restriction)
    }

    /// A schedule of one layer, and the span of wall days around `day` in its zone.
    static func schedule(_ zone: String, _ layers: OnCallLayer...) throws -> OnCallSchedule {
        OnCallSchedule(name: "test", timeZone: try Self.zone(zone), layers: layers)
    }

    /// Handoffs of a schedule over a range given in UTC, shown as local text with the new person.
    static func handoffs(_ schedule: OnCallSchedule, from: String, to: String) throws -> [String] {
        try schedule.handoffs(from: instant(from), to: instant(to)).map {
            "\(local($0.at, schedule.timeZone)) \($0.to ?? "nobody")"
        }
    }
}

extension OnCallShift {
    /// How long the span lasts, in hours of real time.
    var hours: Double { end.timeIntervalSince(start) / 3600 }
}

/// Handoffs are wall-clock times: a daylight-saving change never moves, drops or repeats one.
///
/// 2027 transitions: Europe/Paris forward 28 Mar, back 31 Oct (02:00–03:00 both times);
/// America/New_York forward 14 Mar (02:00–03:00), back 7 Nov (01:00–02:00 repeats);
/// Australia/Sydney back 4 Apr (02:00–03:00 repeats), forward 3 Oct (02:00–03:00 skipped).
@Suite struct OnCallDaylightSavingTests {
    struct Transition: CustomTestStringConvertible, Sendable {
        var zone: String
        /// The Saturday before the clocks go forward, and the Monday after, as UTC bounds.
        var gapWeekend: (from: String, to: String)
        var gapSunday: String
        var gapOffsets: (before: String, after: String)
        var repeatWeekend: (from: String, to: String)
        var repeatSunday: String
        var repeatOffsets: (before: String, after: String)
        /// A wall time inside the hour that happens twice.
        var repeatedClock: String
        var testDescription: String { zone }
    }

    static let transitions = [
        Transition(
            zone: "Europe/Paris", gapWeekend: ("2027-03-26T23:00:00Z", "2027-03-28T22:00:00Z"),
            gapSunday: "2027-03-28", gapOffsets: ("+01:00", "+02:00"),
            repeatWeekend: ("2027-10-29T22:00:00Z", "2027-10-31T23:00:00Z"), repeatSunday: "2027-10-31",
            repeatOffsets: ("+02:00", "+01:00"), repeatedClock: "02:30"),
        Transition(
            zone: "America/New_York", gapWeekend: ("2027-03-13T05:00:00Z", "2027-03-15T04:00:00Z"),
            gapSunday: "2027-03-14", gapOffsets: ("-05:00", "-04:00"),
            repeatWeekend: ("2027-11-06T04:00:00Z", "2027-11-08T05:00:00Z"), repeatSunday: "2027-11-07",
            repeatOffsets: ("-04:00", "-05:00"), repeatedClock: "01:30"),
        Transition(
            zone: "Australia/Sydney", gapWeekend: ("2027-10-01T14:00:00Z", "2027-10-03T13:00:00Z"),
            gapSunday: "2027-10-03", gapOffsets: ("+10:00", "+11:00"),
            repeatWeekend: ("2027-04-02T13:00:00Z", "2027-04-04T14:00:00Z"), repeatSunday: "2027-04-04",
            repeatOffsets: ("+11:00", "+10:00"), repeatedClock: "02:30"),
    ]

    static func day(_ sunday: String, _ delta: Int) -> String {
        // Only used for days inside one month, never across a month's end.
        let parts = sunday.split(separator: "-")
        let day = (Int(parts[2]) ?? 0) + delta
        return "\(parts[0])-\(parts[1])-\(day < 10 ? "0" : "")\(day)"
    }

    @Test(arguments: transitions)
    func dailyNineOClockHandsOffAtNineEveryDayAcrossTheGap(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("primary", .daily, "2027-01-04 09:00", ["ana", "ben", "cai"]))
        let saturday = Self.day(t.gapSunday, -1)
        let found = try OnCallFixture.handoffs(schedule, from: t.gapWeekend.from, to: t.gapWeekend.to)
        #expect(found.count == 2)
        #expect(found.first?.hasPrefix("\(saturday) 09:00 \(t.gapOffsets.before)") == true)
        #expect(found.last?.hasPrefix("\(t.gapSunday) 09:00 \(t.gapOffsets.after)") == true)
        // Saturday's shift is the short one: 23 hours of real time for a day of wall time.
        let shifts = schedule.shifts(
            from: try OnCallFixture.instant(t.gapWeekend.from), to: try OnCallFixture.instant(t.gapWeekend.to))
        #expect(shifts.count == 3)
        #expect(shifts[1].end.timeIntervalSince(shifts[1].start) == 23 * 3600)
        #expect(Set(shifts.map(\.person)).count == 3)
    }

    @Test(arguments: transitions)
    func dailyNineOClockHandsOffAtNineEveryDayAcrossTheRepeat(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("primary", .daily, "2027-01-04 09:00", ["ana", "ben", "cai"]))
        let saturday = Self.day(t.repeatSunday, -1)
        let found = try OnCallFixture.handoffs(schedule, from: t.repeatWeekend.from, to: t.repeatWeekend.to)
        #expect(found.count == 2)
        #expect(found.first?.hasPrefix("\(saturday) 09:00 \(t.repeatOffsets.before)") == true)
        #expect(found.last?.hasPrefix("\(t.repeatSunday) 09:00 \(t.repeatOffsets.after)") == true)
        let shifts = schedule.shifts(
            from: try OnCallFixture.instant(t.repeatWeekend.from), to: try OnCallFixture.instant(t.repeatWeekend.to))
        #expect(shifts.count == 3)
        #expect(shifts[1].end.timeIntervalSince(shifts[1].start) == 25 * 3600)
    }

    @Test(arguments: transitions)
    func aHandoffInsideTheGapMovesForwardByTheGapOnlyThatDay(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("night", .daily, "2027-01-04 02:30", ["ana", "ben", "cai"]))
        let saturday = Self.day(t.gapSunday, -1)
        let monday = Self.day(t.gapSunday, 1)
        let found = try OnCallFixture.handoffs(
            schedule, from: t.gapWeekend.from,
            to: OnCallFixture.instant(t.gapWeekend.to).addingTimeInterval(86400)
                .formatted(.iso8601))
        #expect(
            found.map { String($0.prefix(23)) } == [
                "\(saturday) 02:30 \(t.gapOffsets.before)", "\(t.gapSunday) 03:30 \(t.gapOffsets.after)",
                "\(monday) 02:30 \(t.gapOffsets.after)",
            ])
        // Real time: Saturday's shift lasts 24 h (02:30 read with the old offset), Sunday's 23 h.
        let instants = try schedule.handoffs(
            from: OnCallFixture.instant(t.gapWeekend.from),
            to: OnCallFixture.instant(t.gapWeekend.to).addingTimeInterval(86400)
        ).map(\.at)
        #expect(instants[1].timeIntervalSince(instants[0]) == 24 * 3600)
        #expect(instants[2].timeIntervalSince(instants[1]) == 23 * 3600)
    }

    @Test(arguments: transitions)
    func aHandoffInTheRepeatedHourHappensOnceAtItsFirstOccurrence(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("night", .daily, "2027-01-04 \(t.repeatedClock)", ["ana", "ben", "cai"]))
        let found = try OnCallFixture.handoffs(schedule, from: t.repeatWeekend.from, to: t.repeatWeekend.to)
        let sunday = found.filter { $0.hasPrefix(t.repeatSunday) }
        #expect(sunday.count == 1)
        #expect(sunday.first?.hasPrefix("\(t.repeatSunday) \(t.repeatedClock) \(t.repeatOffsets.before)") == true)
        let instants = try schedule.handoffs(
            from: OnCallFixture.instant(t.repeatWeekend.from),
            to: OnCallFixture.instant(t.repeatWeekend.to).addingTimeInterval(86400)
        ).map(\.at)
        #expect(instants.count == 3)
        #expect(instants[1].timeIntervalSince(instants[0]) == 24 * 3600)
        #expect(instants[2].timeIntervalSince(instants[1]) == 25 * 3600)
    }

    @Test(arguments: transitions)
    func twelveHourShiftsKeepTheirWallClockTimesAndAbsorbTheChange(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("split", .every(seconds: 12 * 3600), "2027-01-04 09:00", ["ana", "ben"]))
        for (range, hours) in [(t.gapWeekend, 11.0), (t.repeatWeekend, 13.0)] {
            let shifts = schedule.shifts(
                from: try OnCallFixture.instant(range.from), to: try OnCallFixture.instant(range.to))
            let starts = shifts.dropFirst().map {
                OnCallFixture.local($0.start, schedule.timeZone).dropFirst(11).prefix(5)
            }
            #expect(starts == ["09:00", "21:00", "09:00", "21:00"])
            let lengths = shifts.dropFirst().dropLast().map { $0.end.timeIntervalSince($0.start) / 3600 }
            #expect(lengths.sorted() == [12, 12, hours].sorted())
            #expect(Set(shifts.map(\.person)) == ["ana", "ben"])
            #expect(zip(shifts, shifts.dropFirst()).allSatisfy { $0.person != $1.person && $0.end == $1.start })
        }
    }

    @Test(arguments: transitions)
    func twelveHourShiftsAtTwoThirtyMoveOnlyTheSkippedHandoff(_ t: Transition) throws {
        let schedule = try OnCallFixture.schedule(
            t.zone, OnCallFixture.layer("split", .every(seconds: 12 * 3600), "2027-01-04 02:30", ["ana", "ben"]))
        let found = try OnCallFixture.handoffs(schedule, from: t.gapWeekend.from, to: t.gapWeekend.to)
        let clocks = found.map { $0.dropFirst(11).prefix(5) }
        #expect(clocks == ["02:30", "14:30", "03:30", "14:30"])
        #expect(found[2].hasPrefix("\(t.gapSunday) 03:30"))
    }

    @Test func theDayParisSkipsAnHourIs23HoursAndTheDayItRepeatsOneIs25() throws {
        let schedule = try OnCallFixture.schedule(
            "Europe/Paris", OnCallFixture.layer("days", .daily, "2027-01-01 00:00", ["ana", "ben"]))
        let whole = schedule.shifts(
            from: try OnCallFixture.instant("2027-03-27T23:00:00Z"),
            to: try OnCallFixture.instant("2027-03-28T22:00:00Z"))
        #expect(whole.count == 1)
        #expect(whole.first?.hours == 23)
        let october = schedule.shifts(
            from: try OnCallFixture.instant("2027-10-30T22:00:00Z"),
            to: try OnCallFixture.instant("2027-10-31T23:00:00Z"))
        #expect(october.count == 1)
        #expect(october.first?.hours == 25)
    }

    @Test func aDayThatDoesNotExistSkipsItsShiftWithoutOverlap() throws {
        // Samoa skipped 30 December 2011 when it moved across the date line.
        let schedule = try OnCallFixture.schedule(
            "Pacific/Apia", OnCallFixture.layer("days", .daily, "2011-12-26 09:00", ["ana", "ben", "cai"]))
        let shifts = schedule.shifts(
            from: try OnCallFixture.instant("2011-12-29T09:00:00-10:00"),
            to: try OnCallFixture.instant("2012-01-01T09:00:00+14:00"))
        // The 29th is ana's (shift 3); the 30th (ben's) never happens; the 31st is cai's.
        #expect(shifts.map(\.person) == ["ana", "cai"])
        #expect(shifts.first?.hours == 24)
        #expect(OnCallFixture.local(shifts[1].start, schedule.timeZone) == "2011-12-31 09:00 +14:00")
        #expect(zip(shifts, shifts.dropFirst()).allSatisfy { $0.end == $1.start })
    }

    @Test func rotationsShorterThanTheGapNeverOverlap() throws {
        let schedule = try OnCallFixture.schedule(
            "Europe/Paris",
            OnCallFixture.layer("fast", .every(seconds: 1800), "2027-03-27 00:00", ["a", "b", "c", "d"]))
        let shifts = schedule.shifts(
            from: try OnCallFixture.instant("2027-03-28T00:00:00Z"),
            to: try OnCallFixture.instant("2027-03-28T03:00:00Z"))
        #expect(zip(shifts, shifts.dropFirst()).allSatisfy { $0.end == $1.start && $0.person != $1.person })
        #expect(shifts.allSatisfy { $0.start < $0.end })
        // 02:00 and 02:30 do not exist; 03:00 and 03:30 do, so the 02:xx shifts have no time left.
        let local = shifts.map { OnCallFixture.local($0.start, schedule.timeZone) }
        #expect(local.contains("2027-03-28 03:00 +02:00"))
        #expect(local.contains("2027-03-28 03:30 +02:00"))
        #expect(shifts.count == 6)
    }

    @Test func theRuleIsTheSameOneZoneClockAppliesEverywhere() throws {
        let clock = ZoneClock(zone: try OnCallFixture.zone("Europe/Paris"))
        let skipped = clock.resolve(try OnCallFixture.wall("2027-03-28 02:30"))
        #expect(skipped.reading == .skipped(gap: 3600))
        #expect(skipped.instant == Int64(try OnCallFixture.instant("2027-03-28T03:30:00+02:00").timeIntervalSince1970))
        let repeated = clock.resolve(try OnCallFixture.wall("2027-10-31 02:30"))
        #expect(repeated.reading == .repeated(by: 3600))
        #expect(repeated.instant == Int64(try OnCallFixture.instant("2027-10-31T02:30:00+02:00").timeIntervalSince1970))
        let plain = clock.resolve(try OnCallFixture.wall("2027-07-14 12:00"))
        #expect(plain.reading == .exact)
        #expect(plain.instant == Int64(try OnCallFixture.instant("2027-07-14T10:00:00Z").timeIntervalSince1970))
        #expect(clock.wallTime(at: plain.instant).description == "2027-07-14 12:00")
    }
}
