import Foundation
import Logging
import ParleyCore
import ParleyStore
import Synchronization

/// Runs the commands rules attach to firing alerts, as their service identity: the same parsing,
/// policy, gates and audit as a person's command, at most once per cooldown for each alert.
final class AlertAutomations: Sendable {
    let engine: Engine
    let messenger: any RoomMessenger
    let logger: Logger
    /// When each rule last ran for each alert. Entries past every rule's cooldown are dropped, so
    /// the map holds only alerts seen within the longest cooldown however many come and go.
    private let lastRun = Mutex<[String: Date]>([:])
    /// The map's size after the last pruning.
    private let prunedSize = Mutex(0)
    /// Runs started and not yet finished, for `settle()`.
    private let inFlight = InFlightWork()

    init(engine: Engine, messenger: any RoomMessenger, logger: Logger) {
        self.engine = engine
        self.messenger = messenger
        self.logger = logger
    }

    func consider(_ records: [AlertRecord], rules: [AlertAutomation]) {
        guard !rules.isEmpty else { return }
        let now = Date()
        let longest = Double(rules.map(\.cooldownSeconds).max() ?? 0)
        lastRun.withLock { runs in
            // Pruned when the map has doubled since the last pruning: a constant cost per insertion.
            guard runs.count >= 1024, runs.count >= 2 * prunedSize.withLock({ $0 }) else { return }
            runs = runs.filter { now.timeIntervalSince($0.value) < longest }
            let size = runs.count
            prunedSize.withLock { $0 = size }
        }
        for record in records where record.status == .firing {
            let alert = record.alert
            var labels = alert.labels
            labels["source"] = labels["source"] ?? alert.source
            for (index, rule) in rules.enumerated() where rule.matchers.allSatisfy({ $0.matches(labels) }) {
                let key = "\(index)\u{1F}\(alert.fingerprint)"
                let due = lastRun.withLock { runs -> Bool in
                    if let last = runs[key], now.timeIntervalSince(last) < Double(rule.cooldownSeconds) { return false }
                    runs[key] = now
                    return true
                }
                guard due else { continue }
                let context: [String: Any] = [
                    "labels": alert.labels, "annotations": alert.annotations, "fingerprint": alert.fingerprint,
                    "source": alert.source, "id": "\(record.id ?? 0)",
                ]
                let command = rule.command.render(context)
                inFlight.start { await self.run(command, rule: rule, alert: alert) }
            }
        }
    }

    /// Waits until every run started so far has finished.
    func settle() async {
        await inFlight.settle()
    }

    private func run(_ command: String, rule: AlertAutomation, alert: Alert) async {
        logger.info("alert \(alert.name) runs `\(command)` as \(rule.identity)")
        await messenger.runAsService(
            command, as: rule.identity, postingTo: rule.room, defaultRoom: "alerts",
            header: "🤖 \(alert.name): `\(command)`", engine: engine, logger: logger)
    }
}
