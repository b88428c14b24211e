import Foundation
import ParleyCore
import ParleyStore

/// `incident …` and `incidents`: declare, run and write up an incident from chat, under the same
/// policy, gates and audit as every command. Each command that changes an incident records a
/// timeline entry traced to its run's audit entry.
///
/// A command names its incident with `--incident INC-42`, or means the open incident worked on in
/// the room it is sent from (its dedicated room, or where it was declared).
enum IncidentCommands {
    static let all: [BuiltinCommand] = [
        BuiltinCommand(
            "incident declare {severity} {title} [--commander {commander}] [--from-alert {alert:int(1..)}]",
            also: [
                "incident declare {severity} [{title:text}] [--commander {commander}] [--from-alert {alert:int(1..)}]"
            ],
            id: "incident.declare", help: "Declare an incident: how severe, and what is wrong",
            examples: [
                #"incident declare sev1 "Checkout errors on EU" --commander alice"#,
                "incident declare sev2 --from-alert 12",
            ]
        ) { try await answer($0, declare) },
        BuiltinCommand(
            "incident status {status:choice(investigating,identified,monitoring)} [--incident {incident}]",
            id: "incident.status", help: "Move an incident on: investigating, identified or monitoring",
            examples: ["incident status identified"]
        ) { try await answer($0, status) },
        BuiltinCommand(
            "incident update [--incident {incident}] {text:text}", id: "incident.update",
            help: "Post a status update to the incident's stakeholders",
            examples: ["incident update Rolled back; error rate falling"]
        ) { try await answer($0, update) },
        BuiltinCommand(
            "incident assign {role} {person} [--incident {incident}]", id: "incident.assign",
            help: "Give an incident role (commander, comms, scribe …) to someone",
            examples: ["incident assign comms bob"]
        ) { try await answer($0, assign) },
        BuiltinCommand(
            "incident roles [--incident {incident}]", id: "incident.roles", help: "Who holds which incident role",
            changesNothing: true
        ) { try await answer($0, roles) },
        BuiltinCommand(
            "incident note [--incident {incident}] {text:text}", id: "incident.note",
            help: "Add a note to the incident's timeline", examples: ["incident note restarted the primary by hand"]
        ) { try await answer($0, note) },
        BuiltinCommand(
            "incident timeline [--incident {incident}]", id: "incident.timeline",
            help: "Show the incident's timeline, with the audit entry of each line", changesNothing: true
        ) { try await answer($0, timeline) },
        BuiltinCommand(
            "incident severity {severity} [--incident {incident}]", id: "incident.severity",
            help: "Change an incident's severity", examples: ["incident severity sev1"]
        ) { try await answer($0, severity) },
        BuiltinCommand(
            "incident attach {alert:int(1..)} [--incident {incident}]", id: "incident.attach",
            help: "Attach an alert to the incident", examples: ["incident attach 12"]
        ) { try await answer($0, attach) },
        BuiltinCommand(
            "incident resolve [--incident {incident}] [{summary:text}]", id: "incident.resolve",
            help: "Resolve the incident (its commander does), and get the postmortem draft",
            examples: ["incident resolve Bad config rolled back"]
        ) { try await answer($0, resolve) },
        BuiltinCommand(
            "incident close [--incident {incident}]", id: "incident.close",
            help: "Close a resolved incident once its write-up is done"
        ) { try await answer($0, close) },
        BuiltinCommand(
            "incident task add [--incident {incident}] [--owner {owner}] {text:text}", id: "incident.task",
            help: "Add a follow-up task", examples: ["incident task add --owner bob Add a canary"]
        ) { try await answer($0, addTask) },
        BuiltinCommand(
            "incident task done {task:int(1..)}", id: "incident.task.done", help: "Close a follow-up task",
            examples: ["incident task done 3"]
        ) { try await answer($0, finishTask) },
        BuiltinCommand(
            "incident tasks [--incident {incident}]", id: "incident.tasks", help: "List the incident's follow-up tasks",
            changesNothing: true
        ) { try await answer($0, tasks) },
        BuiltinCommand(
            "incident show {incident}", id: "incident.show", help: "Show an incident: status, roles, alerts, tasks",
            examples: ["incident show INC-42"], changesNothing: true
        ) { try await answer($0, show) },
        BuiltinCommand(
            "incidents [--all] [--severity {severity}] [--limit {limit:int(1..100)}]", id: "incidents",
            help: "List open incidents (with --all, past ones too)", examples: ["incidents", "incidents --all"],
            changesNothing: true
        ) { try await answer($0, list) },
    ]

    /// Runs a command, answering its refusal (a `BuiltinFailure`) as its reply.
    static func answer(_ call: BuiltinCall, _ body: (BuiltinCall) async throws -> Reply) async throws -> Reply {
        do {
            return try await body(call)
        } catch let failure as BuiltinFailure {
            return .text(failure.message)
        }
    }

    // MARK: Finding the incident and the people

    /// The incident a command means: `--incident`, else the one open in this room.
    static func target(_ call: BuiltinCall, argument: String = "incident") async throws -> Incident {
        let store = call.services.store
        if let text = call[argument] {
            guard let number = IncidentNumber.parse(text) else {
                throw BuiltinFailure("'\(text)' is not an incident number; write INC-42")
            }
            guard let incident = try await store.incident(number: number) else {
                throw BuiltinFailure(
                    "there is no incident \(IncidentNumber.format(number)); `incidents --all` lists them")
            }
            return incident
        }
        let open = try await store.openIncidents(inRoom: "\(call.platform):\(call.room)")
        switch open.count {
        case 0:
            throw BuiltinFailure(
                "no incident is open in this room; name one with --incident INC-42 (`incidents` lists them)")
        case 1: return open[0]
        default:
            throw BuiltinFailure(
                "\(open.count) incidents are open in this room (\(open.map(\.name).joined(separator: ", "))); "
                    + "name one with --incident")
        }
    }

    /// The Parley user a command names (`alice`, `@alice`, or an identity on this platform).
    static func person(_ text: String, _ call: BuiltinCall) throws -> String {
        let name = text.hasPrefix("@") ? String(text.dropFirst()) : text
        let directory = call.services.directory
        if directory.users[name] != nil { return name }
        if let user = directory.principal(for: Identity(platform: call.platform, id: name)).userName { return user }
        if let user = directory.principal(for: Identity(platform: call.platform, id: text)).userName { return user }
        let known = directory.users.keys.sorted().prefix(10).joined(separator: ", ")
        throw BuiltinFailure("no Parley user '\(name)'" + (known.isEmpty ? "" : "; users: \(known)"))
    }

    /// The audit entry that starts this run's record, which its timeline entry is traced to.
    static func auditSeq(_ call: BuiltinCall) async throws -> Int64? {
        try await call.services.store.auditEntries(AuditQuery(runID: call.runID, limit: 1)).first?.seq
    }

    static func event(_ call: BuiltinCall, _ incident: Incident, _ kind: IncidentEventKind, _ text: String)
        async throws -> IncidentEvent
    {
        IncidentEvent(
            incident: incident.number ?? 0, at: Date(), actor: call.actor, kind: kind, text: text, runID: call.runID,
            auditSeq: try await auditSeq(call))
    }

    /// Applies a change with its timeline entry.
    static func change(
        _ call: BuiltinCall, _ incident: Incident, _ change: IncidentChange, _ kind: IncidentEventKind, _ text: String
    ) async throws -> Incident {
        let entry = try await event(call, incident, kind, text)
        guard let number = incident.number,
            let changed = try await call.services.store.changeIncident(number: number, change, event: entry)
        else { throw BuiltinFailure("\(incident.name) is no longer recorded") }
        return changed
    }

    static func requireOpen(_ incident: Incident) throws {
        guard incident.status.isOpen else {
            throw BuiltinFailure(
                "\(incident.name) is \(incident.status.rawValue); `incident status investigating --incident \(incident.name)` reopens it"
            )
        }
    }

    // MARK: Commands

    static func declare(_ call: BuiltinCall) async throws -> Reply {
        let settings = call.services.incidents
        let severityText = call["severity"] ?? ""
        guard let severity = settings.severity(severityText) else {
            let known = settings.severities.map(\.name).joined(separator: ", ")
            return .text("'\(severityText)' is not a severity; write one of \(known)")
        }
        var title = call["title"]?.trimmingCharacters(in: .whitespaces) ?? ""
        var alert: AlertRecord?
        if let alertText = call["alert"], let id = Int64(alertText) {
            guard let record = try await call.services.store.alert(id: id) else {
                return .text("there is no alert #\(id); `alerts` lists them")
            }
            alert = record
            if title.isEmpty { title = record.annotations["summary"] ?? record.alert.name }
        }
        guard !title.isEmpty else {
            return .text(#"say what is wrong: incident declare sev2 "Checkout errors on EU""#)
        }
        guard title.count <= 200 else { return .text("keep the title under 200 characters; add detail with `note`") }
        let commander = try call["commander"].map { try person($0, call) } ?? call.principal.userName
        let seq = try await auditSeq(call) ?? 0
        let now = Date()
        var incident = Incident(
            severity: severity.name, title: call.services.masker.mask(title), declaredAt: now, declaredBy: call.actor,
            declaredIn: "\(call.platform):\(call.room)", auditFromSeq: max(0, seq - 1),
            roles: commander.map { ["commander": $0] } ?? [:])
        let declared = IncidentEvent(
            incident: 0, at: now, actor: call.actor, kind: .declared,
            text: "declared \(severity.name): \(incident.title)" + (commander.map { "; commander \($0)" } ?? ""),
            runID: call.runID, auditSeq: seq)
        incident = try await call.services.store.declareIncident(incident, event: declared)
        let number = incident.number ?? 0
        if let alert, let id = alert.id {
            _ = try await call.services.store.attachAlert(incident: number, alertID: id, at: now)
            _ = try await call.services.store.addIncidentEvent(
                IncidentEvent(
                    incident: number, at: now, actor: call.actor, kind: .alert,
                    text: "alert #\(id) \(alert.alert.name) attached", runID: call.runID, auditSeq: seq))
        }
        var lines = [
            "🚨 \(incident.name) declared (\(severity.name)): \(incident.title)",
            "commander: \(commander ?? "nobody yet — `incident assign commander NAME`")",
        ]
        if let every = severity.updateEverySeconds {
            lines.append("status updates every \(AlertCommands.span(every)): `incident update TEXT`")
        }
        lines.append("notes: `incident note TEXT` · roles: `incident assign comms NAME` · done: `incident resolve`")
        await IncidentRooms.announce(incident, to: settings.stakeholderRooms, except: incident.declaredIn, call: call) {
            "🚨 \(incident.name) declared (\(severity.name)): \(incident.title) — commander \(commander ?? "unassigned"), declared by \(call.actor) in \(incident.declaredIn)"
        }
        if let policy = severity.page {
            let page = try await call.services.pager.open(
                key: "incident:\(number)", policy: policy,
                summary: "\(incident.name) (\(severity.name)): \(incident.title)", room: incident.declaredIn, now: now,
                messenger: call.services.messenger.messenger)
            lines.append("paging through \(policy) (page \(page.id ?? 0))")
        }
        if let room = await IncidentRooms.open(incident, call: call) {
            incident = try await change(call, incident, .room(room), .status, "dedicated room \(room)")
            lines.append("incident room: \(room)")
        }
        return Reply([.text(lines.joined(separator: "\n")), .fields(IncidentViews.fields(incident, alerts: []))])
    }

    static func status(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        guard let status = call["status"].flatMap(IncidentStatus.init(rawValue:)) else {
            return .text("write investigating, identified or monitoring")
        }
        guard incident.status != .closed else { return .text("\(incident.name) is closed") }
        let changed = try await change(
            call, incident, .status(status, at: Date()), .status, "\(incident.status.rawValue) → \(status.rawValue)")
        return .text("\(changed.name) is now \(status.rawValue)")
    }

    static func update(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        try requireOpen(incident)
        let text = call.services.masker.mask(call["text"] ?? "")
        guard !text.isEmpty else { return .text("write the update: incident update Rolled back; errors falling") }
        let changed = try await change(call, incident, .update(summary: text, at: Date()), .update, text)
        let card = IncidentViews.updateCard(changed, text: text, by: call.actor)
        let told = await IncidentRooms.announce(
            changed, to: call.services.incidents.stakeholderRooms, except: "\(call.platform):\(call.room)", call: call
        ) { card }
        let next = call.services.incidents.severity(changed.severity)?.updateEverySeconds.map {
            "; next update due in \(AlertCommands.span($0))"
        }
        return .text(card + "\n(sent to \(told) stakeholder room\(told == 1 ? "" : "s")\(next ?? ""))")
    }

    static func assign(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        try requireOpen(incident)
        let roleName = (call["role"] ?? "").lowercased()
        guard let role = call.services.incidents.role(roleName) else {
            let known = call.services.incidents.roles.map(\.name).joined(separator: ", ")
            return .text("'\(roleName)' is not an incident role; roles: \(known)")
        }
        let who = try person(call["person"] ?? "", call)
        let before = incident.roles[role.name]
        let changed = try await change(
            call, incident, .role(role.name, holder: who), .role,
            "\(role.name): \(who)" + (before.map { " (was \($0))" } ?? ""))
        return .text("\(changed.name): \(who) is \(role.name) now" + (before.map { " (was \($0))" } ?? ""))
    }

    static func roles(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let rows = call.services.incidents.roles.map { role in
            [role.name, incident.roles[role.name] ?? "—", role.allow.joined(separator: ", ")]
        }
        return Reply([.text("\(incident.name) roles"), .table(header: ["role", "held by", "may run"], rows: rows)])
    }

    static func note(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let text = call.services.masker.mask(call["text"] ?? "")
        guard !text.isEmpty else { return .text("write the note: incident note restarted the primary") }
        let entry = try await event(call, incident, .note, text)
        _ = try await call.services.store.addIncidentEvent(entry)
        return .text("📝 noted in \(incident.name)'s timeline")
    }

    static func timeline(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let lines = try await IncidentTimeline.build(incident, store: call.services.store)
        let rows = lines.suffix(40).map {
            [IncidentViews.clock($0.at), $0.actor, $0.kind.rawValue, $0.text, $0.seqText]
        }
        var blocks: [ReplyBlock] = [
            .text("\(incident.name) timeline (\(lines.count) entr\(lines.count == 1 ? "y" : "ies"))"),
            .table(header: ["when (UTC)", "who", "what", "", "audit #"], rows: rows),
        ]
        if lines.count > 40 { blocks.append(.text("… the first \(lines.count - 40) are on the incident's web page")) }
        return Reply(blocks)
    }

    static func severity(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        try requireOpen(incident)
        guard let severity = call.services.incidents.severity(call["severity"] ?? "") else {
            let known = call.services.incidents.severities.map(\.name).joined(separator: ", ")
            return .text("'\(call["severity"] ?? "")' is not a severity; write one of \(known)")
        }
        let changed = try await change(
            call, incident, .severity(severity.name), .status, "severity \(incident.severity) → \(severity.name)")
        await IncidentRooms.announce(
            changed, to: call.services.incidents.stakeholderRooms, except: "\(call.platform):\(call.room)", call: call
        ) { "⚠️ \(changed.name) is now \(severity.name): \(changed.title)" }
        return .text("\(changed.name) is \(severity.name) now")
    }

    static func attach(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        guard let id = call["alert"].flatMap(Int64.init), let alert = try await call.services.store.alert(id: id)
        else { return .text("there is no alert #\(call["alert"] ?? ""); `alerts` lists them") }
        guard let number = incident.number,
            try await call.services.store.attachAlert(incident: number, alertID: id, at: Date())
        else { return .text("alert #\(id) is attached to \(incident.name) already") }
        _ = try await call.services.store.addIncidentEvent(
            try await event(call, incident, .alert, "alert #\(id) \(alert.alert.name) attached"))
        return .text("🔗 alert #\(id) \(alert.alert.name) attached to \(incident.name)")
    }

    static func resolve(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        try requireOpen(incident)
        if let commander = incident.roles["commander"], commander != call.principal.userName {
            return .text(
                "only \(incident.name)'s commander (\(commander)) may resolve it; "
                    + "`incident assign commander NAME` hands the role over")
        }
        let summary = call.services.masker.mask(call["summary"] ?? "")
        let now = Date()
        var changed = try await change(
            call, incident, .status(.resolved, at: now), .resolved,
            summary.isEmpty ? "resolved" : "resolved: \(summary)")
        if !summary.isEmpty, let number = changed.number {
            changed =
                try await call.services.store.changeIncident(
                    number: number, .update(summary: summary, at: now), event: nil) ?? changed
        }
        _ = try await call.services.pager.settle(
            key: "incident:\(changed.number ?? 0)", status: .resolved, by: call.actor, now: now)
        let duration = IncidentViews.span(changed.duration(now: now))
        await IncidentRooms.announce(
            changed, to: call.services.incidents.stakeholderRooms, except: "\(call.platform):\(call.room)", call: call
        ) {
            "✅ \(changed.name) resolved after \(duration): \(changed.title)" + (summary.isEmpty ? "" : " — \(summary)")
        }
        var lines = ["✅ \(changed.name) resolved after \(duration)."]
        if let url = call.services.runPageURL.map({ $0.replacingOccurrences(of: "/runs/", with: "/incidents/") }) {
            lines.append("postmortem draft: \(url)\(changed.number ?? 0)/postmortem.md")
        }
        lines.append("or `parley incident export \(changed.name) --format md`; follow-ups: `incident task add TEXT`")
        return .text(lines.joined(separator: "\n"))
    }

    static func close(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        guard incident.status == .resolved else {
            return .text("\(incident.name) is \(incident.status.rawValue); resolve it before closing it")
        }
        let open = try await call.services.store.incidentTasks(number: incident.number ?? 0).filter { !$0.isDone }
        let changed = try await change(call, incident, .status(.closed, at: Date()), .closed, "closed")
        let note = open.isEmpty ? "" : " (\(open.count) follow-up task\(open.count == 1 ? "" : "s") still open)"
        return .text("\(changed.name) closed\(note)")
    }

    static func addTask(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let text = call.services.masker.mask(call["text"] ?? "")
        guard !text.isEmpty, text.count <= 500 else { return .text("write the task in under 500 characters") }
        let owner = try call["owner"].map { try person($0, call) }
        let task = try await call.services.store.addIncidentTask(
            IncidentTask(
                incident: incident.number ?? 0, text: text, owner: owner, createdAt: Date(), createdBy: call.actor))
        _ = try await call.services.store.addIncidentEvent(
            try await event(
                call, incident, .task,
                "task \(task.id ?? 0) added: \(text)" + (owner.map { " (owner \($0))" } ?? "")))
        return .text("☑️ task \(task.id ?? 0) for \(incident.name): \(text)" + (owner.map { " — \($0)" } ?? ""))
    }

    static func finishTask(_ call: BuiltinCall) async throws -> Reply {
        guard let id = call["task"].flatMap(Int64.init) else { return .text("which task? `incident task done 3`") }
        guard let task = try await call.services.store.finishIncidentTask(id: id, by: call.actor, at: Date()) else {
            return .text("there is no open task \(id); `incident tasks` lists them")
        }
        if let incident = try await call.services.store.incident(number: task.incident) {
            _ = try await call.services.store.addIncidentEvent(
                try await event(call, incident, .task, "task \(id) done: \(task.text)"))
        }
        return .text("✔️ task \(id) done: \(task.text)")
    }

    static func tasks(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let tasks = try await call.services.store.incidentTasks(number: incident.number ?? 0)
        guard !tasks.isEmpty else { return .text("\(incident.name) has no follow-up tasks") }
        let rows = tasks.map { task in
            ["\(task.id ?? 0)", task.isDone ? "done" : "open", task.text, task.owner ?? "", task.doneBy ?? ""]
        }
        return Reply([.table(header: ["#", "state", "task", "owner", "done by"], rows: rows)])
    }

    static func show(_ call: BuiltinCall) async throws -> Reply {
        let incident = try await target(call)
        let alerts = try await IncidentViews.alerts(of: incident, store: call.services.store)
        return Reply([
            .text("\(incident.name): \(incident.title)"), .fields(IncidentViews.fields(incident, alerts: alerts)),
        ])
    }

    static func list(_ call: BuiltinCall) async throws -> Reply {
        let limit = call["limit"].flatMap(Int.init) ?? 20
        let incidents = try await call.services.store.incidents(
            IncidentQuery(openOnly: !call.flag("all"), severity: call["severity"], limit: limit))
        guard !incidents.isEmpty else {
            return .text(call.flag("all") ? "No incidents." : "No incident is open. `incidents --all` lists past ones.")
        }
        let now = Date()
        let rows = incidents.map { incident in
            [
                incident.name, incident.severity, incident.status.rawValue, incident.title,
                incident.roles["commander"] ?? "", IncidentViews.span(incident.duration(now: now)),
            ]
        }
        return Reply([.table(header: ["incident", "sev", "status", "title", "commander", "duration"], rows: rows)])
    }
}
