import Foundation
import ParleyCore
import ParleyStore

/// `alerts`, `ack`, `silence`, `silences`, `unsilence`: alerts from chat, under the same policy and audit
/// as every command. Silences are Alertmanager's own, made through its API.
enum AlertCommands {
    static let all: [BuiltinCommand] = [
        BuiltinCommand(
            "alerts [--all] [{matchers:text}]", help: "List firing alerts (with --all, resolved ones too)",
            examples: ["alerts", "alerts severity=critical", "alerts --all team=~pay.*"]
        ) { call in try await list(call) },
        BuiltinCommand(
            "ack {alert:int(1..)} [{note:text}]", help: "Take an alert: record that you are on it",
            examples: ["ack 12", "ack 12 looking at the disk"]
        ) { call in try await acknowledge(call) },
        BuiltinCommand(
            "silence {spec:text}", help: "Silence alerts in Alertmanager: MATCHERS for DURATION [REASON]",
            examples: ["silence alertname=HighCPU for 1h", "silence alertname=DiskFull instance=~db.* for 2h resizing"]
        ) { call in try await silence(call) },
        BuiltinCommand("silences", help: "List Alertmanager's active silences") { call in try await silences(call) },
        BuiltinCommand("unsilence {id}", help: "Expire a silence", examples: ["unsilence 8e5b…"]) { call in
            try await unsilence(call)
        },
    ]

    static func matchers(_ text: String) throws -> [LabelMatcher] {
        try text.split(separator: " ").map { try LabelMatcher(parsing: String($0)) }
    }

    static func list(_ call: BuiltinCall) async throws -> Reply {
        let filters: [LabelMatcher]
        do {
            filters = try matchers(call["matchers"] ?? "")
        } catch {
            return .text("\(error); write matchers such as severity=critical or team=~pay.*")
        }
        let status: AlertStatus? = call.flag("all") ? nil : .firing
        let records = try await call.services.store.alerts(AlertQuery(status: status, limit: 500))
            .filter { record in filters.allSatisfy { $0.matches(record.labels) } }
        guard !records.isEmpty else { return .text(status == .firing ? "No alerts are firing." : "No alerts.") }
        let rows = records.prefix(50).map { record -> [String] in
            [
                "\(record.id ?? 0)", record.status.rawValue, record.alert.name, record.labels["severity"] ?? "",
                record.labels["instance"] ?? record.labels["service"] ?? "",
                record.annotations["summary"] ?? "", RunViews.age(record.firstSeen),
                record.acknowledgedBy.map { "✓ \($0)" } ?? "",
            ]
        }
        var blocks: [ReplyBlock] = [
            .table(header: ["#", "status", "alert", "severity", "where", "summary", "since", "taken"], rows: rows)
        ]
        if records.count > 50 { blocks.append(.text("… and \(records.count - 50) more; narrow with matchers")) }
        return Reply(blocks)
    }

    static func acknowledge(_ call: BuiltinCall) async throws -> Reply {
        guard let id = call["alert"].flatMap(Int64.init) else { return .text("which alert? `ack 12`") }
        let who = call.principal.userName ?? call.principal.identity.description
        guard
            let record = try await call.services.store.acknowledgeAlert(
                id: id, by: who, note: call["note"], at: Date())
        else { return .text("there is no alert #\(id); `alerts` lists them") }
        let note = record.acknowledgement.map { ": \($0)" } ?? ""
        // Taking an alert takes its page too: the escalation stops.
        let page = try await call.services.pager.settle(
            key: "alert:\(record.fingerprint)", status: .acknowledged, by: who, now: Date())
        return .text(
            "👀 alert #\(id) \(record.alert.name) taken by \(who)\(note)"
                + (page.map { " (page \($0.id ?? 0) stopped)" } ?? ""))
    }

    static func client(_ call: BuiltinCall) throws -> AlertmanagerClient {
        guard let client = call.services.alertmanager else {
            throw BuiltinFailure("silences need alerts.alertmanager_url in the configuration")
        }
        return client
    }

    /// `MATCHERS for DURATION [REASON]`.
    static func parseSilence(_ spec: String) throws -> (matchers: [LabelMatcher], seconds: Int, reason: String) {
        let words = spec.split(separator: " ").map(String.init)
        guard let forIndex = words.firstIndex(where: { $0.lowercased() == "for" }), forIndex > 0,
            forIndex + 1 < words.count
        else { throw BuiltinFailure("write MATCHERS for DURATION [REASON], as in `silence alertname=HighCPU for 1h`") }
        let parsed = try words[..<forIndex].map { word -> LabelMatcher in
            do {
                return try LabelMatcher(parsing: word)
            } catch {
                throw BuiltinFailure("matcher \(error)")
            }
        }
        guard let seconds = DurationText.seconds(words[forIndex + 1]), seconds > 0 else {
            throw BuiltinFailure("'\(words[forIndex + 1])' is not a duration; write 30m, 2h or 1d")
        }
        guard seconds <= 30 * 86400 else { throw BuiltinFailure("a silence may last 30 days at most") }
        guard parsed.contains(where: { $0.isEqual && !($0.isRegex && $0.value.isEmpty) }) else {
            throw BuiltinFailure("a silence needs at least one positive matcher, such as alertname=HighCPU")
        }
        return (parsed, seconds, words[(forIndex + 2)...].joined(separator: " "))
    }

    static func silence(_ call: BuiltinCall) async throws -> Reply {
        let parsed: (matchers: [LabelMatcher], seconds: Int, reason: String)
        do {
            parsed = try parseSilence(call["spec"] ?? "")
        } catch let failure as BuiltinFailure {
            return .text(failure.message)
        }
        let who = call.principal.userName ?? call.principal.identity.description
        let end = Date().addingTimeInterval(TimeInterval(parsed.seconds))
        let comment = parsed.reason.isEmpty ? "silenced from chat by \(who) (run #\(call.runID))" : parsed.reason
        let id = try await client(call).createSilence(
            matchers: parsed.matchers, until: end, by: "\(who) via Parley", comment: comment)
        let what = parsed.matchers.map(\.description).joined(separator: " ")
        return Reply([
            .text("🔕 silenced \(what) until \(AuditClock.format(end)) (\(span(parsed.seconds)))"),
            .fields([ReplyField("silence", id), ReplyField("comment", comment)]),
        ])
    }

    static func span(_ seconds: Int) -> String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    static func silences(_ call: BuiltinCall) async throws -> Reply {
        let active = try await client(call).silences().filter { $0.state == "active" }
        guard !active.isEmpty else { return .text("No active silences.") }
        let rows = active.map { silence -> [String] in
            [
                silence.id, silence.matchers.joined(separator: " "),
                silence.endsAt.map { AuditClock.format($0) } ?? "", silence.createdBy, silence.comment,
            ]
        }
        return Reply([.table(header: ["id", "matchers", "ends", "by", "comment"], rows: rows)])
    }

    static func unsilence(_ call: BuiltinCall) async throws -> Reply {
        let id = call["id"] ?? ""
        try await client(call).expireSilence(id: id)
        return .text("🔔 silence \(id) expired")
    }
}

/// A built-in that cannot do what was asked, with the reason to show.
struct BuiltinFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
