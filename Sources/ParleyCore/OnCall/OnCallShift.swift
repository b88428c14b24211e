import Foundation

/// A span of time with one person on call, for one reason.
public struct OnCallShift: Sendable, Hashable, CustomStringConvertible {
    /// Who is on call; nil when nobody is.
    public var person: String?
    /// When the span starts.
    public var start: Date
    /// When it ends (exclusive).
    public var end: Date
    /// Why that person: a layer, an override or nobody.
    public var source: OnCallSource

    /// Creates a shift.
    public init(person: String?, start: Date, end: Date, source: OnCallSource) {
        self.person = person
        self.start = start
        self.end = end
        self.source = source
    }

    /// `alice 2027-01-04T08:00:00Z–2027-01-05T08:00:00Z (primary)`.
    public var description: String {
        let format = Date.ISO8601FormatStyle()
        return "\(person ?? "nobody") \(start.formatted(format))–\(end.formatted(format)) (\(source))"
    }
}

/// Why someone is on call.
public enum OnCallSource: Sendable, Hashable, CustomStringConvertible {
    /// The named layer's rotation.
    case layer(String)
    /// An override, and who made it.
    case override(madeBy: String)
    /// No layer has anyone and no override applies.
    case nobody

    /// The layer's name, `override` or `nobody`.
    public var description: String {
        switch self {
        case .layer(let name): return name
        case .override: return "override"
        case .nobody: return "nobody"
        }
    }
}

/// Someone on call for a while in place of the schedule, above every layer.
///
/// Where overrides overlap, the later one in the list given to the schedule wins. A shift swap
/// is two overrides; `swap(_:_:madeBy:)` makes them.
public struct OnCallOverride: Sendable, Hashable {
    /// Who is on call instead.
    public var person: String
    /// When the override starts.
    public var start: Date
    /// When it ends (exclusive); an override that does not end after it starts has no effect.
    public var end: Date
    /// Who made it, for the audit trail and `oncall` replies.
    public var madeBy: String

    /// Creates an override.
    public init(person: String, start: Date, end: Date, madeBy: String) {
        self.person = person
        self.start = start
        self.end = end
        self.madeBy = madeBy
    }

    /// The two overrides that swap two shifts: each person takes the other's.
    public static func swap(_ first: OnCallShift, _ second: OnCallShift, madeBy: String) throws(OnCallError)
        -> [OnCallOverride]
    {
        guard let firstPerson = first.person, let secondPerson = second.person else {
            throw OnCallError("a swap needs someone on call in both shifts; use an override to cover an empty one")
        }
        guard first.end <= second.start || second.end <= first.start else {
            throw OnCallError("the shifts overlap; a swap exchanges two separate shifts")
        }
        return [
            OnCallOverride(person: secondPerson, start: first.start, end: first.end, madeBy: madeBy),
            OnCallOverride(person: firstPerson, start: second.start, end: second.end, madeBy: madeBy),
        ]
    }
}

/// The moment the person on call changes, for a handoff notice.
public struct OnCallHandoff: Sendable, Hashable, CustomStringConvertible {
    /// When it happens.
    public var at: Date
    /// Who was on call until then (nil: nobody).
    public var from: String?
    /// Who is on call from then (nil: nobody).
    public var to: String?
    /// Why the new person is on call.
    public var source: OnCallSource

    /// Creates a handoff.
    public init(at: Date, from: String?, to: String?, source: OnCallSource) {
        self.at = at
        self.from = from
        self.to = to
        self.source = source
    }

    /// `2027-01-04T08:00:00Z alice → bob (primary)`.
    public var description: String {
        "\(at.formatted(Date.ISO8601FormatStyle())) \(from ?? "nobody") → \(to ?? "nobody") (\(source))"
    }
}
