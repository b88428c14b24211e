import Foundation

/// When a rule lets a command run: `Mon-Fri 09:00-18:00`, `Sat,Sun 10:00-12:00`, `22:00-06:00`.
public struct TimeWindow: Sendable, Equatable, CustomStringConvertible {
    /// Weekdays, 1 = Sunday … 7 = Saturday (Foundation's numbering).
    public var days: Set<Int>
    /// Minutes after midnight the window opens.
    public var start: Int
    /// Minutes after midnight the window closes; before `start` when it spans midnight.
    public var end: Int
    /// The zone the times are in.
    public var timeZone: TimeZone
    /// The window as written.
    public var source: String

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses a window, or says what is wrong.
    public init(_ source: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws(WindowError) {
        self.source = source
        self.timeZone = timeZone
        let parts = source.split(separator: " ").map(String.init)
        guard parts.count == 1 || parts.count == 2 else {
            throw WindowError(message: "write a window as 'Mon-Fri 09:00-18:00' or '09:00-18:00'")
        }
        days = parts.count == 2 ? try Self.parseDays(parts[0]) : Set(1...7)
        let hours = parts.count == 2 ? parts[1] : parts[0]
        let bounds = hours.split(separator: "-").map(String.init)
        guard bounds.count == 2, let start = Self.minutes(bounds[0]), let end = Self.minutes(bounds[1]) else {
            throw WindowError(message: "hours must read HH:MM-HH:MM, as in 09:00-18:00")
        }
        self.start = start
        self.end = end
    }

    static func parseDays(_ text: String) throws(WindowError) -> Set<Int> {
        var days = Set<Int>()
        for item in text.lowercased().split(separator: ",") {
            let range = item.split(separator: "-").map(String.init)
            let indices = range.compactMap { name in dayNames.firstIndex(of: String(name.prefix(3))) }
            guard indices.count == range.count, (1...2).contains(indices.count) else {
                throw WindowError(message: "unknown day in '\(text)'; use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
            }
            var day = indices[0]
            let last = indices.last!
            while true {
                days.insert(day + 1)
                if day == last { break }
                day = (day + 1) % 7
            }
        }
        return days
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours),
            (0...59).contains(minutes), hours * 60 + minutes <= 24 * 60
        else { return nil }
        return hours * 60 + minutes
    }

    /// True when `date` falls inside the window.
    public func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let weekday = parts.weekday ?? 1
        if start <= end { return days.contains(weekday) && minute >= start && minute < end }
        // Spanning midnight: the evening belongs to today, the early morning to yesterday's window.
        let yesterday = weekday == 1 ? 7 : weekday - 1
        return (days.contains(weekday) && minute >= start) || (days.contains(yesterday) && minute < end)
    }

    public var description: String { "\(source) \(timeZone.identifier)" }
}

/// Why a time window could not be read.
public struct WindowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { message }
}
