import Foundation
import ParleyCore
import Synchronization

/// The actions running right now, so that a stop can wait for them and then stop what is left.
actor RunTracker {
    private var running: [Int64: Task<ActionResult, Never>] = [:]
    private var stopping = false
    private var cancellers: [Int64: String] = [:]

    /// True once a stop has begun: new actions are refused.
    var isStopping: Bool { stopping }

    /// How many actions are running.
    var count: Int { running.count }

    /// Runs `operation` as a tracked task; returns nil when a stop has begun and it must not start.
    func run(_ runID: Int64, _ operation: @escaping @Sendable () async -> ActionResult) -> Task<ActionResult, Never>? {
        guard !stopping else { return nil }
        let task = Task { await operation() }
        running[runID] = task
        return task
    }

    func finished(_ runID: Int64) {
        running[runID] = nil
        cancellers[runID] = nil
    }

    /// Cancels a running action on someone's request; false when it is not running here.
    func cancel(_ runID: Int64, by person: String) -> Bool {
        guard let task = running[runID] else { return false }
        cancellers[runID] = person
        task.cancel()
        return true
    }

    /// The runs whose actions are running here.
    var runIDs: [Int64] { Array(running.keys) }

    /// Who cancelled a run, if someone did.
    func canceller(of runID: Int64) -> String? { cancellers[runID] }

    /// Refuses new actions, waits up to `grace` for running ones, then cancels the rest (their
    /// process groups are killed). Returns the ids that had to be cancelled.
    func stop(grace: Duration) async -> [Int64] {
        stopping = true
        let deadline = ContinuousClock.now + grace
        // Polling keeps the wait simple to cancel; runs are few and the grace is seconds long.
        while !running.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = Array(running.keys)
        for task in running.values { task.cancel() }
        return left
    }
}

/// Passes output on a line at a time, masked, so a secret split across two reads is never shown half.
final class LiveOutput: Sendable {
    private let sink: @Sendable (String) -> Void
    private let masker: SecretMasker
    private let pending = Synchronization.Mutex("")

    init(masker: SecretMasker, sink: @escaping @Sendable (String) -> Void) {
        self.masker = masker
        self.sink = sink
    }

    func receive(_ chunk: String) {
        let lines: String? = pending.withLock { buffer in
            buffer += chunk
            guard let last = buffer.lastIndex(of: "\n") else { return nil }
            let complete = String(buffer[...last])
            buffer = String(buffer[buffer.index(after: last)...])
            return complete
        }
        if let lines { sink(masker.mask(lines)) }
    }
}
