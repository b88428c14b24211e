import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// `/incidents` (open and past, by severity) and `/incidents/N` (status, roles, attached alerts,
/// tasks, duration and the live timeline), with the postmortem draft at `/incidents/N/postmortem.md`
/// and `.json`. Seeing them takes the `incidents` grant, as in chat; changing an incident is done by
/// its commands, from the console or any room.
struct IncidentsPage {
    let engine: Engine
    let store: any ParleyStorage
    let pages: PageTemplates

    func register(on router: Router<ParleyRequestContext>) {
        router.get("incidents") { request, context in try await list(request, context) }
        router.get("incidents/{number}") { _, context in try await show(context) }
        router.get("incidents/{number}/timeline") { _, context in try await timelineFragment(context) }
        router.get("incidents/{number}/postmortem.md") { _, context in try await export(context, markdown: true) }
        router.get("incidents/{number}/postmortem.json") { _, context in try await export(context, markdown: false) }
    }

    /// What `incidents.mustache` shows.
    struct ListContent {
        let incidents: TextTable?
        /// Links to each incident's page; nil when there is none.
        let links: Links?
        let showingAll: Bool

        struct Links {
            let items: [Link]
        }

        struct Link {
            let href: String
            let name: String
        }
    }

    /// What `incident.mustache` shows: one field per part of the page.
    struct Content {
        let name: String
        let number: Int64
        let title: String
        let isOpen: Bool
        let facts: TextTable
        let alerts: TextTable?
        let tasks: TextTable?
        let timeline: TextTable
    }

    /// The signed-in person, when they may see incidents.
    private func viewer(_ context: ParleyRequestContext) -> (Authenticated?, Response?) {
        guard let auth = context.auth else { return (nil, HTML.redirect("/login")) }
        guard engine.authorization(for: Identity(platform: "web", id: auth.userName), command: "incidents").isAllowed
        else {
            return (nil, HTML.response("<p>You may not see incidents (the incidents command).</p>", status: .forbidden))
        }
        return (auth, nil)
    }

    func list(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let (auth, refusal) = viewer(context)
        guard let auth else { return refusal ?? HTML.redirect("/login") }
        guard auth.method == .session else { return HTML.redirect("/login") }
        let all = request.uri.queryParameters.get("all") != nil
        let severity = request.uri.queryParameters.get("severity").map { String($0) }
        let incidents = try await store.incidents(IncidentQuery(openOnly: !all, severity: severity, limit: 200))
        let now = Date()
        let table =
            incidents.isEmpty
            ? nil
            : TextTable(
                ["incident", "severity", "status", "title", "commander", "declared (UTC)", "duration"],
                incidents.map { incident in
                    [
                        incident.name, incident.severity, incident.status.rawValue, incident.title,
                        incident.roles["commander"] ?? "", IncidentViews.clock(incident.declaredAt),
                        IncidentViews.span(incident.duration(now: now)),
                    ]
                })
        let links = incidents.map { ListContent.Link(href: "/incidents/\($0.number ?? 0)", name: $0.name) }
        return pages.response(
            .incidents, title: "Incidents", auth: auth,
            content: ListContent(
                incidents: table, links: links.isEmpty ? nil : ListContent.Links(items: links), showingAll: all))
    }

    private func incident(_ context: ParleyRequestContext) async throws -> Incident? {
        guard let text = context.parameters.get("number"), let number = IncidentNumber.parse(text) else { return nil }
        return try await store.incident(number: number)
    }

    func show(_ context: ParleyRequestContext) async throws -> Response {
        let (auth, refusal) = viewer(context)
        guard let auth, auth.method == .session else { return refusal ?? HTML.redirect("/login") }
        guard let incident = try await incident(context) else {
            return HTML.response(
                "<p>There is no such incident. <a href=\"/incidents?all\">All incidents</a></p>", status: .notFound)
        }
        let now = Date()
        var facts = [
            ["severity", incident.severity], ["status", incident.status.rawValue],
            [
                "declared",
                "\(IncidentViews.clock(incident.declaredAt)) UTC by \(incident.declaredBy) in \(incident.declaredIn)",
            ],
            ["duration", IncidentViews.span(incident.duration(now: now)) + (incident.status.isOpen ? " so far" : "")],
            ["latest", incident.summary],
        ]
        for (role, holder) in incident.roles.sorted(by: { $0.key < $1.key }) { facts.append([role, holder]) }
        if let room = incident.room { facts.append(["room", room]) }
        let alerts = try await IncidentViews.alerts(of: incident, store: store)
        let tasks = try await store.incidentTasks(number: incident.number ?? 0)
        let content = Content(
            name: incident.name, number: incident.number ?? 0, title: incident.title, isOpen: incident.status.isOpen,
            facts: TextTable(["fact", "value"], facts),
            alerts: alerts.isEmpty
                ? nil
                : TextTable(
                    ["#", "alert", "status", "summary", "first seen (UTC)"],
                    alerts.map {
                        [
                            "\($0.id ?? 0)", $0.alert.name, $0.status.rawValue, $0.annotations["summary"] ?? "",
                            IncidentViews.clock($0.firstSeen),
                        ]
                    }),
            tasks: tasks.isEmpty
                ? nil
                : TextTable(
                    ["#", "state", "task", "owner"],
                    tasks.map { ["\($0.id ?? 0)", $0.isDone ? "done" : "open", $0.text, $0.owner ?? ""] }),
            timeline: try await timeline(incident))
        return pages.response(.incident, title: incident.name, auth: auth, content: content)
    }

    private func timeline(_ incident: Incident) async throws -> TextTable {
        let lines = try await IncidentTimeline.build(incident, store: store)
        return TextTable(
            ["when (UTC)", "who", "what", "", "audit"],
            lines.map {
                [IncidentViews.clock($0.at), $0.actor, $0.kind.rawValue, $0.text, $0.auditSeq.map { "#\($0)" } ?? ""]
            })
    }

    /// The timeline table alone, which the page fetches every few seconds while the incident is open.
    func timelineFragment(_ context: ParleyRequestContext) async throws -> Response {
        let (auth, refusal) = viewer(context)
        guard auth != nil else { return refusal ?? HTML.redirect("/login") }
        guard let incident = try await incident(context) else { throw APIError(.notFound, "no such incident") }
        return HTML.response(pages.renderTable(try await timeline(incident)))
    }

    func export(_ context: ParleyRequestContext, markdown: Bool) async throws -> Response {
        let (auth, refusal) = viewer(context)
        guard auth != nil else { return refusal ?? HTML.redirect("/login") }
        guard let text = context.parameters.get("number"), let number = IncidentNumber.parse(text),
            let report = try await IncidentReport.gather(number: number, store: store)
        else { throw APIError(.notFound, "no such incident") }
        let body = markdown ? report.markdown() : try report.json()
        let type = markdown ? "text/markdown; charset=utf-8" : "application/json"
        let file = "\(report.incident.name)-postmortem.\(markdown ? "md" : "json")"
        return Response(
            status: .ok,
            headers: [
                .contentType: type, .contentDisposition: "inline; filename=\"\(file)\"",
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
