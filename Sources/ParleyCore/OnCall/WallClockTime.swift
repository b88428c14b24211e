import Foundation

/// A date and time as a wall clock shows it, in no particular zone: `2026-01-05 09:00`.
///
/// Rotations are written and computed in wall time, so a 09:00 handoff stays at 09:00 whatever the
/// zone's offset that day. Arithmetic is on the proleptic Gregorian calendar with no leap seconds;
/// years run from 1 to 9999.
public struct WallClockTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 0001-01-01 00:00 wall time, in no zone.
    let seconds: Int64

    /// The first wall time there is: 0001-01-01 00:00.
    static let earliest = WallClockTime(seconds: 0)
    /// The last whole second there is: 9999-12-31 23:59:59.
    static let latest = WallClockTime(seconds: WallClockTime.daysFromYearOne(10000, 1, 1) * 86400 - 1)

    init(seconds: Int64) {
        self.seconds = max(0, min(seconds, Self.daysFromYearOne(10000, 1, 1) * 86400 - 1))
    }

    /// A wall time, or nil when the fields do not name one (month 13, 30 February, 24:00, year 0).
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.days(inMonth: month, of: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let days = Self.daysFromYearOne(Int64(year), Int64(month), Int64(day))
        seconds = days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Reads `2026-01-05 09:00` or `2026-01-05T09:00` (seconds optional), or nil.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 32 else { return nil }
        let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "T" || $0 == "t" })
        guard parts.count == 2, let date = Self.date(parts[0]), let time = Self.clock(parts[1]) else { return nil }
        self.init(
            year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute,
            second: time.second)
    }

    /// The calendar fields.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let day = seconds / 86400
        let rest = Int(seconds % 86400)
        let civil = Self.civil(fromDaysFromYearOne: day)
        return (civil.year, civil.month, civil.day, rest / 3600, rest / 60 % 60, rest % 60)
    }

    /// The day of the week.
    public var weekday: OnCallWeekday {
        // 0001-01-01 was a Monday.
        OnCallWeekday.week[Int((seconds / 86400 + 1) % 7)]
    }

    /// Midnight at the start of this day.
    var startOfDay: WallClockTime { WallClockTime(seconds: seconds - seconds % 86400) }

    /// This wall time moved by `delta` seconds of wall time (clamped to years 1…9999).
    func adding(seconds delta: Int64) -> WallClockTime {
        let (sum, overflow) = seconds.addingReportingOverflow(delta)
        return WallClockTime(seconds: overflow ? (delta < 0 ? 0 : Int64.max) : sum)
    }

    /// `2026-01-05 09:00`, with `:SS` only when the seconds are not zero.
    public var description: String {
        let c = components
        let date = "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
        let time = "\(pad(c.hour, 2)):\(pad(c.minute, 2))" + (c.second == 0 ? "" : ":\(pad(c.second, 2))")
        return date + " " + time
    }

    /// `09:00`, the clock part alone.
    var clockText: String {
        let c = components
        return "\(pad(c.hour, 2)):\(pad(c.minute, 2))" + (c.second == 0 ? "" : ":\(pad(c.second, 2))")
    }

    public static func < (lhs: WallClockTime, rhs: WallClockTime) -> Bool { lhs.seconds < rhs.seconds }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    // MARK: - Reading the parts

    /// `2026-01-05` as its fields (not yet checked against the calendar).
    static func date<S: StringProtocol>(_ text: S) -> (year: Int, month: Int, day: Int)? {
        let fields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 4, (1...2).contains(fields[1].count),
            (1...2).contains(fields[2].count), let year = number(fields[0]), let month = number(fields[1]),
            let day = number(fields[2])
        else { return nil }
        return (year, month, day)
    }

    /// `09:00` or `09:00:30` as its fields, each in range; `24:00` is not a time of day.
    static func clock<S: StringProtocol>(_ text: S) -> (hour: Int, minute: Int, second: Int)? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), fields.allSatisfy({ (1...2).contains($0.count) }),
            let hour = number(fields[0]), let minute = number(fields[1]), (0...23).contains(hour),
            (0...59).contains(minute), fields[1].count == 2
        else { return nil }
        var second = 0
        if fields.count == 3 {
            guard fields[2].count == 2, let value = number(fields[2]), (0...59).contains(value) else { return nil }
            second = value
        }
        return (hour, minute, second)
    }

    /// ASCII digits only, at most 9 of them, so that no input can overflow.
    static func number<S: StringProtocol>(_ text: S) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    // MARK: - Civil calendar arithmetic (Howard Hinnant's days_from_civil, shifted to year 1)

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 0001-01-01 to the given date, for years 1…10000.
    static func daysFromYearOne(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400  // y ≥ 0 here
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        // 306 days from 0000-03-01 to 0001-01-01.
        return era * 146097 + dayOfEra - 306
    }

    static func civil(fromDaysFromYearOne days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 306
        let era = z / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
