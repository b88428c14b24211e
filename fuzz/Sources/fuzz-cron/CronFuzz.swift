import Foundation
import FuzzSupport

@testable import ParleyCore

// A cron expression from a config's `schedules:`, parsed and asked for its next run: the next run
// is strictly later than now, and in UTC (no daylight saving gaps) it is a time the schedule names.

let utc = TimeZone(identifier: "UTC")!
let berlin = TimeZone(identifier: "Europe/Berlin") ?? utc
/// 2024-03-31 00:30 UTC: the night Berlin springs forward, in a leap year.
let springNight = Date(timeIntervalSince1970: 1_711_845_000)
/// 2023-10-29 00:10 UTC: the night Berlin falls back.
let autumnNight = Date(timeIntervalSince1970: 1_698_538_200)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCron(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    guard text.utf8.count <= 256, let cron = try? CronExpression(text) else { return 0 }
    require(cron.description == text, "the expression keeps its source")
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = utc
    func names(_ date: Date) -> Bool {
        let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: date)
        return cron.minutes.contains(parts.minute!) && cron.hours.contains(parts.hour!)
            && cron.months.contains(parts.month!) && cron.runsOn(day: parts.day!, weekday: parts.weekday! - 1)
    }
    for (now, zone) in [(springNight, utc), (springNight, berlin), (autumnNight, berlin)] {
        guard let next = cron.next(after: now, in: zone) else { continue }
        require(next > now, "'\(text)': next run \(next) is not after \(now) in \(zone.identifier)")
        guard zone == utc else { continue }
        require(
            next.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0, "'\(text)': \(next) is not a minute")
        require(names(next), "'\(text)': next run \(next) is a time the schedule does not name")
        // Within a few hours, check that no earlier minute was skipped.
        var minute = now.addingTimeInterval(60 - now.timeIntervalSince1970.truncatingRemainder(dividingBy: 60))
        while minute < next, next.timeIntervalSince(now) < 3 * 3600 {
            require(!names(minute), "'\(text)': \(minute) comes before the next run \(next) and is one")
            minute.addTimeInterval(60)
        }
    }
    return 0
}
