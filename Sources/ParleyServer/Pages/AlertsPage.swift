import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// `/alerts`: firing, taken, silenced and resolved alerts. Taking an alert runs `ack` as the signed-in
/// person, so the same policy and audit apply as in chat.
struct AlertsPage {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings
    let pages: PageTemplates
    /// Alertmanager's API for the silences, when `alerts.alertmanager_url` is set; built once per server.
    let alertmanager: AlertmanagerClient?

    func register(on router: Router<ParleyRequestContext>) {
        router.get("alerts") { _, context in try await show(context) }
        router.post("alerts/{id}/ack") { request, context in try await take(request, context) }
    }

    func allowed(_ user: String, _ command: String) -> Bool {
        engine.authorization(for: Identity(platform: "web", id: user), command: command).isAllowed
    }

    /// What `alerts.mustache` shows.
    struct Content {
        /// One table of alerts (`alert-table.mustache`).
        struct Table {
            let alerts: [Row]
        }

        /// A value: one field per column of the alerts table on the page.
        struct Row {
            let id: Int64
            let name: String
            /// Where the alert's name links to, if its source gave a page.
            let link: String?
            let severity: String
            let place: String
            let summary: String
            let since: String
            let seen: Int
            /// True when the row has the Take button.
            let takeable: Bool
            /// Who took it, and their note.
            let takenBy: String
        }

        let firing: Table
        let taken: Table
        let resolved: Table
        let alertmanagerConfigured: Bool
        let silences: TextTable?
        let silenceError: String?
    }

    func show(_ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard allowed(auth.userName, "alerts") else {
            return pages.response(.alertsDenied, title: "Alerts", auth: auth, status: .forbidden)
        }
        let firing = try await store.alerts(AlertQuery(status: .firing, limit: 500))
        let resolved = try await store.alerts(AlertQuery(status: .resolved, limit: 50))
        let canTake = allowed(auth.userName, "ack")
        func table(_ records: [AlertRecord], withButton: Bool) -> Content.Table {
            Content.Table(alerts: records.map { row($0, takeable: withButton && canTake) })
        }
        var silences: TextTable?
        var silenceError: String?
        if let alertmanager {
            do {
                let active = try await alertmanager.silences().filter { $0.state == "active" }
                silences = TextTable(
                    ["id", "matchers", "ends", "by", "comment"],
                    active.map {
                        [
                            $0.id, $0.matchers.joined(separator: " "), $0.endsAt.map { AuditClock.format($0) } ?? "",
                            $0.createdBy, $0.comment,
                        ]
                    })
            } catch {
                silenceError = "\(error)"
            }
        }
        let content = Content(
            firing: table(firing.filter { $0.acknowledgedBy == nil }, withButton: true),
            taken: table(firing.filter { $0.acknowledgedBy != nil }, withButton: false),
            resolved: table(resolved, withButton: false), alertmanagerConfigured: alertmanager != nil,
            silences: silences, silenceError: silenceError)
        return pages.response(.alerts, title: "Alerts", auth: auth, content: content)
    }

    private func row(_ record: AlertRecord, takeable: Bool) -> Content.Row {
        Content.Row(
            id: record.id ?? 0, name: record.alert.name, link: record.url, severity: record.labels["severity"] ?? "",
            place: record.labels["instance"] ?? record.labels["service"] ?? "",
            summary: record.annotations["summary"] ?? "", since: AuditClock.format(record.firstSeen),
            seen: record.received, takeable: takeable,
            takenBy: record.acknowledgedBy.map { "✓ \($0)" + (record.acknowledgement.map { ": \($0)" } ?? "") } ?? "")
    }

    func take(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        let form = try await HTMLForm.decode(HTMLForm.CSRFOnly.self, from: request, limit: settings.maxBodyBytes)
        try CSRF.check(form.csrf, against: auth)
        let id = context.parameters.get("id").flatMap(Int.init) ?? 0
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: auth.userName), room: "web", text: "ack \(id)", isDirect: true))
        return HTML.redirect("/alerts")
    }
}
