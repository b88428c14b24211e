import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Whether a command may start now: its rate limit per person, its `max_concurrent` and its lock.
///
/// Behind a protocol so that replicas sharing one database can count in the store; the one here
/// counts rates and concurrency in this process and takes locks in the store.
protocol RunAdmission: Sendable {
    /// Counts a run of `key` at `now` against `limit`; returns the seconds to wait when it is over.
    func admitRate(_ key: String, limit: RateLimit, now: Date) async -> Int?
    /// Gives back the run admitted at `at` (a platform's retry of a message already handled).
    func refundRate(_ key: String, at: Date) async
    /// Takes the command's concurrency slot and lock, or says why it cannot run now.
    func acquire(_ parsed: ParsedCommand, runID: Int64, holder: String) async throws -> Result<
        HeldLimits, RefusalReason
    >
    /// Gives back what `acquire` took.
    func release(_ held: HeldLimits, runID: Int64) async
}

/// What a run holds while it runs, to give back when it ends.
struct HeldLimits: Sendable {
    var command: String?
    var lock: String?
}

/// Why a command may not run right now.
struct RefusalReason: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Rates and concurrency counted in this process; locks in the store, shared by every process.
struct ProcessRunAdmission: RunAdmission {
    let store: any ParleyStorage
    let logger: Logger
    private let rates = RateLimiter()
    private let concurrency = ConcurrencyLimiter()

    init(store: any ParleyStorage, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func admitRate(_ key: String, limit: RateLimit, now: Date) async -> Int? {
        await rates.admit(key, limit: limit, now: now)
    }

    func refundRate(_ key: String, at: Date) async {
        await rates.refund(key, at: at)
    }

    func acquire(_ parsed: ParsedCommand, runID: Int64, holder: String) async throws -> Result<
        HeldLimits, RefusalReason
    > {
        var held = HeldLimits()
        let limits = parsed.command.limits
        if let max = limits.maxConcurrent {
            guard await concurrency.enter(parsed.command.id, max: max) else {
                return .failure(
                    RefusalReason(
                        "\(parsed.command.id) already has \(max) run\(max == 1 ? "" : "s") going (max_concurrent: \(max)); try again when one finishes"
                    ))
            }
            held.command = parsed.command.id
        }
        if let template = limits.lock {
            let name = template.render(parsed.templateContext)
            let record = LockRecord(name: name, runID: runID, holder: holder, acquiredAt: Date())
            if let owner = try await store.acquireLock(record) {
                await release(held, runID: runID)
                let age = RunViews.age(owner.acquiredAt).replacingOccurrences(of: " ago", with: "")
                return .failure(RefusalReason("\(name) is held by run #\(owner.runID) (\(owner.holder), \(age) ago)"))
            }
            held.lock = name
        }
        return .success(held)
    }

    func release(_ held: HeldLimits, runID: Int64) async {
        if let command = held.command { await concurrency.leave(command) }
        if let lock = held.lock {
            do {
                try await store.releaseLock(name: lock, runID: runID)
            } catch {
                logger.error("cannot release lock \(lock) of run #\(runID): \(error)")
            }
        }
    }
}

/// How many runs of each command are going in this process, against `max_concurrent`.
actor ConcurrencyLimiter {
    private var running: [String: Int] = [:]

    func enter(_ command: String, max: Int) -> Bool {
        guard running[command, default: 0] < max else { return false }
        running[command, default: 0] += 1
        return true
    }

    func leave(_ command: String) {
        running[command, default: 1] -= 1
    }
}
