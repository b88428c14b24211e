/// The `oncall:` section: the schedules chat can ask about.
public struct OnCallSettings: Sendable, Hashable {
    /// The schedules, in file order.
    public var schedules: [OnCallSchedule] = []

    /// Creates settings.
    public init(schedules: [OnCallSchedule] = []) {
        self.schedules = schedules
    }

    /// The schedule of that name.
    public func schedule(named name: String) -> OnCallSchedule? {
        schedules.first { $0.name == name }
    }
}
