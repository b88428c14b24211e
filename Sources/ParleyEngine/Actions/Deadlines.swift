import Synchronization

/// Deadlines kept by one clock task, instead of a task per deadline asleep until it comes.
///
/// A cancelled `Task.sleep` keeps its memory until the moment it was to wake up
/// (swiftlang/swift#60441): a timeout as a sleeping task held ~0.8 KB per finished command for
/// the length of the timeout, so memory grew with every command under load (bench/memory.py). Here
/// a cancelled deadline is gone at once, and the clock task's own sleeps are short and never
/// cancelled: it wakes at the earliest deadline, at least every `tick`, and ends when none is left.
public final class Deadlines: Sendable {
    /// The one the executors share.
    public static let shared = Deadlines()

    /// A scheduled deadline, to cancel it with.
    public struct Token: Hashable, Sendable {
        fileprivate let number: Int
    }

    private struct State {
        var next = 0
        var entries: [Int: (due: ContinuousClock.Instant, action: @Sendable () -> Void)] = [:]
        var ticking = false
    }

    private let state = Mutex(State())
    /// The longest the clock task sleeps at once: how late a deadline set while it sleeps may fire.
    let tick: Duration

    /// Creates a clock; `tick` bounds how late a deadline fires.
    public init(tick: Duration = .milliseconds(250)) {
        self.tick = tick
    }

    /// How many deadlines are waiting.
    public var pending: Int { state.withLock { $0.entries.count } }

    /// Runs `action` once `delay` has passed, unless cancelled first.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Token {
        let due = ContinuousClock.now + delay
        let (token, start) = state.withLock { state -> (Token, Bool) in
            let number = state.next
            state.next += 1
            state.entries[number] = (due, action)
            let start = !state.ticking
            state.ticking = true
            return (Token(number: number), start)
        }
        if start { Task { await self.run() } }
        return token
    }

    /// Forgets a deadline; its action will not run (it may be running already).
    public func cancel(_ token: Token) {
        _ = state.withLock { $0.entries.removeValue(forKey: token.number) }
    }

    private func run() async {
        while true {
            let now = ContinuousClock.now
            let (due, next) = state.withLock { state -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
                let ready = state.entries.filter { $0.value.due <= now }
                for key in ready.keys { state.entries.removeValue(forKey: key) }
                let next = state.entries.values.map(\.due).min()
                if next == nil { state.ticking = false }
                return (ready.sorted { $0.value.due < $1.value.due }.map(\.value.action), next)
            }
            for action in due { action() }
            guard let next else { return }
            try? await Task.sleep(until: min(next, now + tick), clock: .continuous)
        }
    }
}
