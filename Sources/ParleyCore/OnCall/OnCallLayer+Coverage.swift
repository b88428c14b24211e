import Foundation

/// A span in Unix seconds with one person on call for one reason: the engine's working unit.
struct OnCallPiece: Sendable, Equatable {
    var start: Int64
    var end: Int64
    var person: String
    var source: OnCallSource
}

extension OnCallLayer {
    /// The wall time shift `index` starts at, or nil past year 9999.
    func wallStart(ofShift index: Int64) -> WallClockTime? {
        let (offset, overflow) = index.multipliedReportingOverflow(by: rotation.period)
        let (sum, overflowSum) = start.seconds.addingReportingOverflow(offset)
        guard !overflow, !overflowSum, (0...WallClockTime.latest.seconds).contains(sum) else { return nil }
        return WallClockTime(seconds: sum)
    }

    /// Who this layer has on call during `from ..< to` (Unix seconds), sorted and disjoint.
    ///
    /// Shift k runs from the handoff of k to the handoff of k + 1. A rotation shorter than a
    /// daylight-saving gap can read a skipped handoff (moved forward by the gap) past a later one
    /// that exists; each shift then ends at the earliest handoff after it, so a skipped wall time's
    /// shift is left with no time and vanishes, the others keep theirs, and shifts never overlap.
    func pieces(from: Int64, to: Int64, clock: ZoneClock) -> [OnCallPiece] {
        guard !people.isEmpty, from < to else { return [] }
        let shifts = shiftPieces(from: from, to: to, clock: clock)
        guard let restriction else { return shifts }
        return Self.intersect(shifts, restriction.allowed(from: from, to: to, clock: clock))
    }

    private func shiftPieces(from: Int64, to: Int64, clock: ZoneClock) -> [OnCallPiece] {
        let period = rotation.period
        // Offsets differ by at most 26 h, so handoffs more than 26 h of wall time away from the
        // range's ends cannot fall inside it.
        let reach: Int64 = 26 * 3600
        let lookback = (reach + period - 1) / period + 1
        let elapsed = clock.wallTime(at: from).seconds - start.seconds
        let firstIndex = max(0, Self.floorDivide(elapsed, period) - lookback)
        let lastWall = clock.wallTime(at: to).seconds + reach + period
        let limit = Int64(OnCallSchedule.maximumShiftsPerLayer) + 2 * lookback + 10
        var handoffs: [Int64] = []
        var index = firstIndex
        while index - firstIndex < limit, let wall = wallStart(ofShift: index) {
            handoffs.append(clock.instant(wall))
            if wall.seconds > lastWall { break }
            index += 1
        }
        if wallStart(ofShift: index) == nil { handoffs.append(Int64.max) }  // the end of time ends the last
        // Each shift ends at the earliest handoff after it: a suffix minimum, non-decreasing.
        var ends = handoffs
        for i in ends.indices.reversed().dropFirst() { ends[i] = min(ends[i], ends[i + 1]) }
        var pieces: [OnCallPiece] = []
        for i in ends.indices.dropLast() where ends[i] < ends[i + 1] && ends[i + 1] > from && ends[i] < to {
            guard let person = person(ofShift: firstIndex + Int64(i)) else { continue }
            pieces.append(
                OnCallPiece(start: max(ends[i], from), end: min(ends[i + 1], to), person: person, source: .layer(name)))
        }
        return pieces
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    /// The parts of `pieces` inside `windows` (both sorted and disjoint).
    static func intersect(_ pieces: [OnCallPiece], _ windows: [(start: Int64, end: Int64)]) -> [OnCallPiece] {
        var result: [OnCallPiece] = []
        var w = 0
        for piece in pieces {
            while w < windows.count, windows[w].end <= piece.start { w += 1 }
            var v = w
            while v < windows.count, windows[v].start < piece.end {
                var part = piece
                part.start = max(piece.start, windows[v].start)
                part.end = min(piece.end, windows[v].end)
                if part.start < part.end { result.append(part) }
                v += 1
            }
        }
        return result
    }
}

extension OnCallRestriction {
    /// The instants inside the restriction's windows during `from ..< to`, sorted and disjoint.
    func allowed(from: Int64, to: Int64, clock: ZoneClock) -> [(start: Int64, end: Int64)] {
        // A window opening the day before may reach into the range; two days cover any offset change.
        let first = clock.wallTime(at: from).adding(seconds: -2 * 86400)
        let last = clock.wallTime(at: to).adding(seconds: 86400)
        let spans = windows(from: first, through: last).map { span in
            (start: clock.instant(span.0), end: clock.instant(span.1))
        }
        var merged: [(start: Int64, end: Int64)] = []
        for span in spans.sorted(by: { $0.start < $1.start }) where span.end > span.start {
            let start = max(span.start, from)
            let end = min(span.end, to)
            guard start < end else { continue }
            if let last = merged.last, start <= last.end {
                merged[merged.count - 1].end = max(last.end, end)
            } else {
                merged.append((start, end))
            }
        }
        return merged
    }
}
