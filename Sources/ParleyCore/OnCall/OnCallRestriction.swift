import Foundation

/// A day of the week, as a restriction names it.
public enum OnCallWeekday: Int, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    case sunday = 0
    case monday, tuesday, wednesday, thursday, friday, saturday

    /// Sunday first, as `rawValue` counts.
    static let week: [OnCallWeekday] = allCases

    /// `mon`, `tue` …: the short name restrictions are written with.
    public var description: String { String(fullName.prefix(3)) }

    /// `monday`, `tuesday` …
    public var fullName: String {
        ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][rawValue]
    }

    /// Reads `mon` or `monday` (any case), or nil.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let day = Self.allCases.first(where: { $0.description == lowered || $0.fullName == lowered }) else {
            return nil
        }
        self = day
    }

    /// The day after.
    var next: OnCallWeekday { Self.week[(rawValue + 1) % 7] }

    public static func < (lhs: OnCallWeekday, rhs: OnCallWeekday) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Reads `mon-fri`, `sat,sun`, `fri-mon` (wrapping past Sunday) or a single day.
    public static func days(parsing text: String) throws(OnCallError) -> Set<OnCallWeekday> {
        var days: Set<OnCallWeekday> = []
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !text.isEmpty, items.count <= 7 else { throw OnCallError("write days as mon-fri, or a list of days") }
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard (1...2).contains(ends.count) else {
                throw OnCallError("'\(item)' is not a day or range of days; write mon-fri")
            }
            let parsed = ends.compactMap(OnCallWeekday.init(name:))
            guard parsed.count == ends.count else {
                let bad = ends.first { OnCallWeekday(name: $0) == nil } ?? String(item)
                throw OnCallError("unknown day '\(bad)'; write mon, tue, wed, thu, fri, sat or sun")
            }
            var day = parsed[0]
            days.insert(day)
            while day != parsed[parsed.count - 1] {
                day = day.next
                days.insert(day)
            }
        }
        return days
    }
}

/// When a layer's people are on call: some days of the week, between two wall-clock times.
///
/// `mon-fri 09:00-18:00` is business hours. A window whose end is not after its start crosses
/// midnight: `22:00-06:00` on Friday runs to Saturday 06:00 (a window belongs to the day it
/// opens on). `00:00-24:00` is the whole day. Outside the windows the layer has nobody and the
/// layers below it decide.
public struct OnCallRestriction: Sendable, Hashable, CustomStringConvertible {
    /// The days a window opens on.
    public var days: Set<OnCallWeekday>
    /// Seconds after midnight the window opens (0 ..< 86400).
    public var opens: Int
    /// Seconds after midnight the window closes (1 … 86400); at or before `opens` it is the next day.
    public var closes: Int

    /// A restriction; `opens` is clamped into the day and `closes` into 1 … 24 h.
    public init(days: Set<OnCallWeekday> = Set(OnCallWeekday.allCases), opens: Int = 0, closes: Int = 86400) {
        self.days = days
        self.opens = min(max(opens, 0), 86399)
        self.closes = min(max(closes, 1), 86400)
    }

    /// Reads hours written `09:00-18:00` or `22:00-06:00`, on the given days.
    public init(days: Set<OnCallWeekday>, hours: String) throws(OnCallError) {
        let ends = hours.split(separator: "-", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard ends.count == 2, let opens = Self.secondsOfDay(ends[0]), let closes = Self.secondsOfDay(ends[1]) else {
            throw OnCallError("hours '\(hours)' must read HH:MM-HH:MM, as in 09:00-18:00 or 22:00-06:00")
        }
        guard opens < 86400 else { throw OnCallError("hours '\(hours)' open at 24:00; write 00:00") }
        guard opens != closes, !(opens == 0 && closes == 0) else {
            throw OnCallError("hours '\(hours)' open and close at once; write 00:00-24:00 for the whole day")
        }
        self.init(days: days, opens: opens, closes: closes == 0 ? 86400 : closes)
    }

    /// `09:00` as seconds after midnight; `24:00` is the end of the day.
    static func secondsOfDay(_ text: String) -> Int? {
        if text == "24:00" { return 86400 }
        guard let clock = WallClockTime.clock(text), clock.second == 0 else { return nil }
        return clock.hour * 3600 + clock.minute * 60
    }

    /// How long a window lasts in wall time.
    var length: Int64 { Int64(closes > opens ? closes - opens : closes + 86400 - opens) }

    /// `mon-fri 09:00-18:00`.
    public var description: String {
        func clock(_ seconds: Int) -> String {
            let text = "\(seconds / 3600)"
            let minutes = "\(seconds / 60 % 60)"
            return (text.count < 2 ? "0" + text : text) + ":" + (minutes.count < 2 ? "0" + minutes : minutes)
        }
        return "\(Self.describe(days)) \(clock(opens))-\(clock(closes))"
    }

    /// `mon-fri`, `sat,sun`, `mon,wed-fri`: Monday first, runs of three or more days as ranges.
    static func describe(_ days: Set<OnCallWeekday>) -> String {
        guard days.count < 7 else { return "every day" }
        let order = (1...7).map { OnCallWeekday.week[$0 % 7] }.filter(days.contains)
        var runs: [[OnCallWeekday]] = []
        for day in order {
            if let last = runs.last?.last, last.next == day {
                runs[runs.count - 1].append(day)
            } else {
                runs.append([day])
            }
        }
        return runs.map { run in
            run.count >= 3 ? "\(run[0])-\(run[run.count - 1])" : run.map(\.description).joined(separator: ",")
        }.joined(separator: ",")
    }

    /// The windows, as wall-time spans, that open on days from `first` through `last` (midnights).
    func windows(from first: WallClockTime, through last: WallClockTime) -> [(WallClockTime, WallClockTime)] {
        var spans: [(WallClockTime, WallClockTime)] = []
        var day = first.startOfDay
        while day <= last {
            if days.contains(day.weekday) {
                let start = day.adding(seconds: Int64(opens))
                spans.append((start, start.adding(seconds: length)))
            }
            let next = day.adding(seconds: 86400)
            guard next > day else { break }
            day = next
        }
        return spans
    }
}
