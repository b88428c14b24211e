import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// The console page and the dashboard: runs, approvals, audit, users and roles.
struct DashboardRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings

    func register(on router: Router<ParleyRequestContext>) {
        router.get("/") { _, context in
            page(context, title: "Console") { _ in
                """
                <section id="console" class="console">
                <div id="transcript" class="transcript" aria-live="polite"></div>
                <form id="composer" class="composer" autocomplete="off">
                <input id="message" name="message" placeholder="Type a command — try help" aria-label="Command" list="commands">
                <datalist id="commands"></datalist>
                <button type="submit" id="send">Send</button></form>
                <ul id="completions" class="completions"></ul>
                </section><script src="/assets/console.js"></script>
                """
            }
        }
        router.get("runs") { request, context in try await runs(request, context) }
        router.get("runs/{id}") { _, context in try await run(context) }
        router.get("approvals") { _, context in try await approvals(context) }
        router.post("approvals/{id}/{answer}") { request, context in try await answer(request, context) }
        router.get("audit") { request, context in try await audit(request, context) }
        router.get("users") { _, context in page(context, title: "Users and roles") { _ in usersBody() } }
    }

    private func page(_ context: ParleyRequestContext, title: String, body: (Authenticated) -> String) -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        return HTML.response(HTML.page(title: title, user: auth.userName, csrf: auth.csrfToken, body: body(auth)))
    }

    private func runs(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var runQuery = RunQuery(limit: 100)
        runQuery.userName = query["user"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        runQuery.commandID = query["command"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        runQuery.status = query["status"].flatMap { RunStatus(rawValue: String($0)) }
        let runs = try await store.runs(runQuery)
        return page(context, title: "Runs") { _ in
            let options = ([""] + RunStatus.allCases.map(\.rawValue)).map { status in
                "<option\(status == runQuery.status?.rawValue ? " selected" : "")>\(status)</option>"
            }.joined()
            let filter = """
                <form method="get" action="/runs" class="filters">
                <input name="user" placeholder="user" value="\(HTML.escape(runQuery.userName ?? ""))">
                <input name="command" placeholder="command" value="\(HTML.escape(runQuery.commandID ?? ""))">
                <select name="status">\(options)</select><button type="submit">Filter</button></form>
                """
            let rows = runs.map { run in
                [
                    "<a href=\"/runs/\(run.id ?? 0)\">#\(run.id ?? 0)</a>", HTML.escape(run.status.rawValue),
                    HTML.escape(run.userName ?? run.identity), HTML.escape(run.text), HTML.escape(run.room),
                    HTML.escape(AuditClock.format(run.createdAt)),
                ]
            }
            return "<h1>Runs</h1>" + filter
                + HTML.table(["run", "status", "who", "command", "where", "when"], rows, raw: Set(0..<6))
        }
    }

    private func run(_ context: ParleyRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), let run = try await store.run(id: id) else {
            return page(context, title: "Run") { _ in "<h1>No such run</h1>" }
        }
        let steps = try await store.auditEntries(AuditQuery(runID: id, limit: 10_000))
        return page(context, title: "Run #\(id)") { _ in
            let fields: [(String, String)] = [
                ("status", run.status.rawValue),
                ("who", run.userName.map { "\($0) (\(run.identity))" } ?? run.identity),
                ("where", run.room), ("command", run.text), ("decision", "\(run.decision.rawValue): \(run.reason)"),
                ("exit status", run.exitCode.map(String.init) ?? ""),
                ("took", run.durationMilliseconds.map { "\($0) ms" } ?? ""),
            ]
            let list = fields.filter { !$0.1.isEmpty }.map {
                "<dt>\(HTML.escape($0.0))</dt><dd>\(HTML.escape($0.1))</dd>"
            }
            .joined()
            let output =
                run.output.isEmpty
                ? "" : "<h2>Output</h2><pre class=\"output\" id=\"output\">\(HTML.escape(run.output))</pre>"
            let timeline = HTML.table(
                ["seq", "at", "step", "by", "result"],
                steps.map { ["#\($0.seq)", $0.at, $0.kind, $0.actor, $0.outcome.isEmpty ? $0.detail : $0.outcome] })
            return """
                <h1>Run #\(id)</h1><dl class="fields">\(list)</dl>
                <h2>Timeline</h2>\(timeline)\(output)
                """
        }
    }

    private func approvals(_ context: ParleyRequestContext) async throws -> Response {
        try await engine.expireDueApprovals()
        let pending = try await store.pendingApprovals()
        let decided = try await store.decidedApprovals(limit: 50)
        return page(context, title: "Approvals") { auth in
            let csrf = HTML.escape(auth.csrfToken ?? "")
            let pendingRows = pending.map { request -> [String] in
                let buttons =
                    request.kind == .approval
                    ? """
                    <form method="post" action="/approvals/\(HTML.escape(request.id))/approve" class="inline">\
                    <input type="hidden" name="csrf" value="\(csrf)"><button type="submit">Approve</button></form>\
                    <form method="post" action="/approvals/\(HTML.escape(request.id))/deny" class="inline">\
                    <input type="hidden" name="csrf" value="\(csrf)"><button type="submit" class="danger">Deny</button></form>
                    """ : "confirmation"
                return [
                    HTML.escape(request.id), HTML.escape(request.text),
                    HTML.escape(request.requesterUser ?? request.requesterIdentity),
                    HTML.escape(request.approverRoles.joined(separator: ", ")),
                    HTML.escape(AuditClock.format(request.expiresAt)), buttons,
                ]
            }
            let decidedRows = decided.map {
                [$0.id, $0.text, $0.requesterUser ?? $0.requesterIdentity, $0.status.rawValue, $0.reason]
            }
            return "<h1>Pending</h1>"
                + HTML.table(["id", "command", "by", "approvers", "expires", ""], pendingRows, raw: Set(0..<6))
                + "<h1>Decided</h1>" + HTML.table(["id", "command", "by", "status", "reason"], decidedRows)
        }
    }

    private func answer(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        let form = try await FormBody.decode(request, limit: settings.maxBodyBytes)
        try CSRF.check(form["csrf"], against: auth)
        let id = context.parameters.get("id") ?? ""
        let verb = context.parameters.get("answer") == "approve" ? "approve" : "deny"
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: auth.userName), room: "web", text: "\(verb) \(id)", isDirect: true
            ))
        return HTML.redirect("/approvals")
    }

    private func audit(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard engine.authorization(for: Identity(platform: "web", id: auth.userName), command: "audit").isAllowed else {
            return page(context, title: "Audit") { _ in
                "<h1>Audit</h1><p>Reading the audit log needs a role that allows the <code>audit</code> command.</p>"
            }
        }
        let query = request.uri.queryParameters
        func value(_ name: Substring) -> String? { query[name].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        let entries = try await store.auditEntries(
            AuditQuery(
                actor: value("user"), command: value("command"), kind: value("kind"), limit: 200, newestFirst: true))
        let key = try AuditKeys.load(engine.config.audit, dataDirectory: engine.config.dataDirectory)
        let verification = try await AuditVerification.verifyStore(
            store, publicKey: key.publicKey, schedule: engine.config.audit.schedule)
        return page(context, title: "Audit") { _ in
            let status =
                verification.problem.map {
                    "<p class=\"error\" id=\"chain\">Chain TAMPERED: \(HTML.escape($0.description))</p>"
                }
                ?? "<p class=\"ok\" id=\"chain\">Chain verified: \(verification.entries) entries, \(verification.checkpoints) signed checkpoints.</p>"
            let filter = """
                <form method="get" action="/audit" class="filters">
                <input name="user" placeholder="user" value="\(HTML.escape(value("user") ?? ""))">
                <input name="command" placeholder="command" value="\(HTML.escape(value("command") ?? ""))">
                <input name="kind" placeholder="kind" value="\(HTML.escape(value("kind") ?? ""))"><button type="submit">Search</button></form>
                """
            let rows = entries.map {
                ["#\($0.seq)", $0.at, $0.kind, $0.actor, $0.room, $0.command, $0.arguments, $0.outcome, $0.detail]
            }
            return "<h1>Audit</h1>" + status + filter
                + HTML.table(["seq", "at", "kind", "who", "where", "command", "arguments", "outcome", "detail"], rows)
        }
    }

    private func usersBody() -> String {
        let directory = engine.directory
        let users = directory.allPrincipals.map { principal -> [String] in
            let user = principal.userName.flatMap { directory.users[$0] }
            return [
                principal.userName ?? "", principal.roles.joined(separator: ", "),
                user?.groups.joined(separator: ", ") ?? "",
                user?.identities.map(\.description).joined(separator: ", ") ?? "",
            ]
        }
        let roles = engine.policy.roles.values.sorted { $0.name < $1.name }.map {
            [$0.name, $0.allow.joined(separator: ", "), $0.deny.joined(separator: ", ")]
        }
        return "<h1>Users</h1>" + HTML.table(["user", "roles", "groups", "identities"], users)
            + "<h1>Roles</h1>" + HTML.table(["role", "allows", "denies"], roles)
            + "<p>Read-only: users and roles come from the configuration file.</p>"
    }
}
