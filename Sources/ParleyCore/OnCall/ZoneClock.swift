import Foundation

/// Converts between instants and a time zone's wall clock, by one rule for the times a
/// daylight-saving change skips or repeats.
///
/// - A wall time that does not exist (clocks go forward over it) is read with the offset in force
///   before the change, which moves it forward by the gap: in Europe/Paris on 2027-03-28, 02:30
///   becomes 03:30 CEST. This is what RFC 5545, java.time and Python's `zoneinfo` (fold=0) do.
/// - A wall time that happens twice (clocks go back over it) is its first occurrence: in
///   Europe/Paris on 2027-10-31, 02:30 is 02:30 CEST (00:30 UTC), not 02:30 CET.
///
/// Every wall time in the on-call engine goes through this rule: rotation handoffs, the edges of
/// restriction windows and times typed in chat.
struct ZoneClock: Sendable {
    let zone: TimeZone

    /// Unix time of 0001-01-01 00:00 UTC.
    static let yearOneUnix: Int64 = -WallClockTime.daysFromYearOne(1970, 1, 1) * 86400
    /// The instants the engine reasons about: years 1…9999 (UTC), in Unix seconds.
    static let instants = yearOneUnix...(yearOneUnix + WallClockTime.latest.seconds)

    /// What the rule made of a wall time.
    enum Reading: Equatable {
        /// The wall time happens exactly once.
        case exact
        /// The wall time was skipped; it was moved forward by this many seconds.
        case skipped(gap: Int64)
        /// The wall time happens twice; the first was taken, the second is this many seconds later.
        case repeated(by: Int64)
    }

    /// The zone's offset from UTC at a Unix instant, in seconds.
    func offset(at instant: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The wall time at a Unix instant.
    func wallTime(at instant: Int64) -> WallClockTime {
        let clamped = min(max(instant, Self.instants.lowerBound), Self.instants.upperBound)
        return WallClockTime(seconds: clamped - Self.yearOneUnix + offset(at: clamped))
    }

    /// The Unix instant of a wall time, by the rule above.
    func instant(_ wall: WallClockTime) -> Int64 { resolve(wall).instant }

    /// The Unix instant of a wall time and what the rule did to it.
    func resolve(_ wall: WallClockTime) -> (instant: Int64, reading: Reading) {
        let local = wall.seconds + Self.yearOneUnix
        // Offsets lie within ±18 h, so any instant showing `local` lies within 18 h of it; the
        // offsets on either side of that span are the candidates (a zone changes at most once a day).
        let before = offset(at: local - 18 * 3600)
        let after = offset(at: local + 18 * 3600)
        let first = local - before
        let second = local - after
        let firstHolds = offset(at: first) == before
        let secondHolds = before != after && offset(at: second) == after
        switch (firstHolds, secondHolds) {
        case (true, true):
            let (earlier, later) = first <= second ? (first, second) : (second, first)
            return (earlier, .repeated(by: later - earlier))
        case (true, false): return (first, .exact)
        case (false, true): return (second, .exact)
        case (false, false):
            // In the gap: the offset from before the change moves the time forward by the gap.
            return (first, .skipped(gap: max(0, after - before)))
        }
    }
}
