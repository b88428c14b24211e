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
    /// Alertmanager's API for the silences, when `alerts.alertmanager_url` is set; built once per server.
    let alertmanager: AlertmanagerClient?

    func register(on router: Router<ParleyRequestContext>) {
        router.get("alerts") { _, context in try await show(context) }
        router.post("alerts/{id}/ack") { request, context in try await take(request, context) }
    }

    func allowed(_ user: String, _ command: String) -> Bool {
        engine.authorization(for: Identity(platform: "web", id: user), command: command).isAllowed
    }

    func show(_ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard allowed(auth.userName, "alerts") else {
            return HTML.response(
                HTML.page(
                    title: "Alerts", user: auth.userName, csrf: auth.csrfToken,
                    body: "<h1>Alerts</h1><p>You may not see alerts: no role of yours grants <code>alerts</code>.</p>"),
                status: .forbidden)
        }
        let firing = try await store.alerts(AlertQuery(status: .firing, limit: 500))
        let resolved = try await store.alerts(AlertQuery(status: .resolved, limit: 50))
        let canTake = allowed(auth.userName, "ack")
        let csrf = HTML.escape(auth.csrfToken ?? "")
        func row(_ record: AlertRecord, withButton: Bool) -> [String] {
            let id = record.id ?? 0
            let button =
                withButton && canTake
                ? """
                <form method="post" action="/alerts/\(id)/ack" class="inline"><input type="hidden" name="csrf" \
                value="\(csrf)"><button type="submit">Take</button></form>
                """
                : HTML.escape(
                    record.acknowledgedBy.map { "✓ \($0)" + (record.acknowledgement.map { ": \($0)" } ?? "") } ?? "")
            let name =
                record.url.map {
                    "<a href=\"\(HTML.escape($0))\" rel=\"noopener\">\(HTML.escape(record.alert.name))</a>"
                }
                ?? HTML.escape(record.alert.name)
            // Columns 1 and 7 are HTML (escaped here); the table escapes the others.
            return [
                "\(id)", name, record.labels["severity"] ?? "",
                record.labels["instance"] ?? record.labels["service"] ?? "",
                record.annotations["summary"] ?? "", AuditClock.format(record.firstSeen), "\(record.received)", button,
            ]
        }
        let header = ["#", "alert", "severity", "where", "summary", "since", "seen", ""]
        let open = firing.filter { $0.acknowledgedBy == nil }.map { row($0, withButton: true) }
        let taken = firing.filter { $0.acknowledgedBy != nil }.map { row($0, withButton: false) }
        let history = resolved.map { row($0, withButton: false) }
        var silenced = "<p>Configure <code>alerts.alertmanager_url</code> to see Alertmanager's silences here.</p>"
        if let alertmanager {
            do {
                let active = try await alertmanager.silences()
                    .filter { $0.state == "active" }
                silenced = HTML.table(
                    ["id", "matchers", "ends", "by", "comment"],
                    active.map {
                        [
                            $0.id, $0.matchers.joined(separator: " "), $0.endsAt.map { AuditClock.format($0) } ?? "",
                            $0.createdBy, $0.comment,
                        ]
                    })
            } catch {
                silenced = "<p class=\"error\">\(HTML.escape("\(error)"))</p>"
            }
        }
        let body = """
            <h1>Firing</h1>\(HTML.table(header, open, raw: [1, 7]))
            <h1>Taken</h1>\(HTML.table(header, taken, raw: [1, 7]))
            <h1>Silenced</h1>\(silenced)
            <h1>Resolved</h1>\(HTML.table(header, history, raw: [1, 7]))
            """
        return HTML.response(HTML.page(title: "Alerts", user: auth.userName, csrf: auth.csrfToken, body: body))
    }

    func take(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        let form = try await FormBody.decode(request, limit: settings.maxBodyBytes)
        try CSRF.check(form["csrf"], against: auth)
        let id = context.parameters.get("id").flatMap(Int.init) ?? 0
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: auth.userName), room: "web", text: "ack \(id)", isDirect: true))
        return HTML.redirect("/alerts")
    }
}
