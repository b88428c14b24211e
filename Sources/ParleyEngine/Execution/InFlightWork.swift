import Synchronization

/// Work started in tasks of its own and not finished yet: the commands an adapter acknowledged at
/// once (Slack wants its acknowledgement within three seconds) and runs on, the commands alert rules
/// start. `settle()` waits for them: a stop that drains, or a test that must know nothing more is
/// coming before it says that nothing else happened.
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

/// Counts the messages of one batch still being handled: an adapter that resumes a stream from a
/// saved position saves a batch's position only once all of it (and all before it) was handled, so a
/// process that dies mid-way leaves the position before the messages it had not recorded yet.
public final class BatchProgress: Sendable {
    public let position: String
    private let remaining = Atomic<Int>(0)

    public init(position: String) { self.position = position }

    /// One more message of the batch is being handled.
    public func begin() { remaining.add(1, ordering: .relaxed) }
    /// One message of the batch has been handled.
    public func end() { remaining.subtract(1, ordering: .releasing) }
    /// True once every message begun has ended.
    public var isDone: Bool { remaining.load(ordering: .acquiring) == 0 }
}
