import Foundation

/// A cron schedule: five fields (minute hour day-of-month month day-of-week) or a shortcut
/// (`@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`), read in a time zone.
///
/// As in Vixie cron, when both day fields are restricted a day matching either runs. Across daylight
/// saving changes: a time that does not exist (clocks spring forward) runs once when the gap ends;
/// a time that happens twice (clocks fall back) runs once, the first time.
/// A value: one field per cron field, and the two flags cron's day rule needs.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    static let shortcuts = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses an expression, or says what is wrong with which field.
    public init(_ text: String) throws(CronError) {
        source = text
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let known = Self.shortcuts[trimmed] else {
                throw CronError("unknown shortcut '\(text)'; use @hourly, @daily, @weekly, @monthly or @yearly")
            }
            expanded = known
        } else {
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError("'\(text)' has \(fields.count) field(s); cron needs 5: minute hour day month weekday")
        }
        minutes = try Self.field(fields[0], "minute", 0...59).sorted()
        hours = try Self.field(fields[1], "hour", 0...23).sorted()
        days = Set(try Self.field(fields[2], "day of month", 1...31))
        months = Set(try Self.field(fields[3], "month", 1...12, names: Self.monthNames, offset: 1))
        weekdays = Set(try Self.field(fields[4], "day of week", 0...7, names: Self.dayNames).map { $0 % 7 })
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    static func field(
        _ text: String, _ what: String, _ range: ClosedRange<Int>, names: [String] = [], offset: Int = 0
    ) throws(CronError) -> [Int] {
        func number(_ part: Substring) throws(CronError) -> Int {
            if let value = Int(part) {
                guard range.contains(value) else {
                    throw CronError("\(what) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
                }
                return value
            }
            if let index = names.firstIndex(of: String(part)) { return index + offset }
            throw CronError("'\(part)' is not a \(what)")
        }
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw CronError("the \(what) field '\(text)' has an empty list item") }
            let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            var step = 1
            if parts.count == 2 {
                guard let value = Int(parts[1]), value > 0 else {
                    throw CronError("the step in '\(item)' must be a positive number")
                }
                step = value
            }
            let span = parts[0]
            var low = range.lowerBound
            var high = range.upperBound
            if span != "*" {
                let ends = span.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                low = try number(ends[0])
                high = ends.count == 2 ? try number(ends[1]) : (parts.count == 2 ? range.upperBound : low)
                guard low <= high else { throw CronError("the range '\(span)' in the \(what) field runs backwards") }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return Array(values)
    }

    public var description: String { source }

    /// The first time after `date` (strictly) that the schedule runs, in `timeZone`.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: date)
        // Eight years covers any valid schedule, including 29 February on a Monday.
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                months.contains(month), runsOn(day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in hours {
                    for minute in minutes {
                        var wanted = parts
                        wanted.weekday = nil
                        wanted.hour = hour
                        wanted.minute = minute
                        guard var candidate = calendar.date(from: wanted) else { continue }
                        let got = calendar.dateComponents([.day, .hour, .minute], from: candidate)
                        if got.hour != hour || got.minute != minute || got.day != dayOfMonth {
                            // The local time does not exist today: run when the gap ends.
                            guard let end = timeZone.nextDaylightSavingTimeTransition(after: day) else { continue }
                            candidate = end
                        }
                        if candidate > date { return candidate }
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }

    func runsOn(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }
}

/// A cron expression that cannot be read.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
