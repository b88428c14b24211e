import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Whether a command may start now: its rate limit per person, its `max_concurrent` and its lock.
///
/// Behind a protocol so that the pipeline does not know where limits are counted; the one here
/// counts all three in the store, so that replicas sharing a database share them.
protocol RunAdmission: Sendable {
    /// Counts a run of `key` at `now` against `limit`; returns the seconds to wait when it is over.
    func admitRate(_ key: String, limit: RateLimit, now: Date) async throws -> Int?
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

/// Rates, concurrency and locks counted in the store, so that every replica sharing it counts
/// together: five deploys a minute are five, whichever replicas took them.
struct StoreRunAdmission: RunAdmission {
    let store: any ParleyStorage
    let logger: Logger

    func admitRate(_ key: String, limit: RateLimit, now: Date) async throws -> Int? {
        guard
            let until = try await store.admitHit(
                key: StoredText.clean(key), limit: limit.count, window: .seconds(limit.seconds), at: now)
        else { return nil }
        let seconds = until.timeIntervalSince(now).rounded(.up)
        return seconds < 1 ? 1 : seconds > 86_400 * 366 ? 86_400 * 366 : Int(seconds)
    }

    func refundRate(_ key: String, at: Date) async {
        do {
            try await store.refundHit(key: StoredText.clean(key), at: at)
        } catch {
            logger.warning("cannot give back the rate-limit hit of \(key): \(error)")
        }
    }

    func acquire(_ parsed: ParsedCommand, runID: Int64, holder: String) async throws -> Result<
        HeldLimits, RefusalReason
    > {
        var held = HeldLimits()
        let limits = parsed.command.limits
        if let max = limits.maxConcurrent {
            guard try await store.takeSlot(name: parsed.command.id, max: max, runID: runID) else {
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
        if let command = held.command {
            do {
                try await store.releaseSlot(name: command, runID: runID)
            } catch {
                // Not lost: a slot whose run is no longer running is freed by the next run that asks.
                logger.error("cannot free the max_concurrent slot of run #\(runID): \(error)")
            }
        }
        if let lock = held.lock {
            do {
                try await store.releaseLock(name: lock, runID: runID)
            } catch {
                logger.error("cannot release lock \(lock) of run #\(runID): \(error)")
            }
        }
    }
}
