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
    private let lastRun = Mutex<[String: Date]>([:])

    init(engine: Engine, messenger: any RoomMessenger, logger: Logger) {
        self.engine = engine
        self.messenger = messenger
        self.logger = logger
    }

    func consider(_ records: [AlertRecord], rules: [AlertAutomation]) {
        guard !rules.isEmpty else { return }
        let now = Date()
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
                    "source": alert.source,
                ]
                let command = rule.command.render(context)
                Task { await run(command, rule: rule, alert: alert) }
            }
        }
    }

    private func run(_ command: String, rule: AlertAutomation, alert: Alert) async {
        logger.info("alert \(alert.name) runs `\(command)` as \(rule.identity)")
        await messenger.runAsService(
            command, as: rule.identity, postingTo: rule.room, defaultRoom: "alerts",
            header: "🤖 \(alert.name): `\(command)`", engine: engine, logger: logger)
    }
}
