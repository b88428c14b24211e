import Foundation
import ParleyCore
import ParleyStore

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

/// What a run holds while it runs, to give back when it ends.
struct HeldLimits {
    var command: String?
    var lock: String?
}

extension Engine {
    /// Takes the command's concurrency slot and lock, or says why it cannot run now.
    func acquireLimits(_ parsed: ParsedCommand, runID: Int64, principal: Principal) async throws
        -> Result<HeldLimits, RefusalReason>
    {
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
            let record = LockRecord(name: name, runID: runID, holder: principal.displayName, acquiredAt: Date())
            if let holder = try await store.acquireLock(record) {
                await release(held, runID: runID)
                let age = RunViews.age(holder.acquiredAt).replacingOccurrences(of: " ago", with: "")
                return .failure(RefusalReason("\(name) is held by run #\(holder.runID) (\(holder.holder), \(age) ago)"))
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

/// Why a command may not run right now.
struct RefusalReason: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
