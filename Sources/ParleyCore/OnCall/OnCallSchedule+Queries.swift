import Foundation

extension OnCallSchedule {
    /// Who is on call from `from` to `to`: contiguous spans, each with one person (or nobody) and
    /// its source, neighbours of the same person and source merged.
    ///
    /// One query covers at most `maximumRange` (and at most `maximumShiftsPerLayer` shifts of its
    /// shortest rotation): the last span's end says how far it reached. Instants are whole
    /// seconds; dates outside years 1…9999 are clamped, and an empty or reversed range has no spans.
    public func shifts(from: Date, to: Date, overrides: [OnCallOverride] = []) -> [OnCallShift] {
        let range = Self.bounds(from: from, to: to, shortestPeriod: layers.map(\.rotation.period).min())
        guard range.lowerBound < range.upperBound else { return [] }
        let clock = ZoneClock(zone: timeZone)
        var stacks = layers.map { $0.pieces(from: range.lowerBound, to: range.upperBound, clock: clock) }
        stacks.append(Self.overridePieces(overrides, from: range.lowerBound, to: range.upperBound))
        return Self.combine(stacks, from: range.lowerBound, to: range.upperBound).map { segment in
            OnCallShift(
                person: segment.person,
                start: segment.start == range.lowerBound
                    ? Self.date(segment.start, near: from) : Self.date(segment.start),
                end: segment.end == range.upperBound ? Self.date(segment.end, near: to) : Self.date(segment.end),
                source: segment.source)
        }
    }

    /// Who is on call at `instant`, or nil when nobody is.
    public func onCall(at instant: Date, overrides: [OnCallOverride] = []) -> String? {
        shifts(from: instant, to: instant.addingTimeInterval(1), overrides: overrides).first?.person
    }

    /// The instants in `from ..< to` where the person on call changes, for handoff notices.
    ///
    /// Consecutive ranges (`a ..< b`, then `b ..< c`) report each handoff exactly once. A change of
    /// source alone (an override for the person already on call) is not a handoff.
    public func handoffs(from: Date, to: Date, overrides: [OnCallOverride] = []) -> [OnCallHandoff] {
        let spans = shifts(from: from.addingTimeInterval(-1), to: to, overrides: overrides)
        var handoffs: [OnCallHandoff] = []
        for (previous, next) in zip(spans, spans.dropFirst()) where previous.person != next.person {
            guard next.start >= from else { continue }
            handoffs.append(OnCallHandoff(at: next.start, from: previous.person, to: next.person, source: next.source))
        }
        return handoffs
    }

    // MARK: - The engine

    /// A Date as Unix seconds, rounded down and clamped to years 1…9999; never traps.
    static func unixSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970
        let bounds = ZoneClock.instants
        guard !seconds.isNaN else { return bounds.lowerBound }
        let clamped = min(max(seconds.rounded(.down), Double(bounds.lowerBound)), Double(bounds.upperBound))
        return Int64(clamped)
    }

    /// The query's range in Unix seconds, capped to `maximumRange` and the shift budget.
    static func bounds(from: Date, to: Date, shortestPeriod: Int64?) -> Range<Int64> {
        let start = unixSeconds(from)
        var end = unixSeconds(to)
        if to.timeIntervalSince1970 > Double(end) { end += 1 }  // `to` had a fraction: include it
        let budget = (shortestPeriod ?? 86400) * Int64(maximumShiftsPerLayer)
        let cap = min(Int64(maximumRange), budget)
        end = min(end, start + cap)
        return start..<max(start, end)
    }

    static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    /// The caller's own Date at an end of the range, so its fraction of a second survives.
    static func date(_ seconds: Int64, near given: Date) -> Date {
        abs(given.timeIntervalSince1970 - Double(seconds)) < 1 ? given : date(seconds)
    }

    /// Overrides as disjoint pieces: where several overlap, the latest in the list wins.
    static func overridePieces(_ overrides: [OnCallOverride], from: Int64, to: Int64) -> [OnCallPiece] {
        let live = overrides.enumerated().compactMap { index, override -> (Int, Int64, Int64)? in
            let start = max(unixSeconds(override.start), from)
            let end = min(unixSeconds(override.end), to)
            return start < end ? (index, start, end) : nil
        }
        guard !live.isEmpty else { return [] }
        let byStart = live.sorted { $0.1 < $1.1 }
        let edges = Array(Set(live.flatMap { [$0.1, $0.2] })).sorted()
        var active = MaxHeap()
        var next = 0
        var pieces: [OnCallPiece] = []
        for (edge, following) in zip(edges, edges.dropFirst()) {
            while next < byStart.count, byStart[next].1 <= edge {
                active.push(byStart[next].0)
                next += 1
            }
            while let top = active.top, unixSeconds(overrides[top].end) <= edge { active.pop() }
            guard let winner = active.top else { continue }
            let override = overrides[winner]
            let piece = OnCallPiece(
                start: edge, end: following, person: override.person, source: .override(madeBy: override.madeBy))
            if let last = pieces.last, last.end == edge, last.person == piece.person, last.source == piece.source {
                pieces[pieces.count - 1].end = following
            } else {
                pieces.append(piece)
            }
        }
        return pieces
    }

    /// The final timeline: at each instant the highest stack (the last) with a piece wins.
    static func combine(_ stacks: [[OnCallPiece]], from: Int64, to: Int64) -> [(
        start: Int64, end: Int64, person: String?, source: OnCallSource
    )] {
        var edges = Set([from, to])
        for stack in stacks {
            for piece in stack {
                edges.insert(piece.start)
                edges.insert(piece.end)
            }
        }
        let sorted = edges.sorted()
        var cursors = [Int](repeating: 0, count: stacks.count)
        var result: [(start: Int64, end: Int64, person: String?, source: OnCallSource)] = []
        for (edge, following) in zip(sorted, sorted.dropFirst()) {
            var person: String?
            var source = OnCallSource.nobody
            for level in stacks.indices.reversed() {
                let stack = stacks[level]
                while cursors[level] < stack.count, stack[cursors[level]].end <= edge { cursors[level] += 1 }
                if cursors[level] < stack.count, stack[cursors[level]].start <= edge {
                    person = stack[cursors[level]].person
                    source = stack[cursors[level]].source
                    break
                }
            }
            if let last = result.last, last.person == person, last.source == source {
                result[result.count - 1].end = following
            } else {
                result.append((edge, following, person, source))
            }
        }
        return result
    }
}

/// A binary max-heap of override indices: the latest override among the active ones is on top.
private struct MaxHeap {
    private var items: [Int] = []

    var top: Int? { items.first }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var largest = parent
            if left < items.count, items[left] > items[largest] { largest = left }
            if right < items.count, items[right] > items[largest] { largest = right }
            guard largest != parent else { return }
            items.swapAt(parent, largest)
            parent = largest
        }
    }
}
