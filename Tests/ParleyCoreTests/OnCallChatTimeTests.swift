import Foundation
import Testing

@testable import ParleyCore

/// Times typed in chat, read in the schedule's zone, by the same daylight-saving rule as handoffs.
@Suite struct OnCallChatTimeTests {
    let paris: TimeZone
    /// Saturday 27 March 2027, 10:00 in Paris: the night before the clocks go forward.
    let now: Date

    init() throws {
        paris = try OnCallFixture.zone("Europe/Paris")
        now = try OnCallFixture.instant("2027-03-27T10:00:00+01:00")
    }

    func read(_ text: String) throws -> String {
        OnCallFixture.local(try ChatTime(parsing: text, in: paris, now: now).date, paris)
    }

    func problem(_ text: String) -> String? {
        do {
            _ = try ChatTime(parsing: text, in: paris, now: now)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func datesWithTimesReadInTheSchedulesZone() throws {
        #expect(try read("2026-12-24 18:00") == "2026-12-24 18:00 +01:00")
        #expect(try read("2026-12-24T18:00") == "2026-12-24 18:00 +01:00")
        #expect(try read("  2027-07-14   18:30 ") == "2027-07-14 18:30 +02:00")
        let newYork = try OnCallFixture.zone("America/New_York")
        let there = try ChatTime(parsing: "2026-12-24 18:00", in: newYork, now: now).date
        #expect(there == (try OnCallFixture.instant("2026-12-24T23:00:00Z")))
    }

    @Test func aTimeAloneIsTheNextTimeTheClockShowsIt() throws {
        #expect(try read("18:00") == "2027-03-27 18:00 +01:00")
        #expect(try read("09:00") == "2027-03-28 09:00 +02:00")  // tomorrow, after the clocks went forward
        #expect(try read("10:00") == "2027-03-27 10:00 +01:00")  // the current minute is still now
        #expect(try read("today 08:00") == "2027-03-27 08:00 +01:00")
        #expect(try read("Tomorrow 09:00") == "2027-03-28 09:00 +02:00")
    }

    @Test func aWeekdayIsTheNextOneStillAhead() throws {
        #expect(try read("mon 09:00") == "2027-03-29 09:00 +02:00")
        #expect(try read("saturday 11:00") == "2027-03-27 11:00 +01:00")
        #expect(try read("sat 09:00") == "2027-04-03 09:00 +02:00")
    }

    @Test func relativeTimesAreElapsedTimeFromNow() throws {
        #expect(try ChatTime(parsing: "+2h", in: paris, now: now).date == now.addingTimeInterval(7200))
        #expect(try ChatTime(parsing: "IN 1h30m", in: paris, now: now).date == now.addingTimeInterval(5400))
        #expect(try ChatTime(parsing: "now", in: paris, now: now).date == now)
        // Elapsed, not wall time: 24 hours from Saturday 10:00 is Sunday 11:00 after the change.
        #expect(try read("in 1d") == "2027-03-28 11:00 +02:00")
    }

    @Test func aSkippedTimeMovesForwardAndSaysSo() throws {
        let time = try ChatTime(parsing: "tomorrow 02:30", in: paris, now: now)
        #expect(OnCallFixture.local(time.date, paris) == "2027-03-28 03:30 +02:00")
        #expect(
            time.note
                == "2027-03-28 02:30 does not exist in Europe/Paris (the clocks go forward); read as 03:30")
        #expect(try ChatTime(parsing: "18:00", in: paris, now: now).note == nil)
    }

    @Test func aRepeatedTimeIsItsFirstOccurrenceAndSaysSo() throws {
        let time = try ChatTime(parsing: "2027-10-31 02:30", in: paris, now: now)
        #expect(time.date == (try OnCallFixture.instant("2027-10-31T00:30:00Z")))
        #expect(time.note?.contains("happens twice") == true)
    }

    @Test func wrongTimesSayWhatToWrite() {
        #expect(problem("2027-02-30 10:00") == "there is no day 30 in 2027-02, which has 28 days")
        #expect(problem("2027-13-01 10:00") == "there is no month 13; months run 1 to 12")
        #expect(problem("0000-01-01 10:00") == "year 0 is out of range")
        #expect(problem("25:00") == "'25:00' is not a time of day; write HH:MM, as in 18:00")
        #expect(problem("funday 10:00")?.hasPrefix("'funday' is not a day") == true)
        #expect(problem("tomorrow")?.contains("write a time as") == true)
        #expect(problem("")?.hasPrefix("no time given") == true)
        #expect(problem("+0h") == "'0h' is not a duration; write 2h, 30m or 1h30m")
        #expect(
            problem("in 99999999999999999999d") == "'99999999999999999999d' is not a duration; write 2h, 30m or 1h30m")
        #expect(problem("in 4000d") == "'4000d' is more than ten years ahead")
        #expect(problem(String(repeating: "9", count: 10000))?.hasPrefix("that is too long") == true)
        #expect(problem("١٨:٠٠") != nil)  // Arabic-Indic digits are numbers, but not ASCII ones
    }

    @Test func randomTextNeverCrashesTheParser() {
        var generator = SeededGenerator(seed: 2027)
        let pieces = [
            "2027", "-", "03", "-28", " ", "T", "t", ":", "02", ":30", "24", "99", "+", "in", "h", "d", "m", "mon",
            "tomorrow", "today", "now", "-1", "9223372036854775807", "٣", "é", "🙂", "\u{0301}", "\t", "0", "00",
            "--", "::", "1e9", "nan", "inf",
        ]
        var parsed = 0
        var refused = 0
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in
                pieces.randomElement(using: &generator) ?? ""
            }.joined()
            do {
                let time = try ChatTime(parsing: text, in: paris, now: now)
                #expect(time.date.timeIntervalSince1970.isFinite)
                parsed += 1
            } catch {
                #expect(!error.message.isEmpty)
                refused += 1
            }
            _ = WallClockTime(parsing: text)
            _ = try? OnCallWeekday.days(parsing: text)
            _ = try? OnCallRestriction(days: [], hours: text)
        }
        #expect(parsed > 0)
        #expect(refused > 0)
    }

    @Test func wallClockTimesCountDaysLikeTheCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try OnCallFixture.zone("UTC")
        var generator = SeededGenerator(seed: 9)
        // From 1583: Foundation's Gregorian calendar is Julian before October 1582; ours is proleptic.
        for _ in 0..<500 {
            let seconds = Int64.random(in: -12_212_553_600...253_402_300_799, using: &generator)
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let expected = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
            let wall = ZoneClock(zone: calendar.timeZone).wallTime(at: seconds)
            let c = wall.components
            #expect(
                [c.year, c.month, c.day, c.hour, c.minute, c.second, wall.weekday.rawValue + 1] == [
                    expected.year, expected.month, expected.day, expected.hour, expected.minute, expected.second,
                    expected.weekday,
                ])
        }
        #expect(WallClockTime(parsing: "2028-02-29 12:00")?.description == "2028-02-29 12:00")
        #expect(WallClockTime(parsing: "2027-02-29 12:00") == nil)
        #expect(WallClockTime(parsing: "2027-01-05 24:00") == nil)
    }
}
