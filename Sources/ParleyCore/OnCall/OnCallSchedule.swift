import Foundation

/// Who is on call for a team: layers of rotations in one time zone, with overrides on top.
///
/// Layers stack as in PagerDuty: at any instant the person on call is the one of the last layer
/// that has someone then; a layer's restricted-off hours leave the instant to the layers below.
/// Every wall time (a rotation's handoffs, a restriction's edges) is in `timeZone`, read by the
/// daylight-saving rule `ZoneClock` documents.
public struct OnCallSchedule: Sendable, Hashable {
    /// The schedule's name, as chat commands name it (`payments`).
    public var name: String
    /// The zone every wall time of the schedule is in.
    public var timeZone: TimeZone
    /// The layers, lowest first: a later layer wins where it has someone.
    public var layers: [OnCallLayer]
    /// Where handoff notices go, as `platform:room` (`irc:#ops`).
    public var handoffRoom: String?

    /// Creates a schedule.
    public init(name: String, timeZone: TimeZone, layers: [OnCallLayer], handoffRoom: String? = nil) {
        self.name = name
        self.timeZone = timeZone
        self.layers = layers
        self.handoffRoom = handoffRoom
    }

    /// The longest span one query covers: a year and a day.
    public static let maximumRange: TimeInterval = 366 * 86400
    /// The most shifts one layer contributes to one query; a query that would need more ends early.
    public static let maximumShiftsPerLayer = 10000
}

/// One rotation of people through shifts of equal wall-time length.
public struct OnCallLayer: Sendable, Hashable {
    /// The layer's name, unique in its schedule (`primary`, `business-hours`).
    public var name: String
    /// How long each shift is.
    public var rotation: OnCallRotation
    /// When shift 0 starts, in the schedule's zone. Before it the layer has nobody.
    public var start: WallClockTime
    /// Who takes shifts, in order: shift k goes to `people[k % people.count]`.
    public var people: [String]
    /// When the layer applies; nil is always.
    public var restriction: OnCallRestriction?

    /// Creates a layer.
    public init(
        name: String, rotation: OnCallRotation, start: WallClockTime, people: [String],
        restriction: OnCallRestriction? = nil
    ) {
        self.name = name
        self.rotation = rotation
        self.start = start
        self.people = people
        self.restriction = restriction
    }

    /// The person of shift `index`: nobody before the layer starts or when it has no people.
    public func person(ofShift index: Int64) -> String? {
        guard index >= 0, !people.isEmpty else { return nil }
        return people[Int(index % Int64(people.count))]
    }
}

/// How long a layer's shifts are, in wall time: a daily shift starting at 09:00 ends at 09:00 the
/// next day even when that day has 23 or 25 hours.
public enum OnCallRotation: Sendable, Hashable, CustomStringConvertible {
    /// A shift a day, handing off at the start's time of day.
    case daily
    /// A shift a week, handing off on the start's weekday and time of day.
    case weekly
    /// Shifts of this many seconds of wall time (`12h`, `3d`).
    case every(seconds: Int)

    /// The shortest shift: anything shorter is read as a minute.
    public static let shortestShift = 60
    /// The longest shift: anything longer is read as 10 000 days.
    public static let longestShift = 10000 * 86400

    /// The shift length in wall-time seconds, clamped to `shortestShift … longestShift`.
    var period: Int64 {
        switch self {
        case .daily: return 86400
        case .weekly: return 7 * 86400
        case .every(let seconds): return Int64(min(max(seconds, Self.shortestShift), Self.longestShift))
        }
    }

    /// `daily`, `weekly` or `every 12h`.
    public var description: String {
        switch self {
        case .daily: return "daily"
        case .weekly: return "weekly"
        case .every:
            let period = Int(self.period)
            if period % 86400 == 0 { return "every \(period / 86400)d" }
            if period % 3600 == 0 { return "every \(period / 3600)h" }
            if period % 60 == 0 { return "every \(period / 60)m" }
            return "every \(period)s"
        }
    }
}
