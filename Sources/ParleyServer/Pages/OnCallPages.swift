import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// `/oncall`: each schedule's next two weeks, day by day in its time zone, with the overrides;
/// `/pages`: open and recent pages, each open one with a *Take* button that runs `page ack N` as the
/// signed-in person (the same policy and audit as in chat).
struct OnCallPages {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings
    let pages: PageTemplates

    func register(on router: Router<ParleyRequestContext>) {
        router.get("oncall") { _, context in try await oncall(context) }
        router.get("pages") { _, context in try await list(context) }
        router.post("pages/{id}/ack") { request, context in try await take(request, context) }
    }

    /// What `oncall.mustache` shows: one calendar per schedule.
    struct OnCallContent {
        struct Calendar {
            let name: String
            let zone: String
            let now: String
            let days: TextTable
            let overrides: TextTable?
        }

        let calendars: [Calendar]
    }

    /// What `pages.mustache` shows.
    struct PagesContent {
        /// One field per column of the pages table.
        struct Row {
            let id: Int64
            let status: String
            let policy: String
            let level: Int
            let summary: String
            let opened: String
            let settledBy: String
            let takeable: Bool
        }

        let rows: [Row]?
    }

    private func allowed(_ auth: Authenticated, _ command: String) -> Bool {
        engine.authorization(for: Identity(platform: "web", id: auth.userName), command: command).isAllowed
    }

    func oncall(_ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard allowed(auth, "oncall.schedule") else {
            return HTML.response("<p>You may not see on-call schedules (oncall.schedule).</p>", status: .forbidden)
        }
        let now = Date()
        var calendars: [OnCallContent.Calendar] = []
        for schedule in engine.config.oncall.schedules {
            let records = try await store.overrides(schedule: schedule.name, endingAfter: now)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = schedule.timeZone
            let today = calendar.startOfDay(for: now)
            var rows: [[String]] = []
            for offset in 0..<14 {
                guard let start = calendar.date(byAdding: .day, value: offset, to: today),
                    let end = calendar.date(byAdding: .day, value: offset + 1, to: today)
                else { continue }
                let shifts = schedule.shifts(from: start, to: end, overrides: records.map(\.override))
                let text = shifts.map { shift in
                    "\(shift.person ?? "nobody") \(Self.time(shift.start, calendar))–\(Self.time(shift.end, calendar))"
                        + (shift.source == .layer(schedule.layers.last?.name ?? "") || shift.source == .nobody
                            ? "" : " (\(shift.source))")
                }.joined(separator: " · ")
                rows.append([OnCallViews.local(start, schedule.timeZone).prefix(9).description, text])
            }
            let overrides =
                records.isEmpty
                ? nil
                : TextTable(
                    ["#", "on call", "from", "to", "made by"],
                    records.map {
                        [
                            "\($0.id ?? 0)", $0.override.person,
                            OnCallViews.local($0.override.start, schedule.timeZone),
                            OnCallViews.local($0.override.end, schedule.timeZone), $0.override.madeBy,
                        ]
                    })
            calendars.append(
                OnCallContent.Calendar(
                    name: schedule.name, zone: schedule.timeZone.identifier,
                    now: schedule.onCall(at: now, overrides: records.map(\.override)) ?? "nobody",
                    days: TextTable(["day", "on call"], rows), overrides: overrides))
        }
        return pages.response(.oncall, title: "On call", auth: auth, content: OnCallContent(calendars: calendars))
    }

    /// `09:00`, or `24:00` for the end of the day.
    static func time(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    func list(_ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard allowed(auth, "pages") else {
            return HTML.response("<p>You may not see pages (the pages command).</p>", status: .forbidden)
        }
        let canTake = allowed(auth, "page.ack")
        let records = try await store.pages(openOnly: false, limit: 100)
        let rows = records.map { page in
            PagesContent.Row(
                id: page.id ?? 0, status: page.status.rawValue, policy: page.policy, level: page.level + 1,
                summary: page.summary, opened: IncidentViews.clock(page.createdAt), settledBy: page.settledBy ?? "",
                takeable: canTake && page.status == .open)
        }
        return pages.response(
            .pages, title: "Pages", auth: auth, content: PagesContent(rows: rows.isEmpty ? nil : rows))
    }

    func take(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        let form = try await HTMLForm.decode(HTMLForm.CSRFOnly.self, from: request, limit: settings.maxBodyBytes)
        try CSRF.check(form.csrf, against: auth)
        let id = context.parameters.get("id").flatMap(Int64.init) ?? 0
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: auth.userName), room: "web", text: "page ack \(id)",
                isDirect: true))
        return HTML.redirect("/pages")
    }
}
