import Foundation
import Logging
import ParleyCore
import ParleyEngine

/// Refused webhook requests, told to the audit log as a summary at most once a minute per source, so a
/// flood of requests with wrong credentials cannot flood the log with synced entries. Each refusal is
/// counted in the metrics at once.
actor WebhookRefusals {
    private struct Tally {
        var count = 0
        var lastReason = ""
        var firstAt = Date()
        var flushScheduled = false
        var lastWritten: Date?
    }

    private let audit: AuditLog
    private let metrics: ServerMetrics?
    private let logger: Logger
    private let interval: TimeInterval
    private var tallies: [String: Tally] = [:]

    /// Creates the tally; `interval` is the shortest time between two summaries for one source.
    init(audit: AuditLog, metrics: ServerMetrics?, logger: Logger, interval: TimeInterval = 60) {
        self.audit = audit
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
    }

    /// Counts a refusal; writes a summary now when none was written for the source within the interval,
    /// else once the interval is over.
    func refused(source: AlertSource, reason: String, now: Date = Date()) async {
        metrics?.webhookRefused(source: source.name)
        var tally = tallies[source.name] ?? Tally()
        if tally.count == 0 { tally.firstAt = now }
        tally.count += 1
        tally.lastReason = reason
        tallies[source.name] = tally
        if let last = tally.lastWritten, now.timeIntervalSince(last) < interval {
            guard !tally.flushScheduled else { return }
            tallies[source.name]?.flushScheduled = true
            let wait = interval - now.timeIntervalSince(last)
            Task {
                try? await Task.sleep(for: .milliseconds(Int(max(0, min(wait, 3600)) * 1000)))
                await self.flush(source)
            }
            return
        }
        await flush(source, now: now)
    }

    /// Writes what was counted for a source since its last summary.
    func flush(_ source: AlertSource, now: Date = Date()) async {
        guard var tally = tallies[source.name], tally.count > 0 else { return }
        let count = tally.count
        let detail =
            count == 1
            ? tally.lastReason
            : "\(count) refused requests since \(AuditClock.format(tally.firstAt)); the last: \(tally.lastReason)"
        tally.count = 0
        tally.flushScheduled = false
        tally.lastWritten = now
        tallies[source.name] = tally
        do {
            try await audit.append(
                AuditDraft(
                    kind: .webhookRefused, actor: "source:\(source.name)", identity: "source:\(source.name)",
                    command: source.path, outcome: "refused", detail: detail))
        } catch {
            logger.error("cannot record refused webhooks for \(source.name): \(error)")
        }
    }

    /// Writes every pending summary (at shutdown, in tests).
    func flushAll(sources: [AlertSource]) async {
        for source in sources { await flush(source) }
    }
}

/// Bounds how many webhook bodies are read at once before they are authenticated (sources that sign
/// the body), so unauthenticated uploads cannot take the server's memory.
actor UnauthenticatedReads {
    private let limit: Int
    private var reading = 0

    /// At most `limit` bodies read at once.
    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a slot; false when all are taken (answer 503 and let the sender retry).
    func enter() -> Bool {
        guard reading < limit else { return false }
        reading += 1
        return true
    }

    /// Gives a slot back.
    func leave() { reading = max(0, reading - 1) }
}
