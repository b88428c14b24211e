import Foundation
import Testing

@testable import ParleyCore

@Suite struct CronTests {
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!
    let utc = TimeZone(identifier: "UTC")!

    func at(_ text: String) -> Date { AuditClock.parse(text)! }

    func next(_ cron: String, after: String, in zone: TimeZone) throws -> String? {
        try CronExpression(cron).next(after: at(after), in: zone).map { AuditClock.format($0) }
    }

    @Test func fieldsRangesStepsListsAndNames() throws {
        // Friday 2026-11-27 17:50 UTC → the next weekday run is Monday 09:00.
        #expect(try next("*/15 9-17 * * mon-fri", after: "2026-11-27T17:50:00Z", in: utc) == "2026-11-30T09:00:00.000Z")
        #expect(try next("*/15 9-17 * * mon-fri", after: "2026-11-27T16:50:00Z", in: utc) == "2026-11-27T17:00:00.000Z")
        #expect(try next("5,35 */6 * jan,jul *", after: "2026-11-27T00:00:00Z", in: utc) == "2027-01-01T00:05:00.000Z")
        #expect(try next("0 12 * * 7", after: "2026-11-27T00:00:00Z", in: utc) == "2026-11-29T12:00:00.000Z")
        #expect(try next("@hourly", after: "2026-11-27T10:00:00Z", in: utc) == "2026-11-27T11:00:00.000Z")
        #expect(try next("@yearly", after: "2026-11-27T10:00:00Z", in: utc) == "2027-01-01T00:00:00.000Z")
        // 29 February on its own: the next one.
        #expect(try next("0 0 29 2 *", after: "2026-11-27T00:00:00Z", in: utc) == "2028-02-29T00:00:00.000Z")
    }

    @Test func bothDayFieldsRestrictedMeansEither() throws {
        // The 13th, or any Friday: Friday 4 December comes before Sunday 13 December.
        #expect(try next("0 0 13 * fri", after: "2026-11-28T00:00:00Z", in: utc) == "2026-12-04T00:00:00.000Z")
        #expect(try next("0 0 13 * *", after: "2026-11-28T00:00:00Z", in: utc) == "2026-12-13T00:00:00.000Z")
    }

    @Test func timeZonesShiftTheRun() throws {
        // 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer.
        #expect(try next("0 9 * * *", after: "2026-11-27T10:00:00Z", in: paris) == "2026-11-28T08:00:00.000Z")
        #expect(try next("0 9 * * *", after: "2026-06-01T10:00:00Z", in: paris) == "2026-06-02T07:00:00.000Z")
        #expect(try next("0 9 * * *", after: "2026-11-27T10:00:00Z", in: newYork) == "2026-11-27T14:00:00.000Z")
    }

    @Test func aTimeSkippedBySpringingForwardRunsOnceWhenTheGapEnds() throws {
        // Paris, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist.
        #expect(try next("30 2 * * *", after: "2026-03-28T23:00:00Z", in: paris) == "2026-03-29T01:00:00.000Z")
        #expect(try next("30 2 * * *", after: "2026-03-29T01:00:00Z", in: paris) == "2026-03-30T00:30:00.000Z")
        // Every 15 minutes through the gap: 01:45 CET, then 03:00 CEST once, then 03:15.
        let cron = try CronExpression("*/15 * * * *")
        var times: [String] = []
        var cursor = at("2026-03-29T00:40:00Z")
        for _ in 0..<4 {
            cursor = try #require(cron.next(after: cursor, in: paris))
            times.append(AuditClock.format(cursor))
        }
        #expect(
            times == [
                "2026-03-29T00:45:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-29T01:15:00.000Z",
                "2026-03-29T01:30:00.000Z",
            ])
        // New York, 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        #expect(try next("15 2 * * *", after: "2026-03-08T05:00:00Z", in: newYork) == "2026-03-08T07:00:00.000Z")
    }

    @Test func aTimeRepeatedByFallingBackRunsOnce() throws {
        // Paris, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30 and 01:30 UTC.
        #expect(try next("30 2 * * *", after: "2026-10-24T23:00:00Z", in: paris) == "2026-10-25T00:30:00.000Z")
        #expect(try next("30 2 * * *", after: "2026-10-25T00:30:00Z", in: paris) == "2026-10-26T01:30:00.000Z")
    }

    @Test func mistakesSayWhichFieldAndWhy() {
        func problem(_ text: String) -> String? {
            do {
                _ = try CronExpression(text)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem("61 * * * *") == "minute 61 is out of range 0-59")
        #expect(problem("* * *") == "'* * *' has 3 field(s); cron needs 5: minute hour day month weekday")
        #expect(problem("@every 5m")?.hasPrefix("unknown shortcut") == true)
        #expect(problem("5-1 * * * *") == "the range '5-1' in the minute field runs backwards")
        #expect(problem("* * * foo *") == "'foo' is not a month")
        #expect(problem("*/0 * * * *") == "the step in '*/0' must be a positive number")
        #expect(problem("1,,2 * * * *")?.contains("empty list item") == true)
    }
}
