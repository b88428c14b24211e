import Foundation
import ParleyCore
import ParleyStore

/// `pages`, `page ack`, `page resolve`, `oncall page`: pages from chat.
enum PageCommands {
    static let all: [BuiltinCommand] = [
        BuiltinCommand(
            "pages [--all]", id: "pages", help: "List open pages (with --all, settled ones too)", changesNothing: true
        ) { try await IncidentCommands.answer($0, list) },
        BuiltinCommand(
            "page ack {page:int(1..)}", id: "page.ack", help: "Take a page: its escalation stops",
            examples: ["page ack 3"]
        ) { try await IncidentCommands.answer($0) { try await settle($0, .acknowledged) } },
        BuiltinCommand(
            "page resolve {page:int(1..)}", id: "page.resolve", help: "Resolve a page", examples: ["page resolve 3"]
        ) { try await IncidentCommands.answer($0) { try await settle($0, .resolved) } },
        BuiltinCommand(
            "oncall page {person} {message:text}", id: "oncall.page",
            help: "Page someone (again every 5 minutes, three times, until they take it)",
            examples: [#"oncall page alice db primary down"#]
        ) { try await IncidentCommands.answer($0, pagePerson) },
    ]

    static func list(_ call: BuiltinCall) async throws -> Reply {
        let pages = try await call.services.store.pages(openOnly: !call.flag("all"), limit: 50)
        guard !pages.isEmpty else { return .text(call.flag("all") ? "No pages." : "No page is open.") }
        let rows = pages.map { page in
            [
                "\(page.id ?? 0)", page.status.rawValue, page.policy, "\(page.level + 1)", page.summary,
                page.settledBy ?? "", IncidentViews.clock(page.createdAt),
            ]
        }
        return Reply([.table(header: ["#", "status", "policy", "level", "about", "by", "opened (UTC)"], rows: rows)])
    }

    static func settle(_ call: BuiltinCall, _ status: PageStatus) async throws -> Reply {
        guard let id = call["page"].flatMap(Int64.init), let page = try await call.services.store.page(id: id) else {
            return .text("there is no page \(call["page"] ?? ""); `pages` lists them")
        }
        guard page.status == .open,
            let settled = try await call.services.pager.settle(
                key: page.key, status: status, by: call.actor, now: Date())
        else {
            return .text("page \(id) is \(page.status.rawValue) already" + (page.settledBy.map { " (\($0))" } ?? ""))
        }
        let verb = status == .resolved ? "resolved" : "taken"
        return .text("✋ page \(id) \(verb) by \(call.actor): \(settled.summary)")
    }

    static func pagePerson(_ call: BuiltinCall) async throws -> Reply {
        let person = try IncidentCommands.person(call["person"] ?? "", call)
        let message = call["message"] ?? ""
        let page = try await call.services.pager.open(
            key: "manual:\(call.runID)", policy: "user:\(person)", summary: "\(call.actor): \(message)",
            room: "\(call.platform):\(call.room)", now: Date(), messenger: call.services.messenger.messenger)
        return .text("📟 paged \(person) (page \(page.id ?? 0)); `page ack \(page.id ?? 0)` stops it")
    }
}
