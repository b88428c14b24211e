import Foundation

/// A moment typed in chat for an override or a swap, read in a schedule's zone.
///
/// Forms: `2026-12-24 18:00` (or `2026-12-24T18:00`), `18:00` (today, or tomorrow once today's
/// 18:00 has passed), `today 18:00`, `tomorrow 09:00`, `mon 09:00` (the next Monday, today
/// included while it is ahead), `now`, and `+2h` or `in 1h30m` (elapsed time from now). Wall
/// times go through the daylight-saving rule `ZoneClock` documents, and `note` says when it
/// applied. Any text is safe: a wrong one gets an `OnCallError` saying what to write.
public struct ChatTime: Sendable, Hashable {
    /// The instant meant.
    public var date: Date
    /// Why the instant is not quite what was typed (a skipped or repeated wall time), or nil.
    public var note: String?

    /// The longest text read: a time has no business being longer.
    static let maximumLength = 64
    /// The furthest ahead `+…` and `in …` reach.
    static let maximumOffset = 10 * 366 * 86400

    static let usage = "write a time as 2026-12-24 18:00, 18:00, tomorrow 09:00, mon 09:00 or in 2h"

    /// Reads `text` in `zone`, relative to `now`.
    public init(parsing text: String, in zone: TimeZone, now: Date) throws(OnCallError) {
        let clock = ZoneClock(zone: zone)
        guard text.count <= Self.maximumLength else { throw OnCallError("that is too long for a time; \(Self.usage)") }
        let words = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !words.isEmpty else { throw OnCallError("no time given; \(Self.usage)") }
        let nowSeconds = OnCallSchedule.unixSeconds(now)
        switch words.count {
        case 1 where words[0] == "now":
            self.init(date: now, note: nil)
        case 1 where words[0].hasPrefix("+"):
            try self.init(offset: String(words[0].dropFirst()), from: now)
        case 2 where words[0] == "in":
            try self.init(offset: words[1], from: now)
        case 1 where words[0].contains("t") && words[0].first?.isNumber == true:
            try self.init(dateTime: words[0].split(separator: "t").map(String.init), clock: clock, typed: text)
        case 1 where words[0].contains(":"):
            try self.init(day: nil, clockText: words[0], clock: clock, now: nowSeconds)
        case 2 where WallClockTime.date(words[0]) != nil:
            try self.init(dateTime: words, clock: clock, typed: text)
        case 2:
            try self.init(day: words[0], clockText: words[1], clock: clock, now: nowSeconds)
        default:
            throw OnCallError("'\(text)' is not a time; \(Self.usage)")
        }
    }

    init(date: Date, note: String?) {
        self.date = date
        self.note = note
    }

    private init(offset text: String, from now: Date) throws(OnCallError) {
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            throw OnCallError("'\(text)' is not a duration; write 2h, 30m or 1h30m")
        }
        guard seconds <= Self.maximumOffset else { throw OnCallError("'\(text)' is more than ten years ahead") }
        self.init(date: now.addingTimeInterval(TimeInterval(seconds)), note: nil)
    }

    private init(dateTime parts: [String], clock: ZoneClock, typed: String) throws(OnCallError) {
        guard parts.count == 2, let fields = WallClockTime.date(parts[0]) else {
            throw OnCallError("'\(typed)' is not a time; \(Self.usage)")
        }
        guard let time = WallClockTime.clock(parts[1]) else {
            throw OnCallError("'\(parts[1])' is not a time of day; write HH:MM, as in 18:00")
        }
        guard
            let wall = WallClockTime(
                year: fields.year, month: fields.month, day: fields.day, hour: time.hour, minute: time.minute,
                second: time.second)
        else { throw OnCallError(Self.dateProblem(fields)) }
        self.init(wall: wall, clock: clock)
    }

    private init(day: String?, clockText: String, clock: ZoneClock, now: Int64) throws(OnCallError) {
        guard let time = WallClockTime.clock(clockText) else {
            throw OnCallError("'\(clockText)' is not a time of day; write HH:MM, as in 18:00")
        }
        let timeOfDay = Int64(time.hour * 3600 + time.minute * 60 + time.second)
        let today = clock.wallTime(at: now).startOfDay
        let candidates: [WallClockTime]
        switch day {
        case nil:
            // Today's, unless it is already past (the current minute still counts as now).
            let first = today.adding(seconds: timeOfDay)
            candidates = clock.instant(first) + 60 > now ? [first] : [first.adding(seconds: 86400)]
        case "today": candidates = [today.adding(seconds: timeOfDay)]
        case "tomorrow": candidates = [today.adding(seconds: 86400 + timeOfDay)]
        case let name?:
            guard let weekday = OnCallWeekday(name: name) else {
                throw OnCallError("'\(name)' is not a day; write today, tomorrow, a weekday or a date as 2026-12-24")
            }
            candidates = (0..<8).map { today.adding(seconds: Int64($0) * 86400 + timeOfDay) }.filter {
                $0.weekday == weekday && clock.instant($0) + 60 > now
            }
        }
        guard let wall = candidates.first else { throw OnCallError("'\(clockText)' is out of range") }
        self.init(wall: wall, clock: clock)
    }

    private init(wall: WallClockTime, clock: ZoneClock) {
        let (instant, reading) = clock.resolve(wall)
        let zone = clock.zone.identifier
        var note: String?
        switch reading {
        case .exact: note = nil
        case .skipped:
            let read = clock.wallTime(at: instant)
            note = "\(wall) does not exist in \(zone) (the clocks go forward); read as \(read.clockText)"
        case .repeated:
            note = "\(wall) happens twice in \(zone) (the clocks go back); read as the first"
        }
        self.init(date: Date(timeIntervalSince1970: TimeInterval(instant)), note: note)
    }

    /// What is wrong with a date whose fields are numbers but not a day.
    static func dateProblem(_ fields: (year: Int, month: Int, day: Int)) -> String {
        guard (1...9999).contains(fields.year) else { return "year \(fields.year) is out of range" }
        guard (1...12).contains(fields.month) else { return "there is no month \(fields.month); months run 1 to 12" }
        let days = WallClockTime.days(inMonth: fields.month, of: fields.year)
        return "there is no day \(fields.day) in \(fields.year)-\(fields.month < 10 ? "0" : "")\(fields.month), "
            + "which has \(days) days"
    }
}
