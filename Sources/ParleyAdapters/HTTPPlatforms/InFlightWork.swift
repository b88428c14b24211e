import Synchronization

/// The commands an HTTP adapter has acknowledged and is still working on. A platform is answered at
/// once (Slack wants its acknowledgement within three seconds) and the command runs on in a task of
/// its own; this keeps those tasks, so that `settle()` can wait for them: a stop that drains, or a
/// test that must know nothing more is coming before it says that nothing else happened.
public final class InFlightWork: Sendable {
    private let state = Mutex((next: 0, tasks: [Int: Task<Void, Never>]()))

    public init() {}

    /// Runs `work` in a task of its own, known to `settle()` until it ends.
    public func start(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let number = state.next
            state.next += 1
            state.tasks[number] = Task {
                await work()
                _ = self.state.withLock { $0.tasks.removeValue(forKey: number) }
            }
        }
    }

    /// How many are running.
    public var count: Int { state.withLock { $0.tasks.count } }

    /// Waits until everything started so far (and whatever that starts meanwhile) has finished.
    public func settle() async {
        while let task = state.withLock({ $0.tasks.values.first }) { await task.value }
    }
}
